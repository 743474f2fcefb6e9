// Writes that never leave a half-written file: write a temporary file in
// the same folder, flush it to disk, then rename it over the target.
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function toChunks(data: string | Uint8Array | Uint8Array[]): Uint8Array[] {
  if (typeof data === 'string') return [Buffer.from(data, 'utf8')];
  return Array.isArray(data) ? data : [data];
}

let counter = 0;

const TEMP_NAME = /^\..+\.(\d+)\.\d+\.tmp$/;

/** Unique per process and call, so concurrent writes to one path never share a temporary file. */
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${++counter}.tmp`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const chunks = toChunks(data);
  try {
    const fh = await open(tmp, 'w');
    try {
      for (const chunk of chunks) await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that killed writes left in `dir` (a 23 MB
 * checkpoint's, say): those whose writer process no longer runs. Writes in
 * progress, this process's or another's, are left alone. Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    const pid = Number(TEMP_NAME.exec(name)?.[1]);
    return pid > 0 && pid !== process.pid && !processAlive(pid);
  });
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale;
}
