// The similarity matrix kept beside the feature cache: recomputing it is
// the slow part of selection (tens of seconds for 150 images), and a user
// re-runs select with another budget or strategy on the same pool. The key
// covers everything the matrix depends on: the model (the cache folder is
// per model), every pool image's bytes and order, the working size, the key
// point options, the direction and the grid stride.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from '../engine/index.js';
import type { FeatureCache } from '../features/cache.js';
import type { SimilarityMatrix } from './search.js';

export interface MatrixKeyParts {
  files: string[];
  inputSize: number;
  keypoints: unknown;
  direction: string;
  gridStride: number;
}

export async function matrixKey(cache: FeatureCache, parts: MatrixKeyParts): Promise<string> {
  const hash = createHash('sha256');
  for (const file of parts.files) hash.update(`${await cache.keyOf(file, parts.inputSize)}\n`);
  hash.update(JSON.stringify([parts.inputSize, parts.keypoints, parts.direction, parts.gridStride]));
  return hash.digest('hex').slice(0, 24);
}

const pathOf = (cache: FeatureCache, key: string) => join(cache.dir, `similarity-${key}.safetensors`);

export async function loadMatrix(cache: FeatureCache, key: string): Promise<SimilarityMatrix | undefined> {
  const path = pathOf(cache, key);
  if (!existsSync(path)) return undefined;
  try {
    const { tensors } = await E.loadSafetensors(path);
    const t = tensors.r!;
    const [rows, candidates] = t.shape as [number, number];
    const values = Float32Array.from(t.data() as Float32Array);
    t.dispose();
    return { rows, candidates, values };
  } catch {
    await rm(path, { force: true }); // a damaged entry is recomputed
    return undefined;
  }
}

export async function saveMatrix(cache: FeatureCache, key: string, m: SimilarityMatrix): Promise<void> {
  const t = E.tensor(m.values, [m.rows, m.candidates]);
  try {
    await E.saveSafetensors(pathOf(cache, key), { r: t });
  } finally {
    t.dispose();
  }
}
