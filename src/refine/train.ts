// Training the refinement network: batches of pseudo-labeled images with
// labeled templates in every one, augmentation, disk targets, balanced BCE
// + L1 offsets, AdamW; exact resume from its checkpoint. The loop itself
// (budget, schedule, progress, checkpoints on a timer and on stop) is
// util/training-loop.ts, shared with the extractor.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Module } from '../engine/index.js';
import * as E from '../engine/index.js';
import { removeStaleTemporaries } from '../util/atomic-write.js';
import { Rng } from '../util/random.js';
import { checkResumeSettings, dataKeyOf } from '../util/training-checkpoint.js';
import { type LoopResult, type LoopState, type LoopStep, runTrainingLoop } from '../util/training-loop.js';
import { augmentBatch } from './augment.js';
import {
  loadRefineCheckpoint,
  REFINE_CHECKPOINT_FILE,
  type RefinedMeta,
  saveRefineCheckpoint,
  saveRefined,
} from './checkpoint.js';
import { type RefineConfig, radiusOf } from './config.js';
import { type RefineData, sampleBatch } from './data.js';
import { minimise, refineLoss } from './loss.js';
import { RefineNet } from './model.js';
import { plausibleRegions } from './region.js';
import { makeTargets } from './targets.js';

export interface RefineStepReport extends LoopStep {
  loss: number;
  heatmapLoss: number;
  offsetLoss: number;
}

export interface RefineRun {
  data: RefineData;
  out: string;
  config: RefineConfig;
  /** Where the pseudo-labels came from, for the model's metadata. */
  source: Pick<RefinedMeta, 'landmarks' | 'extractor'>;
  /** The extractor whose weights start the trunk (when config.initFromExtractor). */
  init?: Module;
  resume?: boolean;
  onStep?: (r: RefineStepReport) => void;
  onCheckpoint?: (path: string, step: number) => void;
  /** Polled after every step; true stops the run with a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
}

export type RefineResult = LoopResult;

/** Config keys a resumed run may change: how long it runs, how often it saves, what follows it (rounds, cycles, the fine stage). */
const RESUMABLE_CHANGES = new Set(['steps', 'minutes', 'checkpointMinutes', 'rounds', 'cycles', 'fine']);

/** A checkpoint from before the stem option was removed stores `model.stem: 'strided'`, which is what builds now. */
function withoutRemovedKeys(stored: Record<string, unknown>): Record<string, unknown> {
  const { stem, ...model } = (stored.model ?? {}) as Record<string, unknown>;
  return stem === 'strided' ? { ...stored, model } : stored;
}

const dataKey = (data: RefineData) =>
  dataKeyOf([data.images.shape, data.samples.map((s) => [s.id, s.labeled, s.points, s.weights])]);

export async function trainRefiner(run: RefineRun): Promise<RefineResult> {
  const { config: c, data } = run;
  const size = data.images.shape[2]!;
  if (c.inputSize !== size)
    throw new Error(`trainRefiner: images are ${size} px, config wants ${c.inputSize}`);
  if (data.samples.length !== data.images.shape[0])
    throw new Error(`trainRefiner: ${data.samples.length} samples for ${data.images.shape[0]} images`);
  const landmarks = data.samples[0]?.points.length ?? 0;
  if (landmarks === 0) throw new Error('trainRefiner: no samples or no landmarks');
  await mkdir(run.out, { recursive: true });
  await removeStaleTemporaries(run.out);
  const checkpointPath = join(run.out, REFINE_CHECKPOINT_FILE);
  if (existsSync(checkpointPath) && !run.resume)
    throw new Error(
      `${run.out} already holds a refinement checkpoint: resume it, or train into another folder`,
    );

  E.seed(c.seed);
  const net = { ...c.model, landmarks };
  const model = new RefineNet(net);
  if (c.initFromExtractor && run.init) model.initFrom(run.init);
  const optimizer = new E.AdamW(model.trainable(c.freeze), { lr: c.lr, weightDecay: c.weightDecay });
  const key = dataKey(data);
  let rng = new Rng(c.seed, 6);
  let step = 0;
  let elapsed = 0;
  let totalSteps = c.steps ?? 0;
  if (run.resume && existsSync(checkpointPath)) {
    const ckpt = await loadRefineCheckpoint(checkpointPath);
    checkResumeSettings(
      withoutRemovedKeys(ckpt.trainConfig as Record<string, unknown>),
      c,
      RESUMABLE_CHANGES,
      checkpointPath,
    );
    if (ckpt.progress.dataKey !== key)
      throw new Error(
        `${checkpointPath}: the checkpoint was trained on other images or labels; resume with the same ones or train into another folder`,
      );
    ckpt.restore(model, optimizer);
    ({ step, elapsed } = ckpt.progress);
    // A resumed run may be given more (or fewer) steps; by time, the stored count stands.
    totalSteps = c.steps ?? ckpt.progress.totalSteps;
    rng = Rng.fromState(ckpt.progress.rng);
  }
  const radius = radiusOf(c, size);
  const geometry = { inputSize: size, stride: c.model.outputStride, radius };
  const meta = (at: LoopState): RefinedMeta => ({
    format: 'fewmark-refined/1',
    net,
    inputSize: size,
    radius,
    landmarks: run.source.landmarks,
    vote: c.vote,
    extractor: run.source.extractor,
    templates: data.samples.filter((s) => s.labeled).map((s) => s.id),
    pseudoLabeled: data.samples.filter((s) => !s.labeled).length,
    steps: at.step,
    trainSeconds: at.elapsed,
    regions: plausibleRegions(
      data.samples.map((s) => s.points),
      size,
    ),
  });
  const result = await runTrainingLoop({
    config: c,
    start: { step, totalSteps, elapsed },
    step: (lr) => {
      optimizer.lr = lr;
      const indices = sampleBatch(data.samples, c.batchSize, c.labeledPerBatch, rng);
      const batchSamples = indices.map((i) => data.samples[i]!);
      return E.tidy(() => {
        const images = data.images.indexSelect(0, E.tensor(indices, [indices.length], 'int64'));
        const aug = augmentBatch(
          images,
          batchSamples.map((s) => s.points),
          rng,
          c.augment,
        );
        const targets = makeTargets(aug.points, geometry);
        const weights = batchSamples.flatMap((s) => s.weights);
        const losses = refineLoss(model.trainForward(aug.images, c.freeze), targets, weights, c.offsetWeight);
        return minimise(optimizer, losses);
      });
    },
    save: async (at) => {
      const progress = { ...at, rng: rng.state, lr: optimizer.lr, dataKey: key };
      await saveRefineCheckpoint(checkpointPath, model, optimizer, progress, c);
      await saveRefined(run.out, model, meta(at));
      run.onCheckpoint?.(checkpointPath, at.step);
    },
    onStep: run.onStep,
    shouldStop: run.shouldStop,
  });
  model.dispose();
  optimizer.dispose();
  return result;
}
