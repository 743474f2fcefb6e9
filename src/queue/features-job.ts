// The `features` job: one image's feature pyramid into the model's cache
// (features/cache.ts), on shared storage. The cache entry's name is the
// content key (image bytes and working size, in a folder named by the
// weights), and it is written atomically, so a job done twice writes it once.
import { dirname, join } from 'node:path';
import { hashOf } from '../api/content-key.js';
import { cacheFeatures } from '../api/features.js';
import type { LongCall } from '../api/progress.js';
import { FeatureCache } from '../features/cache.js';
import type { JobKind } from './kinds.js';
import { runOnQueue } from './run.js';

export interface FeaturesJob {
  /** The extractor file (absolute). */
  model: string;
  /** The image (absolute). */
  file: string;
  /** Only the selection's embedding, not the pyramid. */
  embeddingsOnly?: boolean;
}

export const featuresJob: JobKind<FeaturesJob> = {
  async run(input, { models }) {
    const { model } = await models.model({ model: input.model });
    if (model.kind !== 'extractor') throw new Error(`${input.model}: not a trained extractor`);
    return (await cacheFeatures(model, input.file, input.embeddingsOnly))
      ? 'computed'
      : 'already in the cache';
  },
};

/** Every image's pyramid into the cache by the queue's workers; returns the cache folder. */
export async function featuresOnQueue(
  queue: string,
  model: string,
  files: string[],
  o: LongCall & { onQueueNote?: (message: string) => void; embeddingsOnly?: boolean } = {},
): Promise<string> {
  // Opening the cache here makes its folder (and prunes other models') once, before the workers.
  const cache = await FeatureCache.open(join(dirname(model), 'cache'), model);
  await runOnQueue<FeaturesJob>(
    queue,
    'features',
    files.map((file) => ({
      id: hashOf(model, file, o.embeddingsOnly ? 'embeddings' : 'pyramids'),
      data: { model, file, embeddingsOnly: o.embeddingsOnly === true },
      label: file,
    })),
    {
      signal: o.signal,
      onNote: o.onQueueNote,
      onProgress: (done, total) => o.onProgress?.({ phase: 'features', done, total }),
    },
  );
  return cache.dir;
}
