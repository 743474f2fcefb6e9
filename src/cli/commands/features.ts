// `fewmark features`: every image's feature pyramid into the model's cache,
// here or, with --queue, on the queue's workers, so that a big pool's
// features are computed on many machines before `fewmark select` reads them.
import { extractFeatures, type FeaturesResult } from '../../api/features.js';
import { type Progress, startProgress } from '../progress.js';
import { extractorPath } from './detect.js';

export interface FeaturesCommandOptions {
  model: string;
  images: string;
  queue?: string;
  embeddingsOnly?: boolean;
}

export async function features(o: FeaturesCommandOptions): Promise<FeaturesResult> {
  let bar: Progress | undefined;
  try {
    return await extractFeatures({
      model: extractorPath(o.model),
      images: o.images,
      queue: o.queue,
      embeddingsOnly: o.embeddingsOnly,
      onQueueNote: (message) => process.stderr.write(`fewmark: ${message}\n`),
      onProgress: ({ phase, done, total }) => {
        bar ??= startProgress(phase, total, 5);
        bar.update(done);
      },
    });
  } finally {
    bar?.stop();
  }
}
