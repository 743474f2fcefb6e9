// `extractFeatures` of the public API: fills a model's feature cache for a
// folder of images, so that selection and detection later read the
// pyramids instead of computing them. With `queue`, workers on other
// machines compute them (docs/workers.md); the cache is on shared storage.
import { resolve } from 'node:path';
import { pyramidOf } from '../matching/detect.js';
import { embeddingOf, hasEmbedding } from '../selection/pool-embeddings.js';
import { EXACT_LIMIT } from '../selection/pool-sample.js';
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
  /** Cache only the selection's embeddings, not the pyramids (large pools; default false). */
  embeddingsOnly?: boolean;
}

export interface FeaturesResult {
  /** The cache folder the pyramids are in. */
  cache: string;
  images: number;
  /** Computed by this call (undefined with a queue: the workers know). */
  computed?: number;
}

/**
 * One image's features into the cache unless they are there: the selection's
 * embedding always, the pyramid unless `embeddingsOnly` (6 MB an image at
 * 384 px: a pool of thousands needs only the embeddings to be chosen from).
 * Whether anything was computed.
 */
export async function cacheFeatures(
  model: ExtractorModel,
  file: string,
  embeddingsOnly = false,
): Promise<boolean> {
  const cache = model.cache;
  if (!cache) throw new RangeError(`${model.file}: features need the model's cache`);
  const key = await cache.keyOf(file, model.inputSize);
  const hasPyramid = cache.has(key);
  if ((hasPyramid || embeddingsOnly) && (await hasEmbedding(cache, key))) return false;
  const o = { model: model.network, inputSize: model.inputSize, cache };
  if (!hasPyramid && !embeddingsOnly) {
    const { pyramid } = await pyramidOf(file, o); // written to the cache
    for (const layer of pyramid) layer.dispose();
  }
  await embeddingOf(file, { ...o, keepPyramids: !embeddingsOnly }); // reads the pyramid just written
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
      if (await cacheFeatures(model, f, o.embeddingsOnly)) computed++;
      o.onProgress?.({ phase: 'features', done: i + 1, total: files.length });
    }
    return { cache: model.cache!.dir, images: files.length, computed };
  } finally {
    model.dispose();
  }
}

/**
 * Before choosing from a pool with a queue: the pool's features by the
 * workers, embeddings only above the exact k-medoids limit (what the
 * sampled search reads), pyramids too below it.
 */
export async function poolFeaturesOnQueue(
  modelFile: string,
  files: readonly string[],
  queue: string,
  o: LongCall & { onQueueNote?: (message: string) => void } = {},
): Promise<void> {
  await extractFeatures({
    ...o,
    model: modelFile,
    images: files,
    queue,
    embeddingsOnly: files.length > EXACT_LIMIT.medoids,
  });
}
