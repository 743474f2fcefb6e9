// On-disk cache of feature pyramids: one safetensors file per image, keyed
// by a hash of the image file's bytes and the working size, inside a folder
// keyed by a hash of the model weights. Retraining the model or editing an
// image changes the key, so stale features are never read; folders of
// other model versions are removed when a cache is opened.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';

const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex').slice(0, 24);

export class FeatureCache {
  private constructor(readonly dir: string) {}

  /** Opens `<root>/<hash of modelFile>`, pruning folders of other models. */
  static async open(root: string, modelFile: string): Promise<FeatureCache> {
    const modelKey = sha(await readFile(modelFile));
    await mkdir(root, { recursive: true });
    for (const name of await readdir(root))
      if (name !== modelKey && /^[0-9a-f]{24}$/.test(name))
        await rm(join(root, name), { recursive: true, force: true });
    const dir = join(root, modelKey);
    await mkdir(dir, { recursive: true });
    return new FeatureCache(dir);
  }

  /** Cache key of an image file at a working size. */
  async keyOf(imageFile: string, inputSize: number): Promise<string> {
    return sha(Buffer.concat([await readFile(imageFile), Buffer.from(`|${inputSize}`)]));
  }

  async get(key: string): Promise<Tensor[] | undefined> {
    const path = join(this.dir, `${key}.safetensors`);
    if (!existsSync(path)) return undefined;
    try {
      const { tensors } = await E.loadSafetensors(path);
      const layers = Object.keys(tensors).sort();
      return layers.map((k) => tensors[k]!);
    } catch {
      await rm(path, { force: true }); // a damaged entry is recomputed
      return undefined;
    }
  }

  async put(key: string, layers: Tensor[]): Promise<void> {
    const record = Object.fromEntries(layers.map((t, i) => [`layer${i}`, t]));
    await E.saveSafetensors(join(this.dir, `${key}.safetensors`), record);
  }
}
