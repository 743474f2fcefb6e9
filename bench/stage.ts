// A resumable step of a benchmark: run once, its result kept as JSON, and
// read back from the file on later runs (so a stopped benchmark goes on
// where it was and a report can be rebuilt from what is on disk).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../src/util/atomic-write.js';

/** Runs `make` once; later runs read its result back from `file` (`indent` 0 for large results). */
export async function stage<T>(file: string, make: () => Promise<T>, indent = 1): Promise<T> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as T;
  const value = await make();
  await writeFileAtomic(file, JSON.stringify(value, null, indent));
  return value;
}
