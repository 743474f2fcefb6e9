// Writes that survive a crash once they return. src/util/atomic-write.ts
// already flushes the temporary file before renaming it, but not the
// folder: after a power loss the rename itself can be lost, so an
// annotation the server had acknowledged could come back as its previous
// version. Here the folder is flushed too, and the previous version can be
// kept (hard-linked, so keeping it costs no copy).
import { link, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

/** Flushes a folder's entries (renames, new files) to disk. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` atomically and durably: the atomic write (a
 * flushed temporary file renamed over `path`), then the folder flushed.
 */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(path, data);
  await syncDirectory(dirname(path));
}

/**
 * Keeps the current content of `path` as `historyDir/<version>.json` (a
 * hard link: the next rename over `path` leaves it intact) and removes the
 * oldest kept versions beyond `keep`. Nothing happens when `path` does not
 * exist yet. Versions are compared as numbers.
 */
export async function keepPrevious(path: string, historyDir: string, version: number, keep: number) {
  await mkdir(historyDir, { recursive: true });
  const target = join(historyDir, `${version}.json`);
  try {
    await link(path, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    // EEXIST: kept already by a write that crashed before its rename.
    if (code !== 'EEXIST') throw err;
  }
  const versions = (await readdir(historyDir))
    .map((name) => /^(\d+)\.json$/.exec(name)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  for (const v of versions.slice(0, Math.max(0, versions.length - keep)))
    await unlink(join(historyDir, `${v}.json`)).catch(() => {});
}
