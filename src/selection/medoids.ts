// k-medoids on the global embeddings: the default way to choose several
// images (docs/selection.md, "Which score to choose sets by"). The set
// score is a facility location on embedding distances, C(S) = mean over the
// pool of the distance from each image to its nearest chosen image (lower
// is better). Unlike the SCP's R it rewards typical images: on ISBI the
// fused detection (median over templates) is better from typical templates
// than from diverse ones that each cover a few unusual images.
// Greedy then swaps, both deterministic (no seed: the same pool gives the
// same list every time); images labeled already are pinned in the set, so
// labeling in rounds picks the next ones by their marginal gain.
//
// The search works on a rectangular matrix, candidates x represented
// images: exact (both the whole pool) or, for large pools, every image a
// candidate but C estimated on a random sample of the pool (pool-sample.ts).
import { type PointSet, pairwiseDistances } from './baselines.js';

/** Distances from each candidate (row) to each image it must represent (column). */
export interface CoverageMatrix {
  candidates: number;
  represented: number;
  /** [candidate * represented + image]. */
  values: Float64Array;
}

export interface MedoidChoice {
  /** The new images, in greedy order (each adds most to those before it); candidate indices. */
  order: number[];
  /** Coverage cost C after each image of `order` (labeled ones included). */
  costs: number[];
}

const square = (distances: Float64Array, n: number): CoverageMatrix => ({
  candidates: n,
  represented: n,
  values: distances,
});

/** C(S) for a set given as indices; +Infinity for an empty set. */
export function coverageCost(distances: Float64Array, n: number, set: readonly number[]): number {
  return coverageOf(square(distances, n), set);
}

/** C(S) on a coverage matrix (set: candidate indices). */
export function coverageOf(d: CoverageMatrix, set: readonly number[]): number {
  if (set.length === 0) return Number.POSITIVE_INFINITY;
  const nearest = nearestDistances(d, set);
  let total = 0;
  for (const v of nearest) total += v;
  return total / d.represented;
}

/** Each represented image's distance to its nearest member of `set` (+Infinity when the set is empty). */
export function nearestDistances(d: CoverageMatrix, set: readonly number[]): Float64Array {
  const n = d.represented;
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (const j of set) for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, d.values[j * n + i]!);
  return nearest;
}

/**
 * For each of the n represented images: the smallest and second smallest
 * of values[r * n + i] over the given rows, and which of them (its
 * position in `rows`) is the smallest. What a swap out of a set needs.
 */
export function nearestTwo(values: Float64Array, n: number, rows: readonly number[]) {
  const first = new Float64Array(n);
  const second = new Float64Array(n);
  const owner = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let a = Number.POSITIVE_INFINITY;
    let b = Number.POSITIVE_INFINITY;
    let who = -1;
    for (const [s, r] of rows.entries()) {
      const v = values[r * n + i]!;
      if (v < a) {
        b = a;
        a = v;
        who = s;
      } else if (v < b) b = v;
    }
    first[i] = a;
    second[i] = b;
    owner[i] = who;
  }
  return { first, second, owner };
}

/** Adds `m` candidates one at a time, each the one that lowers C most (ties: the lowest index). */
function greedyAdd(d: CoverageMatrix, given: readonly number[], m: number): number[] {
  const n = d.represented;
  const nearest = nearestDistances(d, given);
  const chosen = new Set(given);
  const order: number[] = [];
  for (let step = 0; step < m; step++) {
    let best = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let j = 0; j < d.candidates; j++) {
      if (chosen.has(j)) continue;
      let cost = 0;
      const row = j * n;
      for (let i = 0; i < n; i++) cost += Math.min(d.values[row + i]!, nearest[i]!);
      if (cost < bestCost) {
        bestCost = cost;
        best = j;
      }
    }
    order.push(best);
    chosen.add(best);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, d.values[best * n + i]!);
  }
  return order;
}

/**
 * Swaps one free member for one outsider while that lowers C (first
 * improvement). Each image's nearest and second-nearest member make a
 * candidate swap O(represented). The first `pinned` members never leave.
 */
function swapDown(d: CoverageMatrix, start: number[], pinned: number): number[] {
  const n = d.represented;
  const set = [...start];
  let current = coverageOf(d, set);
  for (let improved = true; improved; ) {
    improved = false;
    const { first, second, owner } = nearestTwo(d.values, n, set);
    const inSet = new Set(set);
    search: for (let s = pinned; s < set.length; s++) {
      for (let j = 0; j < d.candidates; j++) {
        if (inSet.has(j)) continue;
        let total = 0;
        const row = j * n;
        for (let i = 0; i < n; i++)
          total += Math.min(owner[i] === s ? second[i]! : first[i]!, d.values[row + i]!);
        if (total / n < current - 1e-12) {
          set[s] = j;
          current = total / n;
          improved = true;
          break search;
        }
      }
    }
  }
  return set;
}

/**
 * Chooses `m` more candidates around the `labeled` ones (candidate
 * indices): greedy, then swaps that never drop a labeled one, then the new
 * ones in greedy order with the cost after each.
 */
export function kMedoidsOn(d: CoverageMatrix, m: number, labeled: readonly number[] = []): MedoidChoice {
  if (!Number.isInteger(m) || m < 1 || m + labeled.length > d.candidates)
    throw new RangeError(
      `kMedoids: budget must be an integer in 1..${d.candidates - labeled.length}, got ${m}`,
    );
  const found = swapDown(d, [...labeled, ...greedyAdd(d, labeled, m)], labeled.length);
  // Greedy order among the chosen: what a user annotating only the first few should take.
  const order: number[] = [];
  const costs: number[] = [];
  const rest = found.slice(labeled.length);
  while (rest.length > 0) {
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    rest.forEach((j, k) => {
      const cost = coverageOf(d, [...labeled, ...order, j]);
      if (cost < bestCost) {
        bestCost = cost;
        best = k;
      }
    });
    order.push(...rest.splice(best, 1));
    costs.push(bestCost);
  }
  return { order, costs };
}

/** Exact k-medoids: every image a candidate, every image represented. */
export function kMedoids(p: PointSet, m: number, labeled: readonly number[] = []): MedoidChoice {
  return kMedoidsOn(square(pairwiseDistances(p), p.count), m, labeled);
}
