// On-disk cache of feature pyramids: one safetensors file per image, keyed
// by a hash of the image file's bytes and the working size, inside a folder
// keyed by a hash of the model weights. Retraining the model or editing an
// image changes the key, so stale features are never read; folders of
// other model versions are removed when a cache is opened.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';

const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex').slice(0, 24);

/**
 * Free space a cache write leaves at least. A cache is optional, so when
 * the disk fills it stops writing pyramids (6 MB each at 384 px: 60 GB for
 * 10,000 images) instead of failing the run that fills it.
 */
const DISK_RESERVE_BYTES = 2 * 1024 ** 3;

export interface CacheOptions {
  /** Keep at least this much free on the cache's disk (default 2 GiB). */
  reserveBytes?: number;
  /** Told once when the cache stops writing pyramids for lack of disk (default: a process warning). */
  onFull?: (message: string) => void;
}

export class FeatureCache {
  /** Set once the disk got too full: pyramids are no longer written. */
  #full = false;

  private constructor(
    readonly dir: string,
    private readonly options: CacheOptions,
  ) {}

  /** Opens `<root>/<hash of modelFile>`, pruning folders of other models. */
  static async open(root: string, modelFile: string, options: CacheOptions = {}): Promise<FeatureCache> {
    const modelKey = sha(await readFile(modelFile));
    await mkdir(root, { recursive: true });
    for (const name of await readdir(root))
      if (name !== modelKey && /^[0-9a-f]{24}$/.test(name))
        await rm(join(root, name), { recursive: true, force: true });
    const dir = join(root, modelKey);
    await mkdir(dir, { recursive: true });
    return new FeatureCache(dir, options);
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

  /** Writes a pyramid, unless that would leave the disk with less than the reserve (then none from now on). */
  async put(key: string, layers: Tensor[]): Promise<void> {
    if (this.#full) return;
    const record = Object.fromEntries(layers.map((t, i) => [`layer${i}`, t]));
    const bytes = E.encodeSafetensors(record);
    const size = bytes.reduce((n, b) => n + b.byteLength, 0);
    const { bavail, bsize } = await statfs(this.dir);
    const free = bavail * bsize;
    if (free - size < (this.options.reserveBytes ?? DISK_RESERVE_BYTES)) {
      this.#full = true;
      const message = `the disk of the feature cache ${this.dir} has ${(free / 1024 ** 3).toFixed(1)} GB free: feature pyramids are no longer cached in this run (results are not affected; free space or pass --no-cache)`;
      if (this.options.onFull) this.options.onFull(message);
      else process.emitWarning(message, { code: 'FEWMARK_CACHE_FULL' });
      return;
    }
    await writeFileAtomic(join(this.dir, `${key}.safetensors`), bytes);
  }

  /** Whether the cache stopped writing pyramids for lack of disk. */
  get full(): boolean {
    return this.#full;
  }

  /** Whether the pyramid of `key` is on disk (without reading it). */
  has(key: string): boolean {
    return existsSync(join(this.dir, `${key}.safetensors`));
  }

  /**
   * A small per-image vector derived from the pyramid (the selection's
   * global embedding), kept beside it: a pool of 10,000 images then needs
   * 10,000 small files to be chosen from, not 60 GB of pyramids.
   * `name` tells derived vectors apart (and changes when their recipe does).
   */
  async getVector(key: string, name: string): Promise<Float32Array | undefined> {
    const path = join(this.dir, `${key}.${name}.f32`);
    if (!existsSync(path)) return undefined;
    const bytes = await readFile(path);
    if (bytes.length === 0 || bytes.length % 4 !== 0) {
      await rm(path, { force: true }); // damaged: recomputed
      return undefined;
    }
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  }

  async putVector(key: string, name: string, vector: Float32Array): Promise<void> {
    await writeFileAtomic(
      join(this.dir, `${key}.${name}.f32`),
      new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength),
    );
  }
}
