// Weights on disk in the safetensors format (readable by PyTorch's
// safetensors package): 8-byte little-endian header length, a JSON header
// of {name: {dtype, shape, data_offsets}}, then the raw bytes.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { DType } from './native.js';
import { tensor } from './ops/create.js';
import type { Tensor } from './tensor.js';

const TO_FILE: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  int64: 'I64',
  bool: 'BOOL',
  uint8: 'U8',
};
const FROM_FILE: Record<string, DType> = Object.fromEntries(
  Object.entries(TO_FILE).map(([k, v]) => [v, k as DType]),
);
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, bool: 1, uint8: 1 };

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Encodes tensors (and string metadata) as one safetensors buffer list. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array[] {
  const header: Record<string, Entry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    const d = t.data();
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = {
      dtype: TO_FILE[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const headerBytes = new TextEncoder().encode(json);
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  return [size, headerBytes, ...blobs];
}

export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface Loaded {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(buf: Uint8Array, source = 'buffer'): Loaded {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (buf.length < 8) fail('shorter than its 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > buf.length) fail(`header length ${headerLength} runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLength)));
  } catch {
    return fail('header is not JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors: Record<string, Tensor> = {};
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as Entry;
    const dtype = FROM_FILE[e.dtype] ?? fail(`tensor ${name} has unsupported dtype ${e.dtype}`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype] || dataStart + end > buf.length)
      fail(`tensor ${name}'s byte range [${begin}, ${end}) does not match its shape or the file size`);
    // Copy into an aligned buffer: typed arrays need aligned offsets.
    const bytes = new Uint8Array(buf.subarray(dataStart + begin, dataStart + end));
    const typed =
      dtype === 'float32'
        ? new Float32Array(bytes.buffer)
        : dtype === 'float64'
          ? new Float64Array(bytes.buffer)
          : dtype === 'int64'
            ? new BigInt64Array(bytes.buffer)
            : bytes;
    tensors[name] = tensor(typed, e.shape, dtype);
  }
  return { tensors, metadata };
}

export async function loadSafetensors(path: string): Promise<Loaded> {
  return decodeSafetensors(await readFile(path), path);
}
