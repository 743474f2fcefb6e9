// Detections kept on disk as they are found, one small file per image, so
// a long `detect` (10,000 images take minutes to hours) that is stopped or
// killed goes on where it was when run again with the same inputs. Each
// file carries a content key (model weights, templates and options, image
// bytes): a changed input is detected again, never read stale.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { imageId } from '../io/folder.js';
import type { Annotations } from '../io/types.js';
import type { Detection, Fusion } from '../matching/detect.js';
import { readResult, writeResult } from '../util/result-file.js';
import { fileKey, hashOf, modelKey } from './content-key.js';
import type { Model } from './models.js';

/** What every detection of a run depends on besides the image. */
export async function runKeyOf(
  model: Model,
  o: { fine?: boolean; labels?: Annotations; templateFiles?: string[]; fusion: Fusion; subpixel: boolean },
): Promise<string> {
  if (model.kind === 'refined') return hashOf(await modelKey(model.dir, { fine: o.fine }));
  const inputs = [await modelKey(model.file), JSON.stringify(o.labels ?? null), o.fusion, String(o.subpixel)];
  for (const f of o.templateFiles ?? []) inputs.push(await fileKey(f));
  return hashOf(...inputs);
}

export class DetectionParts {
  /** Images found already in the folder by this run (read back, not detected again). */
  reused = 0;

  constructor(
    readonly dir: string,
    private readonly runKey: string,
  ) {}

  private fileOf = (file: string) => join(this.dir, `${imageId(file)}.json`);

  /** The image's detection, from its part when the inputs are the same, else found and kept. */
  async detect(file: string, find: () => Promise<Detection>): Promise<Detection> {
    const key = hashOf(this.runKey, await fileKey(file));
    const kept = await readResult<Detection>(this.fileOf(file), key);
    if (kept) {
      this.reused++;
      return { ...kept, id: imageId(file), file };
    }
    const found = await find();
    await writeResult(this.fileOf(file), key, found);
    return found;
  }

  /** The parts of `files`, killed writes' temporary files, then the folder when nothing else is in it. */
  async remove(files: readonly string[]): Promise<void> {
    for (const f of files) await rm(this.fileOf(f), { force: true });
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const n of names)
      if (/^\..+\.json\.\d+\.\d+\.tmp$/.test(n)) await rm(join(this.dir, n), { force: true });
    await rmdir(this.dir).catch(() => {});
  }
}
