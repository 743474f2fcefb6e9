// Training the feature extractor: sample pairs, multi-layer InfoNCE, AdamW;
// exact resume from its checkpoint. The loop itself (budget, schedule,
// progress, checkpoints on a timer and on stop) is util/training-loop.ts,
// shared with the refiner.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { removeStaleTemporaries } from '../util/atomic-write.js';
import { Rng } from '../util/random.js';
import { type LoopResult, type LoopStep, runTrainingLoop } from '../util/training-loop.js';
import {
  CHECKPOINT_FILE,
  EXTRACTOR_FILE,
  type ExtractorMeta,
  loadCheckpoint,
  saveCheckpoint,
  saveExtractor,
} from './checkpoint.js';
import { infoNceLosses } from './loss.js';
import { FeatureExtractor, OUTPUT_STRIDES } from './model.js';
import { samplePairs } from './pairs.js';
import type { TrainConfig } from './train-config.js';

export interface StepReport extends LoopStep {
  /** Per-layer losses, coarsest first, and their sum. */
  layerLosses: number[];
  loss: number;
}

export interface TrainRun {
  /** [N, 1, S, S] images in [0, 1] at the config's input size. */
  images: Tensor;
  out: string;
  config: TrainConfig;
  resume?: boolean;
  onStep?: (r: StepReport) => void;
  onCheckpoint?: (path: string, step: number) => void;
  /** Polled after every step; true stops the run with a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
}

export type TrainResult = LoopResult;

export async function trainExtractor(run: TrainRun): Promise<TrainResult> {
  const { config: c, images } = run;
  if (images.shape[2] !== c.inputSize || images.shape[3] !== c.inputSize)
    throw new Error(
      `trainExtractor: images are ${images.shape.slice(2).join('x')}, config wants ${c.inputSize}`,
    );
  const n = images.shape[0]!;
  await mkdir(run.out, { recursive: true });
  await removeStaleTemporaries(run.out);
  const checkpointPath = join(run.out, CHECKPOINT_FILE);
  if (existsSync(checkpointPath) && !run.resume)
    throw new Error(
      `${run.out} already holds a training checkpoint: resume it, or train into another folder`,
    );

  E.seed(c.seed);
  const model = new FeatureExtractor(c.model);
  const optimizer = new E.AdamW(model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
  let rng = new Rng(c.seed);
  let step = 0;
  let elapsed = 0;
  let totalSteps = c.steps ?? 0;
  if (run.resume && existsSync(checkpointPath)) {
    const ckpt = await loadCheckpoint(checkpointPath);
    ckpt.restore(model, optimizer);
    ({ step, elapsed } = ckpt.progress);
    // A resumed run may be given more (or fewer) steps; by time, the stored count stands.
    totalSteps = c.steps ?? ckpt.progress.totalSteps;
    rng = Rng.fromState(ckpt.progress.rng);
  }
  const meta = (steps: number): ExtractorMeta => ({ config: c.model, inputSize: c.inputSize, steps });
  const cropSize = Math.round((c.inputSize * c.pairs.cropFraction) / 32) * 32;

  model.train();
  const result = await runTrainingLoop({
    config: c,
    start: { step, totalSteps, elapsed },
    step: (lr) => {
      optimizer.lr = lr;
      const indices = Array.from({ length: c.batchSize }, () => rng.int(0, n));
      const layerLosses = E.tidy(() => {
        const batch = samplePairs(images, indices, rng, c.pairs);
        const whole = model.forward(batch.whole);
        const crop = model.forward(batch.crop);
        const losses = infoNceLosses(
          whole,
          crop,
          batch.queryInCrop,
          batch.queryInWhole,
          OUTPUT_STRIDES,
          cropSize,
          c.loss,
        );
        const total = losses.reduce((a, b) => a.add(b));
        optimizer.zeroGrad();
        total.backward();
        optimizer.step();
        return losses.map((l) => l.item());
      });
      return { layerLosses, loss: layerLosses.reduce((a, b) => a + b, 0) };
    },
    save: async (at) => {
      const progress = { ...at, rng: rng.state, lr: optimizer.lr };
      await saveCheckpoint(checkpointPath, model, optimizer, meta(at.step), progress, c);
      await saveExtractor(join(run.out, EXTRACTOR_FILE), model, meta(at.step));
      run.onCheckpoint?.(checkpointPath, at.step);
    },
    onStep: run.onStep,
    shouldStop: run.shouldStop,
  });
  model.dispose();
  optimizer.dispose();
  return result;
}
