// A job's result on shared storage: one JSON file holding the content key
// of the inputs it was made from. Written atomically (temporary file, then
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
