// Refinement training configuration as data: typed defaults, overridable
// from a JSON file or flags; unknown keys and wrong types are errors. The
// resolved config is stored in the checkpoint and the refined model.
import { mergeConfig } from '../util/config.js';
import { type AugmentOptions, defaultAugmentOptions } from './augment.js';
import { checkFineConfig, defaultFineConfig, type FineConfig } from './fine/config.js';
import { defaultRefineNetConfig, type Freeze, type RefineNetConfig } from './model.js';
import { defaultVoteOptions, ESTIMATORS, type VoteOptions } from './vote.js';

export interface RefineConfig {
  seed: number;
  /** Working size S (a multiple of 32); null: the extractor's times inputScale. */
  inputSize: number | null;
  /** With inputSize null, the working size over the extractor's (rounded to a multiple of 32). */
  inputScale: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  /** Final learning rate as a fraction of lr (cosine decay). */
  finalLrFraction: number;
  /** Training steps of each round. */
  steps: number | null;
  /** Training time budget of all rounds together. */
  minutes: number | null;
  /** Self-training rounds: each after the first trains on the previous round's labels. */
  rounds: number;
  /** Cycles: each after the first trains one round on the previous cycle's labels from both stages, then the fine stage again. */
  cycles: number;
  checkpointMinutes: number;
  /** Target disk radius as a fraction of the working size (the reference code's 0.05). */
  radiusFraction: number;
  /** Weight of the offsets' L1 loss against the heatmap's BCE. */
  offsetWeight: number;
  /** Labeled templates in every batch (drawn at random among them). */
  labeledPerBatch: number;
  /** Loss weight of a labeled template's landmarks (a pseudo-label's is at most 1). */
  labeledWeight: number;
  /** Weight each pseudo-label by its template-matching peak (relative to the landmark's median). */
  confidenceWeighting: boolean;
  /** Start the trunk from the feature extractor's weights (else from random ones). */
  initFromExtractor: boolean;
  /** Keep the extractor's encoder ('encoder') or encoder and decoder ('trunk') as they are. */
  freeze: Freeze;
  model: Omit<RefineNetConfig, 'landmarks'>;
  augment: AugmentOptions;
  vote: Omit<VoteOptions, 'stride' | 'radius'>;
  /** The second stage, trained after the rounds (fine/config.ts). */
  fine: FineConfig;
}

const defaultRefineConfig: RefineConfig = {
  seed: 0,
  inputSize: null,
  // Measured on ISBI (docs/refine-isbi.md): the network localises better at
  // 512 px than at the extractor's 384, whose weights still start it.
  inputScale: 4 / 3,
  batchSize: 8,
  lr: 2e-3,
  weightDecay: 1e-4,
  warmupSteps: 20,
  finalLrFraction: 0.02,
  // Measured on ISBI (docs/refine-isbi.md): 80 steps did as well as 300, and
  // much longer training learns template matching's own mistakes.
  steps: 80,
  minutes: null,
  // Measured on ISBI (docs/refine-isbi.md): each round's network labels the
  // unlabeled images better than the last one's pseudo-labels.
  rounds: 3,
  // Measured on ISBI with one label (docs/fine-stage.md, "Cycles"): each
  // cycle's two stages label the unlabeled images better than the last's.
  cycles: 3,
  checkpointMinutes: 5,
  radiusFraction: 0.05,
  offsetWeight: 1,
  labeledPerBatch: 2,
  labeledWeight: 4,
  confidenceWeighting: false,
  initFromExtractor: true,
  freeze: 'encoder',
  model: {
    inChannels: defaultRefineNetConfig.inChannels,
    widths: defaultRefineNetConfig.widths,
    norm: defaultRefineNetConfig.norm,
    outputStride: defaultRefineNetConfig.outputStride,
    headWidth: defaultRefineNetConfig.headWidth,
  },
  augment: defaultAugmentOptions,
  vote: defaultVoteOptions,
  fine: defaultFineConfig,
};

/** Merges overrides into the defaults, rejecting unknown keys, mistyped values and bad ranges. */
export function resolveRefineConfig(overrides: unknown, source = 'config'): RefineConfig {
  const c = mergeConfig(defaultRefineConfig, overrides, source) as RefineConfig;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${source}: ${what}`);
  };
  check(
    c.inputSize === null || (Number.isInteger(c.inputSize) && c.inputSize >= 64 && c.inputSize % 32 === 0),
    `inputSize must be a multiple of 32 (at least 64), got ${c.inputSize}`,
  );
  check(c.inputScale >= 0.5 && c.inputScale <= 4, `inputScale must be from 0.5 to 4, got ${c.inputScale}`);
  check(Number.isInteger(c.batchSize) && c.batchSize >= 1, `batchSize must be a positive integer`);
  check(
    Number.isInteger(c.labeledPerBatch) && c.labeledPerBatch >= 0 && c.labeledPerBatch <= c.batchSize,
    `labeledPerBatch must be an integer from 0 to batchSize (${c.batchSize}), got ${c.labeledPerBatch}`,
  );
  check(c.steps !== null || c.minutes !== null, 'give steps or minutes');
  check(
    c.steps === null || (Number.isInteger(c.steps) && c.steps >= 1),
    `steps must be at least 1, got ${c.steps}`,
  );
  check(c.minutes === null || c.minutes > 0, `minutes must be more than 0, got ${c.minutes}`);
  check(Number.isInteger(c.rounds) && c.rounds >= 1, `rounds must be a positive integer, got ${c.rounds}`);
  check(Number.isInteger(c.cycles) && c.cycles >= 1, `cycles must be a positive integer, got ${c.cycles}`);
  check(c.radiusFraction > 0 && c.radiusFraction < 0.5, `radiusFraction must be in (0, 0.5)`);
  check([2, 4, 8].includes(c.model.outputStride), `model.outputStride must be 2, 4 or 8`);
  check(['none', 'encoder', 'trunk'].includes(c.freeze), `freeze must be none, encoder or trunk`);
  check(
    c.freeze === 'none' || c.initFromExtractor,
    'freeze needs initFromExtractor (a frozen trunk must be a trained one)',
  );
  check(ESTIMATORS.includes(c.vote.estimator), `vote.estimator must be one of ${ESTIMATORS.join(', ')}`);
  checkFineConfig(c.fine, check);
  check(
    ESTIMATORS.includes(c.fine.vote.estimator),
    `fine.vote.estimator must be one of ${ESTIMATORS.join(', ')}`,
  );
  return c;
}

/** Disk radius in working pixels for a working size. */
export const radiusOf = (c: Pick<RefineConfig, 'radiusFraction'>, inputSize: number) =>
  c.radiusFraction * inputSize;
