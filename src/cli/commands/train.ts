// `fewmark train`: self-supervised training of the feature extractor on a
// folder of unlabeled images, with checkpoints, --resume and a time budget.
import { readFile } from 'node:fs/promises';
import { loadTrainingImages } from '../../features/load.js';
import { type TrainResult, trainExtractor } from '../../features/train.js';
import { resolveTrainConfig } from '../../features/train-config.js';
import { listImages } from '../../io/folder.js';
import { formatDuration, startProgress } from '../progress.js';

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
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const fromFile = o.config ? JSON.parse(await readFile(o.config, 'utf8')) : {};
  const flags: Record<string, unknown> = {};
  if (o.size !== undefined) flags.inputSize = o.size;
  if (o.batch !== undefined) flags.batchSize = o.batch;
  if (o.seed !== undefined) flags.seed = o.seed;
  if (o.steps !== undefined) {
    flags.steps = o.steps;
    flags.minutes = o.minutes ?? null;
  } else if (o.minutes !== undefined) flags.minutes = o.minutes;
  const config = resolveTrainConfig({ ...fromFile, ...o.overrides, ...flags }, o.config ?? 'options');

  const files = await listImages(o.images);
  const loading = startProgress('loading images', files.length, 5);
  const images = await loadTrainingImages(files, config.inputSize, (done) => loading.update(done));
  loading.stop();

  let stopRequested = false;
  const onSignal = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write(
      '\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n',
    );
  };
  process.on('SIGINT', onSignal);
  // By steps, the bar counts steps; by time budget, it counts seconds.
  const byTime = config.steps === null;
  const bar = startProgress(
    byTime ? 'training (s)' : 'training',
    byTime ? config.minutes! * 60 : config.steps!,
    15,
  );
  try {
    const result = await trainExtractor({
      images,
      out: o.out,
      config,
      resume: o.resume,
      shouldStop: () => stopRequested,
      onStep: (s) =>
        bar.update(
          byTime ? Math.round(s.elapsed) : s.step,
          `step ${s.step} loss ${s.loss.toFixed(3)} [${s.layerLosses.map((l) => l.toFixed(2)).join(' ')}] ` +
            `${s.stepsPerSecond.toFixed(2)} steps/s ETA ${formatDuration(s.etaSeconds)}`,
        ),
      onCheckpoint: (path, step) => process.stderr.write(`\ncheckpoint at step ${step}: ${path}\n`),
    });
    return result;
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
    images.dispose();
  }
}
