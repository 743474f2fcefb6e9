// A job's result on shared storage: a file (JSON, or binary for a
// Float32Array) holding the content key of the inputs it was made from. Written atomically (temporary file, then
// rename), so a worker killed mid-write leaves no half file, and a job run
// twice, by two workers or after a retry, writes the same file once: the
// second run finds the key in place and does nothing.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';

interface ResultFile<R> {
  key: string;
  result: R;
}

// JSON has no NaN (missing landmarks are NaN): write null, read NaN back.
const nanToNull = (_: string, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v);
const nullToNaN = (_: string, v: unknown) => (v === null ? Number.NaN : v);

/**
 * The result in `path` when it was made from inputs with `key` (any key when
 * not given); undefined when absent or stale. A null in the result reads as NaN.
 */
export async function readResult<R>(path: string, key?: string): Promise<R | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const file = JSON.parse(text, nullToNaN) as ResultFile<R>;
    return key === undefined || file.key === key ? file.result : undefined;
  } catch {
    return undefined; // not ours, or damaged: made again
  }
}

export const hasResult = async (path: string, key: string) => (await readResult(path, key)) !== undefined;

export async function writeResult<R>(path: string, key: string, result: R): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ key, result } satisfies ResultFile<R>, nanToNull));
}

/**
 * A Float32Array result (a similarity row, say) in binary: a JSON first
 * line with the key and the length, then the values' bytes (little-endian,
 * as on every machine fewmark builds for). Exact, and 4 bytes a value.
 */
export async function writeFloat32Result(path: string, key: string, values: Float32Array): Promise<void> {
  const header = Buffer.from(`${JSON.stringify({ key, length: values.length })}\n`);
  await writeFileAtomic(path, [header, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)]);
}

/** The values in `path` when written with `key` (any key when not given); undefined when absent, stale or damaged. */
export async function readFloat32Result(path: string, key?: string): Promise<Float32Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  const eol = bytes.indexOf(10);
  if (eol < 0) return undefined;
  try {
    const header = JSON.parse(bytes.subarray(0, eol).toString('utf8')) as { key: string; length: number };
    const body = bytes.subarray(eol + 1);
    if ((key !== undefined && header.key !== key) || body.length !== header.length * 4) return undefined;
    // A copy: the body need not be 4-byte aligned in the file's buffer.
    return new Float32Array(Uint8Array.from(body).buffer);
  } catch {
    return undefined;
  }
}
