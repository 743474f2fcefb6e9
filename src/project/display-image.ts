// What the browser is shown: every image (DICOM, 16-bit TIFF/PNG, BMP,
// JPEG...) as an 8-bit grey PNG, windowed the way fewmark reads it, cached
// under cache/display/ and remade when the source file changes. The cache
// also records what decoding learned that the header did not give: the
// pixel spacing a DICOM file carries.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, ioReason } from '../io/errors.js';
import type { Spacing } from '../io/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { convertInWorker } from './display-convert.js';
import { fileNameOfId, SUBDIRS } from './paths.js';

export interface DisplayInfo {
  width: number;
  height: number;
  bitDepth: number;
  spacing?: Spacing;
}

interface CacheMeta extends DisplayInfo {
  /** Source file size and modification time the PNG was made from. */
  size: number;
  mtimeMs: number;
}

export interface DisplayImage {
  png: string;
  info: DisplayInfo;
}

/** Cache paths of an image id. */
function cachePaths(projectDir: string, id: string) {
  const base = join(projectDir, SUBDIRS.cache, fileNameOfId(id));
  return { png: `${base}.png`, meta: `${base}.json` };
}

async function cachedMeta(path: string): Promise<CacheMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as CacheMeta;
  } catch {
    return undefined;
  }
}

/** What an earlier conversion learned about an image, without converting it now. */
export async function cachedDisplayInfo(projectDir: string, id: string): Promise<DisplayInfo | undefined> {
  const meta = await cachedMeta(cachePaths(projectDir, id).meta);
  if (!meta) return undefined;
  const { size: _, mtimeMs: __, ...info } = meta;
  return info;
}

/** The display PNG of a source image, made on first use, in a worker thread (display-convert.ts). */
export async function displayImage(projectDir: string, id: string, source: string): Promise<DisplayImage> {
  const paths = cachePaths(projectDir, id);
  const s = await stat(source).catch((err) => {
    throw new DataError(source, `cannot read image: ${ioReason(err)}`);
  });
  const meta = await cachedMeta(paths.meta);
  const png = await stat(paths.png).catch(() => undefined);
  if (meta && png && meta.size === s.size && meta.mtimeMs === s.mtimeMs) {
    const { size: _, mtimeMs: __, ...info } = meta;
    return { png: paths.png, info };
  }
  const { png: bytes, ...info } = await convertInWorker(source);
  // PNG first, then the meta that vouches for it: a crash in between only
  // costs a conversion next time. (A cache needs no folder flush.)
  await writeFileAtomic(paths.png, bytes);
  await writeFileAtomic(paths.meta, JSON.stringify({ ...info, size: s.size, mtimeMs: s.mtimeMs }));
  return { png: paths.png, info };
}
