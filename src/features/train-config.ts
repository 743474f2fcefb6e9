// Training configuration as data: typed defaults, overridable from a JSON
// file or flags; unknown keys and wrong types are errors. The resolved
// config is stored in every checkpoint.
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
  const merged = merge(defaultTrainConfig, overrides, source) as TrainConfig;
  if (merged.inputSize % 64 !== 0 || merged.inputSize < 64)
    throw new Error(`${source}: inputSize must be a multiple of 64 (at least 64), got ${merged.inputSize}`);
  if (!Number.isInteger(merged.batchSize) || merged.batchSize < 1)
    throw new Error(`${source}: batchSize must be a positive integer, got ${merged.batchSize}`);
  if (merged.steps === null && merged.minutes === null) throw new Error(`${source}: give steps or minutes`);
  return merged;
}

function merge(base: unknown, over: unknown, path: string): unknown {
  if (over === undefined) return base;
  if (base !== null && typeof base === 'object' && !Array.isArray(base)) {
    if (over === null || typeof over !== 'object' || Array.isArray(over))
      throw new Error(`${path}: expected an object, got ${JSON.stringify(over)}`);
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
      if (!(k in out)) throw new Error(`${path}: unknown key '${k}' (known: ${Object.keys(out).join(', ')})`);
      out[k] = merge(out[k], v, `${path}.${k}`);
    }
    return out;
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(over) || over.length !== base.length || over.some((v) => typeof v !== typeof base[0]))
      throw new Error(`${path}: expected ${base.length} ${typeof base[0]}s, got ${JSON.stringify(over)}`);
    return over;
  }
  // null defaults (steps/minutes) take a number or null.
  if (base === null) {
    if (over !== null && typeof over !== 'number')
      throw new Error(`${path}: expected a number or null, got ${JSON.stringify(over)}`);
    return over;
  }
  if (
    typeof over !== typeof base &&
    !(typeof base === 'number' && over === null && path.match(/steps|minutes/))
  )
    throw new Error(`${path}: expected a ${typeof base}, got ${JSON.stringify(over)}`);
  return over;
}
