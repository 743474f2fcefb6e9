// `select` of the public API: which images of a pool to annotate, best
// first (src/selection; docs/selection.md for which strategy when).
import { imageId } from '../io/folder.js';
import { findImage } from '../io/image-ids.js';
import { DEFAULT_STRATEGY, type Strategy, selectImages } from '../selection/select.js';
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
    const s = await selectImages({
      files,
      budget: o.budget,
      model: model.network,
      inputSize: model.inputSize,
      cache: model.cache,
      strategy: o.strategy ?? DEFAULT_STRATEGY,
      seed: o.seed,
      labeled,
      signal: o.signal,
      onProgress: o.onProgress && ((phase, done, total) => o.onProgress!({ phase, done, total })),
    });
    return {
      strategy: s.strategy,
      ranked: s.ranked.map(({ rank, image, file, score, gain }) => ({ rank, image, file, score, gain })),
      labeled: s.labeled,
      seconds: s.timings.total,
    };
  } finally {
    if (owned) model.dispose();
  }
}
