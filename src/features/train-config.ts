// Training configuration as data: typed defaults, overridable from a JSON
// file or flags; unknown keys and wrong types are errors. The resolved
// config is stored in every checkpoint.
import { mergeConfig } from '../util/config.js';
import { defaultInfoNce, type InfoNceOptions } from './loss.js';
import { defaultExtractorConfig, type ExtractorConfig } from './model.js';
import { defaultPairOptions, type PairOptions } from './pairs.js';

export interface TrainConfig {
  seed: number;
  /** Working size S (images are resized to S x S); a multiple of 64. */
  inputSize: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Linear warm-up steps before the cosine decay. */
  warmupSteps: number;
  /** Final learning rate as a fraction of lr. */
  finalLrFraction: number;
  /** Stop after this many steps (the cosine schedule spans them). */
  steps: number | null;
  /** Or stop when this much training time is spent (schedule sized from the measured step time). */
  minutes: number | null;
  checkpointMinutes: number;
  model: ExtractorConfig;
  pairs: PairOptions;
  loss: InfoNceOptions;
}

export const defaultTrainConfig: TrainConfig = {
  seed: 0,
  inputSize: 384,
  batchSize: 8,
  lr: 1e-3,
  weightDecay: 1e-4,
  warmupSteps: 20,
  finalLrFraction: 0.02,
  steps: null,
  minutes: 30,
  checkpointMinutes: 5,
  model: defaultExtractorConfig,
  pairs: defaultPairOptions,
  loss: defaultInfoNce,
};

/** Merges overrides into the defaults, rejecting unknown keys and mistyped values. */
export function resolveTrainConfig(overrides: unknown, source = 'config'): TrainConfig {
  const merged = mergeConfig(defaultTrainConfig, overrides, source) as TrainConfig;
  if (merged.inputSize % 64 !== 0 || merged.inputSize < 64)
    throw new Error(`${source}: inputSize must be a multiple of 64 (at least 64), got ${merged.inputSize}`);
  if (!Number.isInteger(merged.batchSize) || merged.batchSize < 1)
    throw new Error(`${source}: batchSize must be a positive integer, got ${merged.batchSize}`);
  if (merged.steps === null && merged.minutes === null) throw new Error(`${source}: give steps or minutes`);
  if (merged.steps !== null && !(Number.isInteger(merged.steps) && merged.steps >= 1))
    throw new Error(`${source}: steps must be at least 1, got ${merged.steps}`);
  if (merged.minutes !== null && !(merged.minutes > 0))
    throw new Error(`${source}: minutes must be more than 0, got ${merged.minutes}`);
  return merged;
}
