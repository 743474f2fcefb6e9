// What refinement trains on: images at working size with landmarks in
// working pixels, each either a labeled template or a pseudo-labeled image,
// with a loss weight per landmark; and the batch sampler that puts labeled
// templates in every batch.
import type { Tensor } from '../engine/index.js';
import { isMissing, type Point } from '../io/types.js';
import type { Rng } from '../util/random.js';

export interface RefineSample {
  id: string;
  /** Working pixels; NaN for missing. */
  points: Point[];
  /** Loss weight per landmark (0 where missing). */
  weights: number[];
  labeled: boolean;
}

export interface RefineData {
  /** [N, 1, S, S] in [0, 1], row i is samples[i]. */
  images: Tensor;
  samples: RefineSample[];
}

/**
 * Per landmark, a pseudo-label's confidence relative to the median of that
 * landmark's confidences, capped at 1: the better half keeps full weight,
 * the worse half counts in proportion to its peak. Relative, because the
 * peaks' scale differs between landmarks (and between extractors).
 */
export function confidenceWeights(confidences: number[][]): number[][] {
  const l = confidences[0]?.length ?? 0;
  const medians = Array.from({ length: l }, (_, k) => {
    const v = confidences
      .map((c) => c[k]!)
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    if (v.length === 0) return 1;
    const m = v.length >> 1;
    return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
  });
  return confidences.map((c) =>
    c.map((x, k) => (Number.isFinite(x) && medians[k]! > 0 ? Math.min(1, Math.max(0, x / medians[k]!)) : 0)),
  );
}

/** Weight `w` per landmark, 0 for the missing ones. */
export const presentWeights = (points: Point[], w = 1) => points.map((p) => (isMissing(p) ? 0 : w));

/** `labeledPerBatch` labeled samples (when any), the rest pseudo-labeled (when any), all at random. */
export function sampleBatch(
  samples: readonly RefineSample[],
  batchSize: number,
  labeledPerBatch: number,
  rng: Rng,
): number[] {
  const labeled: number[] = [];
  const pseudo: number[] = [];
  samples.forEach((s, i) => {
    (s.labeled ? labeled : pseudo).push(i);
  });
  if (labeled.length === 0 && pseudo.length === 0) throw new Error('sampleBatch: no samples');
  const fromLabeled = pseudo.length === 0 ? batchSize : labeled.length === 0 ? 0 : labeledPerBatch;
  return Array.from({ length: batchSize }, (_, i) => rng.pick(i < fromLabeled ? labeled : pseudo));
}
