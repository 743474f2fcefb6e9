// `train` of the public API: the self-supervised feature extractor on a
// folder (or list) of unlabeled images, written to `out` with checkpoints;
// an AbortSignal stops it after the current step with a checkpoint that
// `resume: true` continues.
import { loadTrainingImages } from '../features/load.js';
import { type TrainResult, trainExtractor } from '../features/train.js';
import { resolveTrainConfig } from '../features/train-config.js';
import { budgetOverrides } from '../util/config.js';
import { type ImageSource, imageFiles } from './images.js';
import type { LongCall } from './progress.js';

export type { TrainResult } from '../features/train.js';

export interface TrainOptions extends LongCall {
  images: ImageSource;
  /** The model folder to write. */
  out: string;
  /** Budget: training minutes and/or steps (the first reached ends it; default: src/features/train-config.ts). */
  minutes?: number;
  steps?: number;
  /** Working size in pixels, batch size, seed and any other setting of src/features/train-config.ts. */
  config?: Record<string, unknown>;
  /** Continue the checkpoint in `out`. */
  resume?: boolean;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const config = resolveTrainConfig({ ...o.config, ...budgetOverrides(o.steps, o.minutes) }, 'train options');
  const { files } = await imageFiles(o.images);
  const images = await loadTrainingImages(files, config.inputSize, (done) =>
    o.onProgress?.({ phase: 'loading images', done, total: files.length }),
  );
  try {
    o.signal?.throwIfAborted();
    return await trainExtractor({
      images,
      out: o.out,
      config,
      resume: o.resume,
      shouldStop: () => o.signal?.aborted === true,
      onStep: (s) => o.onProgress?.({ phase: 'training', done: s.step, total: s.totalSteps }),
    });
  } finally {
    images.dispose();
  }
}
