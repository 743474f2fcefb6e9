// `select` of the public API: which images of a pool to annotate, best
// first (src/selection; docs/selection.md for which strategy when).

import { resolve } from 'node:path';
import { imageId } from '../io/folder.js';
import { findImage } from '../io/image-ids.js';
import {
  DEFAULT_STRATEGY,
  type SampledEstimate,
  type Scale,
  type Strategy,
  selectImages,
} from '../selection/select.js';
import { poolFeaturesOnQueue } from './features.js';
import { type ImageSource, imageFiles } from './images.js';
import { type Model, modelOf } from './models.js';
import { checkAborted, type LongCall } from './progress.js';

export interface SelectOptions extends LongCall {
  /** The pool: a folder or a list of image files. */
  images: ImageSource;
  /** A model folder from training, or one loadModel returned. */
  model: Model | string;
  /** How many images to choose (besides those labeled already). */
  budget: number;
  /** Default 'medoids' (k-medoids on the global embeddings; one image: the SCP's pick). */
  strategy?: Strategy;
  /** Images annotated already (ids or files of the pool): they count as chosen. */
  labeled?: readonly string[];
  /** Seed of the random strategies and baselines. */
  seed?: number;
  /**
   * 'auto' (default): exact up to 2,000 images (k-medoids) or 200 (the SCP),
   * sampled above (docs/scale.md); 'exact' or 'sampled' to force one.
   */
  scale?: Scale;
  /** `redis://HOST[:PORT]`: the SCP's similarity columns on that queue's workers (docs/workers.md). */
  queue?: string;
}

export interface ChosenImage {
  rank: number;
  image: string;
  file: string;
  /** SCP strategies: R of the first `rank` images and the gain of this one; null otherwise. */
  score: number | null;
  gain: number | null;
}

export interface SelectResult {
  strategy: Strategy;
  /** Whether the whole pool was scored or a sample of it. */
  scale: 'exact' | 'sampled';
  /** Sampled: the set score (C or R) with its 95% interval. */
  estimate: SampledEstimate | null;
  ranked: ChosenImage[];
  /** The labeled images the choice was built around (ids). */
  labeled: string[];
  seconds: number;
}

export async function select(o: SelectOptions): Promise<SelectResult> {
  checkAborted(o.signal);
  const { files, name } = await imageFiles(o.images);
  const byId = new Map(files.map((f) => [imageId(f), f]));
  const labeled = (o.labeled ?? []).map((image) => {
    const file = findImage(image, byId);
    if (!file) throw new RangeError(`select: labeled image '${image}' is not in ${name}`);
    return files.indexOf(file);
  });
  const { model, owned } = await modelOf(o.model);
  try {
    if (model.kind !== 'extractor')
      throw new RangeError('select: needs a model from training (a feature extractor), not a refined model');
    if (o.queue) {
      if (!model.cache)
        throw new RangeError("select: a queue needs the model's feature cache (the workers write there)");
      await poolFeaturesOnQueue(model.file, files, o.queue, { signal: o.signal, onProgress: o.onProgress });
    }
    const s = await selectImages({
      files,
      budget: o.budget,
      model: model.network,
      inputSize: model.inputSize,
      cache: model.cache,
      strategy: o.strategy ?? DEFAULT_STRATEGY,
      seed: o.seed,
      labeled,
      scale: o.scale,
      ...(o.queue ? { queue: { url: o.queue, modelFile: resolve(model.file) } } : {}),
      signal: o.signal,
      onProgress: o.onProgress && ((phase, done, total) => o.onProgress!({ phase, done, total })),
    });
    return {
      strategy: s.strategy,
      ranked: s.ranked.map(({ rank, image, file, score, gain }) => ({ rank, image, file, score, gain })),
      labeled: s.labeled,
      scale: s.scale,
      estimate: s.estimate,
      seconds: s.timings.total,
    };
  } finally {
    if (owned) model.dispose();
  }
}
