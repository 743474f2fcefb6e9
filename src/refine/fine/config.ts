// The fine stage's settings: a local network that looks at a small crop
// around each landmark's first-stage prediction at about twice the first
// stage's resolution and moves the point. Part of the refinement config
// (`fine`), resolved and checked with it.

import type { Norm } from '../../features/unet.js';
import { defaultVoteOptions, type VoteOptions } from '../vote.js';

export interface FineConfig {
  /** Train the fine stage after the rounds (and use it in detection). */
  enabled: boolean;
  /** The fine image's longer side in pixels (never above the original's). */
  longSide: number;
  /** Crop side in fine pixels (a multiple of 32). */
  crop: number;
  steps: number | null;
  minutes: number | null;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  finalLrFraction: number;
  /** How far a training crop's centre strays from the label: normal, this standard deviation in fine pixels (as a first stage's error does). */
  centreJitter: number;
  maxRotationDeg: number;
  /** Scale factor drawn log-uniformly in [1 / (1 + scale), 1 + scale]. */
  scale: number;
  contrast: number;
  brightness: number;
  gamma: number;
  /** Labeled crops in every batch (at random among the labeled images' landmarks). */
  labeledPerBatch: number;
  /** Loss weight of a labeled landmark (a pseudo-label's is 1). */
  labeledWeight: number;
  /** Target disk radius in fine pixels. */
  radius: number;
  /** Below this peak probability the first stage's point stands. */
  minConfidence: number;
  model: {
    widths: [number, number, number, number, number];
    norm: Norm;
    outputStride: number;
    headWidth: number;
  };
  vote: Omit<VoteOptions, 'stride' | 'radius'>;
}

export const defaultFineConfig: FineConfig = {
  enabled: true,
  longSide: 1024,
  crop: 96,
  steps: 1500,
  minutes: null,
  batchSize: 32,
  lr: 2e-3,
  weightDecay: 1e-4,
  warmupSteps: 50,
  finalLrFraction: 0.02,
  centreJitter: 10,
  maxRotationDeg: 10,
  scale: 0.1,
  contrast: 0.25,
  brightness: 0.1,
  gamma: 0.25,
  labeledPerBatch: 8,
  labeledWeight: 4,
  radius: 10,
  minConfidence: 0.5,
  model: { widths: [16, 32, 64, 64, 64], norm: 'batch', outputStride: 2, headWidth: 32 },
  vote: { ...defaultVoteOptions, bandwidth: 1.5 },
};

/** Range checks of the resolved fine settings; `check` throws with the source named. */
export function checkFineConfig(f: FineConfig, check: (ok: boolean, what: string) => void): void {
  check(Number.isInteger(f.longSide) && f.longSide >= 64, `fine.longSide must be an integer of at least 64`);
  check(
    Number.isInteger(f.crop) && f.crop >= 32 && f.crop % 32 === 0,
    `fine.crop must be a multiple of 32, got ${f.crop}`,
  );
  check(f.steps !== null || f.minutes !== null, 'fine: give steps or minutes');
  check(f.steps === null || (Number.isInteger(f.steps) && f.steps >= 1), `fine.steps must be at least 1`);
  check(f.minutes === null || f.minutes > 0, `fine.minutes must be more than 0`);
  check(Number.isInteger(f.batchSize) && f.batchSize >= 1, `fine.batchSize must be a positive integer`);
  check(
    Number.isInteger(f.labeledPerBatch) && f.labeledPerBatch >= 0 && f.labeledPerBatch <= f.batchSize,
    `fine.labeledPerBatch must be an integer from 0 to fine.batchSize`,
  );
  check(f.radius > 0 && f.radius < f.crop / 2, `fine.radius must be in (0, crop / 2)`);
  check(f.centreJitter >= 0, `fine.centreJitter must not be negative`);
  check([2, 4].includes(f.model.outputStride), `fine.model.outputStride must be 2 or 4`);
}
