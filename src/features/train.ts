// The self-supervised training loop: sample pairs, multi-layer InfoNCE,
// AdamW with warm-up and cosine decay; checkpoints on a timer and on stop,
// exact resume, and a time budget.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { removeStaleTemporaries } from '../util/atomic-write.js';
import { learningRate } from '../util/config.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import { Rng } from '../util/random.js';
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

export interface StepReport {
  step: number;
  totalSteps: number;
  /** Per-layer losses, coarsest first, and their sum. */
  layerLosses: number[];
  loss: number;
  lr: number;
  stepsPerSecond: number;
  elapsed: number;
  etaSeconds: number;
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

export interface TrainResult {
  steps: number;
  totalSteps: number;
  elapsed: number;
  stoppedBy: 'steps' | 'time' | 'signal';
  finalLoss: number;
}

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
      `${run.out} already holds a training checkpoint: pass --resume to continue it, or choose another --out`,
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
  const meta = (): ExtractorMeta => ({ config: c.model, inputSize: c.inputSize, steps: step });
  const cropSize = Math.round((c.inputSize * c.pairs.cropFraction) / 32) * 32;
  const budget = c.minutes === null ? Number.POSITIVE_INFINITY : c.minutes * 60;

  const save = async () => {
    const progress = { step, totalSteps, elapsed, rng: rng.state, lr: optimizer.lr };
    await saveCheckpoint(checkpointPath, model, optimizer, meta(), progress, c);
    await saveExtractor(join(run.out, EXTRACTOR_FILE), model, meta());
    run.onCheckpoint?.(checkpointPath, step);
  };

  let lastSave = elapsed;
  let finalLoss = Number.NaN;
  let stoppedBy: TrainResult['stoppedBy'] = 'steps';
  const recent: number[] = [];
  model.train();
  while (true) {
    if (totalSteps > 0 && step >= totalSteps) break;
    if (elapsed >= budget) {
      stoppedBy = 'time';
      break;
    }
    const t0 = performance.now();
    const progress =
      totalSteps > 0 ? (step - c.warmupSteps) / Math.max(1, totalSteps - c.warmupSteps) : elapsed / budget;
    optimizer.lr = learningRate(c, step, progress);
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
    step++;
    const seconds = (performance.now() - t0) / 1000;
    elapsed += seconds;
    recent.push(seconds);
    if (recent.length > 20) recent.shift();
    const perStep = recent.reduce((a, b) => a + b, 0) / recent.length;
    finalLoss = layerLosses.reduce((a, b) => a + b, 0);
    const remaining = totalSteps > 0 ? (totalSteps - step) * perStep : budget - elapsed;
    run.onStep?.({
      step,
      totalSteps,
      layerLosses,
      loss: finalLoss,
      lr: optimizer.lr,
      stepsPerSecond: 1 / perStep,
      elapsed,
      etaSeconds: Math.max(0, Math.min(remaining, budget - elapsed)),
    });
    await yieldToEventLoop(); // lets a Ctrl-C or SIGTERM reach shouldStop
    if (run.shouldStop?.()) {
      stoppedBy = 'signal';
      break;
    }
    if (elapsed - lastSave >= c.checkpointMinutes * 60) {
      await save();
      lastSave = elapsed;
    }
  }
  await save();
  model.dispose();
  optimizer.dispose();
  return { steps: step, totalSteps, elapsed, stoppedBy, finalLoss };
}
