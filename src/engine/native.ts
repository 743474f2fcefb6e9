// Loads the N-API addon (native/) and describes its surface. Nothing else in
// fewmark touches the addon directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setWaitPolicy } from './wait-policy.js';

export type DType = 'float32' | 'float64' | 'int64' | 'bool' | 'uint8';

export interface TensorInfo {
  id: number;
  dtype: DType;
  shape: number[];
  nbytes: number;
}

export interface KeypointOptions {
  method: 'sift' | 'orb' | 'akaze';
  maxFeatures?: number;
  contrastThreshold?: number;
  edgeThreshold?: number;
  sigma?: number;
  octaveLayers?: number;
  scaleFactor?: number;
  levels?: number;
  fastThreshold?: number;
  patchSize?: number;
  threshold?: number;
  octaves?: number;
}

/** A value an op accepts: tensors travel as objects with an `id`. */
export type OpArg =
  | { id: number }
  | number
  | boolean
  | string
  | null
  | undefined
  | number[]
  | { id: number }[];

export interface NativeAddon {
  createTensor(dtype: DType, shape: number[], data: ArrayBufferView): TensorInfo;
  op(name: string, args: OpArg[]): TensorInfo[];
  read(id: number): ArrayBuffer;
  release(id: number): void;
  externalMemory(deltaBytes: number): number;
  stats(): { liveTensors: number; liveBytes: number };
  setGradEnabled(enabled: boolean): boolean;
  threads(n?: number): number;
  seed(seed: number): void;
  opNames(): string[];
  config(): string;
  decodeImage(bytes: Uint8Array): {
    tensor: TensorInfo;
    bitDepth: number;
    channels: number;
    warnings: string;
  };
  encodeImage(id: number, ext: string): Buffer;
  resizeImage(id: number, width: number, height: number, interpolation: string): TensorInfo;
  detectKeypoints(id: number, options: KeypointOptions): TensorInfo;
}

const APT_LINE = 'apt-get install -y libtorch-dev libopenblas0-pthread libopencv-dev';

function findAddon(): string | undefined {
  // Works from src/engine (tsx) and from dist/src/engine (compiled).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'native', 'build', 'Release', 'fewmark.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

function load(): NativeAddon {
  setWaitPolicy();
  const path = findAddon();
  if (!path) {
    throw new Error(
      `fewmark's native engine is not built (native/build/Release/fewmark.node is missing).\n` +
        `Possible solutions:\n  - install the libraries: ${APT_LINE}\n  - then build it: npm run build:native`,
    );
  }
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = /cannot open shared object/.test(message)
      ? `libtorch or OpenCV is missing: ${APT_LINE}`
      : 'rebuild it: npm run build:native';
    throw new Error(
      `fewmark's native engine at ${path} failed to load: ${message}\nPossible solution: ${hint}`,
    );
  }
}

export const native: NativeAddon = load();

// libtorch starts with one thread inside Node; use every core unless told.
native.threads(Number(process.env.FEWMARK_THREADS) || availableParallelism());
