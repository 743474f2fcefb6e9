// Choosing from large pools in less than N^2 time and memory. Both set
// scores are means over the pool (k-medoids' C over images, the SCP's R
// over key points), so they can be estimated on a random sample of the
// pool with a confidence interval, while every image (k-medoids) or the
// most central ones by embedding (the SCP) stay candidates. Exact search is
// kept for small pools; bench/selection-scale measures where sampling
// starts to pay and what it costs in the chosen set's exact score.
import { Rng } from '../util/random.js';
import type { PointSet } from './baselines.js';
import { DistanceRows } from './distance-rows.js';
import { kMedoidsOn, nearestTwo } from './medoids.js';

/** How large a pool is chosen from exactly when the caller does not say (bench/selection-scale). */
// k-medoids: the exact search's distance matrix is N^2 doubles (800 MB at
// 10,000 images: 18 s and 1.1 GB peak there, against 9 s and 0.5 GB
// sampled; 3.2 GB at 20,000), so sampling starts at 2,000 (32 MB). The
// SCP: the exact matrix of a 200-image pool took 60 s, the sampled search
// (about 25,000 image pairs whatever the pool) 42-68 s; bench/selection-scale.
export const EXACT_LIMIT = { medoids: 2000, scp: 200 } as const;

/** Sample sizes of the sampled search (bench/selection-scale measured them at 1,000 images). */
export const SAMPLE_DEFAULTS = {
  /** Random pool images that are k-medoids' candidates (C itself is exact). */
  medoidCandidates: 500,
  /** Images whose key points R is estimated on. */
  scpImages: 200,
  /** Random pool images screened as SCP candidates... */
  scpCandidates: 300,
  /** ...on the key points of the first this many of the scpImages... */
  scpScreenImages: 50,
  /** ...and the best this many of them scored on all scpImages. */
  scpFinalists: 50,
} as const;

/** A mean estimated on a sample: the value and its 95% confidence half-width. */
export interface Estimate {
  value: number;
  halfWidth: number;
  /** Images it was estimated on. */
  sample: number;
}

/** `size` distinct pool indices, ascending, from the seed (all of them when size >= n). */
export function samplePool(n: number, size: number, seed: number): number[] {
  if (size >= n) return Array.from({ length: n }, (_, i) => i);
  return new Rng(seed, 0x5a3b1e)
    .permutation(n)
    .slice(0, size)
    .sort((a, b) => a - b);
}

/** The mean of a simple random sample of `values` from a pool of `population`, with its 95% interval. */
export function meanEstimate(values: ArrayLike<number>, population: number): Estimate {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
  const variance = n > 1 ? squares / (n - 1) : 0;
  // Sampling without replacement: the finite-population correction.
  const fpc = population > 1 ? Math.max(0, (population - n) / (population - 1)) : 0;
  return { value: mean, halfWidth: 1.96 * Math.sqrt((variance / n) * fpc), sample: n };
}

/**
 * A ratio mean (sum of y over sampled images / sum of their counts), e.g. R
 * as the mean over key points when whole images are sampled; the interval
 * by linearisation (Cochran's ratio estimator).
 */
export function ratioEstimate(
  sums: readonly number[],
  counts: readonly number[],
  population: number,
): Estimate {
  const n = sums.length;
  const ratio =
    sums.reduce((a, b) => a + b, 0) /
    Math.max(
      1,
      counts.reduce((a, b) => a + b, 0),
    );
  const meanCount = counts.reduce((a, b) => a + b, 0) / n;
  const residuals = sums.map((y, i) => (y - ratio * counts[i]!) / Math.max(meanCount, 1e-12));
  const spread = meanEstimate(residuals, population);
  return { value: ratio, halfWidth: spread.halfWidth, sample: n };
}

export interface SampledMedoids {
  /** The new images, pool indices, in greedy order. */
  order: number[];
  /** C after each image of `order` (labeled ones included), exact over the whole pool. */
  costs: number[];
  /** C of the whole set, exact (every image's distance to the set is cheap: set x N). */
  estimate: Estimate;
  /** How many images were candidates. */
  candidates: number;
}

/** Pool images nearest to a member that the polish tries in its place. */
const POLISH_NEIGHBOURS = 32;

/**
 * k-medoids in N x sample instead of N x N: the candidates are a random
 * sample of the pool (plus the labeled images), C is exact over the whole
 * pool (a candidate's distances to all N images are one row); greedy and
 * swaps among those candidates, then a polish that also tries each
 * member's nearest images (polishMedoids), then the greedy order.
 */
export function kMedoidsSampled(
  p: PointSet,
  m: number,
  labeled: readonly number[],
  sampleSize: number,
  seed: number,
): SampledMedoids {
  const distances = DistanceRows.of(p);
  try {
    const pinned = new Set(labeled);
    const candidates = [...labeled, ...samplePool(p.count, sampleSize, seed).filter((i) => !pinned.has(i))];
    if (m + labeled.length > candidates.length)
      throw new RangeError(
        `kMedoids: budget ${m} is more than the ${candidates.length - labeled.length} sampled candidates`,
      );
    const rough = kMedoidsOn(
      { candidates: candidates.length, represented: p.count, values: distances.rows(candidates) },
      m,
      labeled.map((_, i) => i),
    );
    const start = [...labeled, ...rough.order.map((c) => candidates[c]!)];
    const set = polishMedoids(distances, start, labeled.length, candidates);
    // Greedy order and exact costs: the chosen images as the only candidates.
    const ordered = kMedoidsOn(
      { candidates: set.length, represented: p.count, values: distances.rows(set) },
      m,
      labeled.map((_, i) => i),
    );
    const costs = ordered.costs;
    return {
      order: ordered.order.map((k) => set[k]!),
      costs,
      estimate: { value: costs[costs.length - 1]!, halfWidth: 0, sample: p.count },
      candidates: candidates.length,
    };
  } finally {
    distances.dispose();
  }
}

/**
 * Swaps members for one of their POLISH_NEIGHBOURS nearest non-members or
 * one of `farCandidates` (the sample: moves to another part of the pool)
 * while that lowers the exact C over the whole pool (the best swap per
 * member, passes until none helps). Each pass costs members x (neighbours
 * + far candidates) x N, linear in N. The first `pinned` members never leave.
 */
export function polishMedoids(
  distances: DistanceRows,
  start: readonly number[],
  pinned: number,
  farCandidates: readonly number[] = [],
  maxPasses = 20,
) {
  const n = distances.count;
  const far = distances.rows(farCandidates);
  const set = [...start];
  let members = distances.rows(set);
  const positions = set.map((_, s) => s);
  let { first, second, owner } = nearestTwo(members, n, positions);
  let current = first.reduce((x, y) => x + y, 0);
  for (let pass = 0, improved = true; improved && pass < maxPasses; pass++) {
    improved = false;
    for (let s = pinned; s < set.length; s++) {
      const inSet = new Set(set);
      const row = members.subarray(s * n, (s + 1) * n);
      const neighbours = Array.from({ length: n }, (_, i) => i)
        .filter((i) => !inSet.has(i))
        .sort((a, b) => row[a]! - row[b]! || a - b)
        .slice(0, POLISH_NEIGHBOURS);
      const near = distances.rows(neighbours);
      let best = -1;
      let bestTotal = current - 1e-9 * Math.max(1, current);
      const consider = (candidate: number, rows: Float64Array, c: number) => {
        if (inSet.has(candidate)) return;
        let total = 0;
        for (let i = 0; i < n; i++)
          total += Math.min(owner[i] === s ? second[i]! : first[i]!, rows[c * n + i]!);
        if (total < bestTotal) {
          bestTotal = total;
          best = candidate;
        }
      };
      for (const [c, j] of neighbours.entries()) consider(j, near, c);
      for (const [c, j] of farCandidates.entries()) consider(j, far, c);
      if (best < 0) continue;
      set[s] = best;
      members = distances.rows(set);
      ({ first, second, owner } = nearestTwo(members, n, positions));
      current = first.reduce((x, y) => x + y, 0);
      improved = true;
    }
  }
  return set;
}
