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
import { type PointSet, pairwiseDistances } from './baselines.js';

export interface MedoidChoice {
  /** The new images, in greedy order (each adds most to those before it). */
  order: number[];
  /** Coverage cost C after each image of `order` (labeled ones included). */
  costs: number[];
}

/** C(S) for a set given as indices; +Infinity for an empty set. */
export function coverageCost(distances: Float64Array, n: number, set: readonly number[]): number {
  if (set.length === 0) return Number.POSITIVE_INFINITY;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let nearest = Number.POSITIVE_INFINITY;
    for (const j of set) nearest = Math.min(nearest, distances[j * n + i]!);
    total += nearest;
  }
  return total / n;
}

/** Each pool image's distance to its nearest member of `set` (+Infinity when the set is empty). */
function nearestDistances(distances: Float64Array, n: number, set: readonly number[]): Float64Array {
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (const j of set) for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, distances[j * n + i]!);
  return nearest;
}

/** Adds `m` images one at a time, each the one that lowers C most (ties: the lowest index). */
function greedyAdd(distances: Float64Array, n: number, given: readonly number[], m: number): number[] {
  const nearest = nearestDistances(distances, n, given);
  const chosen = new Set(given);
  const order: number[] = [];
  for (let step = 0; step < m; step++) {
    let best = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) {
      if (chosen.has(j)) continue;
      let cost = 0;
      for (let i = 0; i < n; i++) cost += Math.min(nearest[i]!, distances[j * n + i]!);
      if (cost < bestCost) {
        bestCost = cost;
        best = j;
      }
    }
    order.push(best);
    chosen.add(best);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, distances[best * n + i]!);
  }
  return order;
}

/**
 * Swaps one free member for one outsider while that lowers C (first
 * improvement). Each image's nearest and second-nearest member make a
 * candidate swap O(N). The first `pinned` members never leave.
 */
function swapDown(distances: Float64Array, n: number, start: number[], pinned: number): number[] {
  const set = [...start];
  let current = coverageCost(distances, n, set);
  for (let improved = true; improved; ) {
    improved = false;
    const first = new Float64Array(n);
    const second = new Float64Array(n);
    const owner = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let a = Number.POSITIVE_INFINITY;
      let b = Number.POSITIVE_INFINITY;
      let who = -1;
      for (const j of set) {
        const d = distances[j * n + i]!;
        if (d < a) {
          b = a;
          a = d;
          who = j;
        } else if (d < b) b = d;
      }
      first[i] = a;
      second[i] = b;
      owner[i] = who;
    }
    const inSet = new Set(set);
    search: for (let s = pinned; s < set.length; s++) {
      const out = set[s]!;
      for (let j = 0; j < n; j++) {
        if (inSet.has(j)) continue;
        let total = 0;
        for (let i = 0; i < n; i++)
          total += Math.min(owner[i] === out ? second[i]! : first[i]!, distances[j * n + i]!);
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
 * Chooses `m` more images of the pool around the `labeled` ones: greedy,
 * then swaps that never drop a labeled image, then the new ones in greedy
 * order with the cost after each.
 */
export function kMedoids(p: PointSet, m: number, labeled: readonly number[] = []): MedoidChoice {
  const n = p.count;
  if (!Number.isInteger(m) || m < 1 || m + labeled.length > n)
    throw new RangeError(`kMedoids: budget must be an integer in 1..${n - labeled.length}, got ${m}`);
  const distances = pairwiseDistances(p);
  const found = swapDown(distances, n, [...labeled, ...greedyAdd(distances, n, labeled, m)], labeled.length);
  // Greedy order among the chosen: what a user annotating only the first few should take.
  const order: number[] = [];
  const costs: number[] = [];
  const rest = found.slice(labeled.length);
  while (rest.length > 0) {
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    rest.forEach((j, k) => {
      const cost = coverageCost(distances, n, [...labeled, ...order, j]);
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
