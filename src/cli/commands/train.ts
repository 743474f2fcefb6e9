// `fewmark train`: self-supervised training of the feature extractor on a
// folder of unlabeled images, with checkpoints, --resume and a time budget.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../../features/checkpoint.js';
import { loadTrainingImages } from '../../features/load.js';
import { type TrainResult, trainExtractor } from '../../features/train.js';
import { resolveTrainConfig } from '../../features/train-config.js';
import { readInput } from '../../io/errors.js';
import { listImages } from '../../io/folder.js';
import { parseJson } from '../../io/formats/shared.js';
import { checkOutput } from '../../io/output-check.js';
import { budgetOverrides } from '../../util/config.js';
import { configFromFlags, UsageError } from '../errors.js';
import { startProgress } from '../progress.js';
import { startTrainingRun } from '../training-run.js';

export interface TrainOptions {
  images: string;
  out: string;
  minutes?: number;
  steps?: number;
  size?: number;
  batch?: number;
  seed?: number;
  /** JSON file of config overrides (see src/features/train-config.ts). */
  config?: string;
  /** Overrides given in code, applied over the file's. */
  overrides?: Record<string, unknown>;
  resume?: boolean;
  /** Allow --out inside the images folder. */
  allowInsideImages?: boolean;
}

export async function train(o: TrainOptions): Promise<TrainResult & { signal?: NodeJS.Signals }> {
  const fromFile = o.config
    ? (parseJson((await readInput(o.config, 'config')).toString('utf8'), o.config) as Record<string, unknown>)
    : {};
  const flags: Record<string, unknown> = {};
  if (o.size !== undefined) flags.inputSize = o.size;
  if (o.batch !== undefined) flags.batchSize = o.batch;
  if (o.seed !== undefined) flags.seed = o.seed;
  Object.assign(flags, budgetOverrides(o.steps, o.minutes));
  const config = configFromFlags(
    () => resolveTrainConfig({ ...fromFile, ...o.overrides, ...flags }, o.config ?? 'options'),
    o.config,
  );

  checkOutput({
    path: o.out,
    kind: 'folder',
    inputs: [o.images, o.config],
    imageFolders: [o.images],
    allowInsideImages: o.allowInsideImages,
  });
  if (o.resume && !existsSync(join(o.out, CHECKPOINT_FILE)))
    throw new UsageError(
      `nothing to resume: ${o.out} holds no training checkpoint (run without --resume to start)`,
    );
  if (!o.resume && existsSync(join(o.out, CHECKPOINT_FILE)))
    throw new UsageError(
      `${o.out} already holds a training checkpoint: pass --resume to continue it, or choose another --out`,
    );
  const files = await listImages(o.images);
  const loading = startProgress('loading images', files.length, 5);
  const images = await loadTrainingImages(files, config.inputSize, (done) => loading.update(done));
  loading.stop();

  const run = startTrainingRun('training', config);
  try {
    const result = await trainExtractor({
      images,
      out: o.out,
      config,
      resume: o.resume,
      shouldStop: run.shouldStop,
      onStep: (s) =>
        run.step(s, `loss ${s.loss.toFixed(3)} [${s.layerLosses.map((l) => l.toFixed(2)).join(' ')}]`),
      onCheckpoint: run.onCheckpoint,
    });
    return { ...result, signal: run.stopSignal() };
  } finally {
    run.end();
    images.dispose();
  }
}
