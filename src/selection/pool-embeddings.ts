// The global embedding of every pool image, streamed: one pyramid in memory
// at a time, each embedding kept in the feature cache beside (or instead
// of) the pyramid, so choosing from a pool needs memory for the embeddings
// only (N x 512 floats: 20 MB at 10,000 images) and a second run reads
// N small files instead of running the extractor again.
import type { FeatureCache } from '../features/cache.js';
import { loadWorkingImage } from '../features/load.js';
import type { FeatureExtractor } from '../features/model.js';
import { extractPyramid } from '../features/pyramid.js';
import type { PointSet } from './baselines.js';
import { globalEmbedding } from './embeddings.js';

/** The cache entry's name; change it when globalEmbedding's recipe changes. */
const EMBEDDING_ENTRY = 'embedding-v1';

export interface PoolEmbeddingOptions {
  model: FeatureExtractor;
  inputSize: number;
  cache?: FeatureCache;
  /**
   * Also write each computed pyramid to the cache (default true). Off for
   * large pools: 6 MB per image at 384 px is 60 GB at 10,000 images.
   */
  keepPyramids?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Whether the cache holds the embedding of `key`. */
export async function hasEmbedding(cache: FeatureCache, key: string): Promise<boolean> {
  return (await cache.getVector(key, EMBEDDING_ENTRY)) !== undefined;
}

/** One image's embedding: from the cache, else from its (cached or new) pyramid. */
export async function embeddingOf(file: string, o: PoolEmbeddingOptions): Promise<Float32Array> {
  const key = o.cache ? await o.cache.keyOf(file, o.inputSize) : '';
  const cached = o.cache ? await o.cache.getVector(key, EMBEDDING_ENTRY) : undefined;
  if (cached) return cached;
  let pyramid = o.cache ? await o.cache.get(key) : undefined;
  if (!pyramid) {
    const image = await loadWorkingImage(file, o.inputSize);
    pyramid = extractPyramid(o.model, image.input);
    image.input.dispose();
    if (o.cache && o.keepPyramids !== false) await o.cache.put(key, pyramid);
  }
  try {
    const embedding = globalEmbedding(pyramid);
    if (o.cache) await o.cache.putVector(key, EMBEDDING_ENTRY, embedding);
    return embedding;
  } finally {
    for (const layer of pyramid) layer.dispose();
  }
}

/** Every file's embedding as one point set, in file order. */
export async function poolEmbeddings(files: readonly string[], o: PoolEmbeddingOptions): Promise<PointSet> {
  let values: Float32Array | undefined;
  let dim = 0;
  for (const [i, file] of files.entries()) {
    o.signal?.throwIfAborted();
    const e = await embeddingOf(file, o);
    if (!values) {
      dim = e.length;
      values = new Float32Array(files.length * dim);
    }
    if (e.length !== dim) throw new Error(`${file}: embedding has ${e.length} values, the first had ${dim}`);
    values.set(e, i * dim);
    o.onProgress?.(i + 1, files.length);
  }
  return { count: files.length, dim, values: values ?? new Float32Array(0) };
}
