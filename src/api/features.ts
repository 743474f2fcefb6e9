// `extractFeatures` of the public API: fills a model's feature cache for a
// folder of images, so that selection and detection later read the
// pyramids instead of computing them. With `queue`, workers on other
// machines compute them (docs/workers.md); the cache is on shared storage.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FeatureCache } from '../features/cache.js';
import { pyramidOf } from '../matching/detect.js';
import { type ImageSource, imageFiles } from './images.js';
import { type ExtractorModel, extractorFile, loadModel } from './models.js';
import { checkAborted, type LongCall } from './progress.js';

export interface FeaturesOptions extends LongCall {
  /** A model folder from training (or its extractor file). */
  model: string;
  images: ImageSource;
  /** `redis://HOST[:PORT]`: workers of that queue extract the features (docs/workers.md). */
  queue?: string;
  /** With `queue`: notes for the user, such as that no worker is connected yet. */
  onQueueNote?: (message: string) => void;
}

export interface FeaturesResult {
  /** The cache folder the pyramids are in. */
  cache: string;
  images: number;
  /** Computed by this call (undefined with a queue: the workers know). */
  computed?: number;
}

/** Whether a pyramid is in the cache, without reading it (the cache's file name for a key, features/cache.ts). */
const isCached = (cache: FeatureCache, key: string) => existsSync(join(cache.dir, `${key}.safetensors`));

/** One image's pyramid into the cache unless it is there: whether it was computed. */
export async function cacheFeatures(model: ExtractorModel, file: string): Promise<boolean> {
  if (!model.cache) throw new RangeError(`${model.file}: features need the model's cache`);
  const key = await model.cache.keyOf(file, model.inputSize);
  if (isCached(model.cache, key)) return false;
  const { pyramid } = await pyramidOf(file, {
    model: model.network,
    inputSize: model.inputSize,
    cache: model.cache,
  });
  for (const layer of pyramid) layer.dispose();
  return true;
}

export async function extractFeatures(o: FeaturesOptions): Promise<FeaturesResult> {
  checkAborted(o.signal);
  const { files } = await imageFiles(o.images);
  const file = extractorFile(o.model);
  if (o.queue) {
    const { featuresOnQueue } = await import('../queue/features-job.js');
    const cache = await featuresOnQueue(
      o.queue,
      resolve(file),
      files.map((f) => resolve(f)),
      o,
    );
    return { cache, images: files.length };
  }
  const model = await loadModel(file);
  if (model.kind !== 'extractor') throw new RangeError(`${o.model}: features need a trained extractor`);
  try {
    let computed = 0;
    for (const [i, f] of files.entries()) {
      checkAborted(o.signal);
      if (await cacheFeatures(model, f)) computed++;
      o.onProgress?.({ phase: 'features', done: i + 1, total: files.length });
    }
    return { cache: model.cache!.dir, images: files.length, computed };
  } finally {
    model.dispose();
  }
}
