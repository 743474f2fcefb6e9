// Training the fine stage: each batch element is one landmark of one image,
// a crop around its label with the centre moved as a first stage's error
// would move it, rotated and scaled (the label moves by the same map,
// exactly: crops.ts), intensity-jittered; disk targets and the balanced BCE
// + L1 offset loss of the first stage on that landmark's channel alone.
// Labeled crops in every batch, weighted up; the rest from pseudo-labels.
// The loop (budget, schedule, checkpoints, resume, stop) is util's.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from '../../engine/index.js';
import { isMissing, MISSING, type Point } from '../../io/types.js';
import { Rng } from '../../util/random.js';
import { checkResumeSettings, dataKeyOf } from '../../util/training-checkpoint.js';
import { type LoopResult, type LoopState, runTrainingLoop } from '../../util/training-loop.js';
import { jitterIntensity } from '../augment.js';
import { minimise, refineLoss } from '../loss.js';
import { RefineNet } from '../model.js';
import { makeTargets } from '../targets.js';
import type { RefineStepReport } from '../train.js';
import type { FineConfig } from './config.js';
import { type CropPlace, cropImage, toCrop } from './crops.js';
import type { FineImage } from './images.js';
import {
  FINE_CHECKPOINT_FILE,
  type FineMeta,
  loadFineCheckpoint,
  saveFine,
  saveFineCheckpoint,
} from './model-file.js';

export interface FineSample {
  id: string;
  image: FineImage;
  /** Fine pixels; NaN for missing. */
  points: Point[];
  labeled: boolean;
}

export interface FineRun {
  samples: FineSample[];
  landmarks: string[];
  /** The refined model's folder: fine.safetensors and its checkpoint go there. */
  out: string;
  config: FineConfig;
  seed: number;
  checkpointMinutes: number;
  resume?: boolean;
  onStep?: (r: RefineStepReport) => void;
  onCheckpoint?: (path: string, step: number) => void;
  shouldStop?: () => boolean;
}

/** Fine-config keys a resumed run may change. */
const RESUMABLE_CHANGES = new Set(['steps', 'minutes', 'minConfidence', 'vote', 'enabled']);

/** A checkpoint from before the re-centred extra passes were dropped stores `passes: 1`, which is what runs now. */
function withoutRemovedKeys(stored: Record<string, unknown>): Record<string, unknown> {
  const { passes, ...rest } = stored;
  return passes === 1 ? rest : stored;
}

const dataKey = (samples: FineSample[]) =>
  dataKeyOf(samples.map((s) => [s.id, s.labeled, s.points, s.image.pixels.shape]));

/** The (sample, landmark) pairs a batch draws from: labeled ones and pseudo-labeled ones. */
function pairPools(samples: FineSample[]): [number, number][][] {
  const labeled: [number, number][] = [];
  const pseudo: [number, number][] = [];
  samples.forEach((s, i) => {
    s.points.forEach((p, k) => {
      if (!isMissing(p)) (s.labeled ? labeled : pseudo).push([i, k]);
    });
  });
  if (labeled.length + pseudo.length === 0) throw new Error('trainFineStage: no landmark to train on');
  return [labeled, pseudo];
}

export async function trainFineStage(run: FineRun): Promise<LoopResult> {
  const { config: c, samples } = run;
  const l = run.landmarks.length;
  const checkpointPath = join(run.out, FINE_CHECKPOINT_FILE);
  if (existsSync(checkpointPath) && !run.resume)
    throw new Error(
      `${run.out} already holds a fine-stage checkpoint: resume it, or train into another folder`,
    );
  const [labeled, pseudo] = pairPools(samples);
  const fromLabeled = pseudo.length === 0 ? c.batchSize : labeled.length === 0 ? 0 : c.labeledPerBatch;

  E.seed(run.seed + 1);
  const net = { inChannels: 1, ...c.model, landmarks: l };
  const model = new RefineNet(net);
  const optimizer = new E.AdamW(model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
  const key = dataKey(samples);
  let rng = new Rng(run.seed, 11);
  let step = 0;
  let elapsed = 0;
  let totalSteps = c.steps ?? 0;
  if (run.resume && existsSync(checkpointPath)) {
    const ckpt = await loadFineCheckpoint(checkpointPath);
    checkResumeSettings(
      withoutRemovedKeys(ckpt.trainConfig as Record<string, unknown>),
      c,
      RESUMABLE_CHANGES,
      checkpointPath,
      'fine.',
    );
    if (ckpt.progress.dataKey !== key)
      throw new Error(
        `${checkpointPath}: the fine stage was trained on other images or labels; resume with the same ones or train into another folder`,
      );
    ckpt.restore(model, optimizer);
    ({ step, elapsed } = ckpt.progress);
    totalSteps = c.steps ?? ckpt.progress.totalSteps;
    rng = Rng.fromState(ckpt.progress.rng);
  }
  const geometry = { inputSize: c.crop, stride: c.model.outputStride, radius: c.radius };
  const meta = (at: LoopState): FineMeta => ({
    format: 'fewmark-fine/1',
    net,
    longSide: c.longSide,
    crop: c.crop,
    radius: c.radius,
    minConfidence: c.minConfidence,
    vote: c.vote,
    landmarks: run.landmarks,
    steps: at.step,
    trainSeconds: at.elapsed,
  });
  const result = await runTrainingLoop({
    config: { ...c, checkpointMinutes: run.checkpointMinutes },
    start: { step, totalSteps, elapsed },
    step: (lr) => {
      optimizer.lr = lr;
      const picks = Array.from({ length: c.batchSize }, (_, i) =>
        rng.pick(i < fromLabeled ? labeled : pseudo),
      );
      const places = picks.map(([i, k]) => randomPlace(samples[i]!.points[k]!, rng, c));
      return E.tidy(() => {
        const crops = E.cat(
          picks.map(([i], j) => cropImage(samples[i]!.image.pixels, [places[j]!], c.crop)),
          0,
        );
        const input = jitterIntensity(crops, rng, c);
        const points = picks.map(([i, k], j) =>
          Array.from({ length: l }, (_, m) =>
            m === k ? toCrop(samples[i]!.points[k]!, places[j]!, c.crop) : MISSING,
          ),
        );
        const weights = picks.flatMap(([i, k]) =>
          Array.from({ length: l }, (_, m) => (m === k ? (samples[i]!.labeled ? c.labeledWeight : 1) : 0)),
        );
        const losses = refineLoss(model.trainForward(input, 'none'), makeTargets(points, geometry), weights);
        return minimise(optimizer, losses);
      });
    },
    save: async (at) => {
      const progress = { ...at, rng: rng.state, lr: optimizer.lr, dataKey: key };
      await saveFineCheckpoint(checkpointPath, model, optimizer, progress, c);
      await saveFine(run.out, model, meta(at));
      run.onCheckpoint?.(checkpointPath, at.step);
    },
    onStep: run.onStep,
    shouldStop: run.shouldStop,
  });
  model.dispose();
  optimizer.dispose();
  return result;
}

/** A training crop's place: centred near the label as a first stage's error would leave it, turned and scaled. */
function randomPlace(label: Point, rng: Rng, c: FineConfig): CropPlace {
  return {
    centre: {
      x: label.x + rng.clippedNormal(c.centreJitter),
      y: label.y + rng.clippedNormal(c.centreJitter),
    },
    angle: (rng.uniform(-c.maxRotationDeg, c.maxRotationDeg) * Math.PI) / 180,
    scale: Math.exp(rng.uniform(-Math.log1p(c.scale), Math.log1p(c.scale))),
  };
}
