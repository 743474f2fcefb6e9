// Selection baselines that the SCP is compared against (issue 5): they see
// only one global embedding per image (embeddings.ts) and pick a diverse or
// typical subset of the pool. Pure functions on an [N, D] point set; every
// random choice comes from the Rng passed in, so a seed fixes the result.
// Distances are Euclidean (on unit-length embeddings that is monotone in
// cosine similarity). Ties go to the lowest index, so results do not depend
// on floating-point noise in the order of a sort.
import type { Rng } from '../util/random.js';

/** N points of dimension D, row-major. */
export interface PointSet {
  count: number;
  dim: number;
  values: Float32Array;
}

export function pointSet(rows: readonly (readonly number[])[]): PointSet {
  const dim = rows[0]?.length ?? 0;
  const values = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new RangeError(`pointSet: row ${i} has ${r.length} values, row 0 has ${dim}`);
    values.set(r, i * dim);
  });
  return { count: rows.length, dim, values };
}

function checkBudget(n: number, m: number, fn: string): void {
  if (!Number.isInteger(m) || m < 1 || m > n)
    throw new RangeError(`${fn}: budget must be an integer in 1..${n}, got ${m}`);
}

const squaredDistance = (a: Float32Array, i: number, b: Float32Array, j: number, dim: number) => {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = a[i * dim + d]! - b[j * dim + d]!;
    s += t * t;
  }
  return s;
};

/** All pairwise Euclidean distances, [N, N] row-major (float64: sums of many small terms). */
export function pairwiseDistances(p: PointSet): Float64Array {
  const { count: n, dim, values } = p;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const d = Math.sqrt(squaredDistance(values, i, values, j, dim));
      out[i * n + j] = d;
      out[j * n + i] = d;
    }
  return out;
}

/** The point with the smallest total distance to all the others. */
export function medoid(p: PointSet, distances = pairwiseDistances(p)): number {
  const n = p.count;
  let best = -1;
  let bestSum = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += distances[i * n + j]!;
    if (s < bestSum) {
      bestSum = s;
      best = i;
    }
  }
  return best;
}

/** m distinct indices uniformly at random: the floor every strategy must beat. */
export function randomSelection(n: number, m: number, rng: Rng): number[] {
  checkBudget(n, m, 'randomSelection');
  return rng.permutation(n).slice(0, m);
}

/**
 * k-center greedy (core-set selection, Sener & Savarese 2018): start at the
 * medoid (the classic version starts at a random point; the medoid makes it
 * deterministic and makes a budget of 1 a sensible choice), then add the
 * point farthest from everything chosen so far. Covers the extremes of the
 * pool, atypical images included.
 */
export function kCenterGreedy(p: PointSet, m: number): number[] {
  checkBudget(p.count, m, 'kCenterGreedy');
  const n = p.count;
  const distances = pairwiseDistances(p);
  const first = medoid(p, distances);
  const chosen = [first];
  const nearest = Float64Array.from({ length: n }, (_, i) => distances[first * n + i]!);
  while (chosen.length < m) {
    let far = -1;
    let farDistance = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++)
      if (nearest[i]! > farDistance && !chosen.includes(i)) {
        farDistance = nearest[i]!;
        far = i;
      }
    chosen.push(far);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i]!, distances[far * n + i]!);
  }
  return chosen;
}

export interface Clustering {
  /** [k, D] row-major. */
  centroids: Float32Array;
  /** Cluster of each point. */
  assignment: Int32Array;
  /** Members of each cluster, ascending. */
  members: number[][];
  /** Sum of squared distances of the points to their centroids. */
  inertia: number;
}

export interface KMeansOptions {
  /** Independent k-means++ starts; the clustering of least inertia is kept (default 10, as scikit-learn long did). */
  restarts?: number;
  maxIterations?: number;
}

/**
 * k-means (Lloyd) from k-means++ starts (Arthur & Vassilvitskii 2007). One
 * start can still put two centres in one mode and none in another, which
 * Lloyd's iterations never repair; the best of several starts rarely does.
 */
export function kMeans(p: PointSet, k: number, rng: Rng, o: KMeansOptions = {}): Clustering {
  checkBudget(p.count, k, 'kMeans');
  let best: Clustering | undefined;
  for (let r = 0; r < (o.restarts ?? 10); r++) {
    const c = kMeansOnce(p, k, rng, o.maxIterations ?? 100);
    if (!best || c.inertia < best.inertia) best = c;
  }
  return best!;
}

/**
 * One k-means++ start: the first centre uniformly at random, each next one
 * with probability proportional to its squared distance from the nearest
 * centre so far; then Lloyd's iterations until no point moves. An emptied
 * cluster is re-seeded at the point farthest from its centre, so every
 * cluster keeps at least one member.
 */
function kMeansOnce(p: PointSet, k: number, rng: Rng, maxIterations: number): Clustering {
  const { count: n, dim, values } = p;
  const centroids = new Float32Array(k * dim);
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const seedCentre = (c: number, point: number) => {
    centroids.set(values.subarray(point * dim, (point + 1) * dim), c * dim);
    for (let i = 0; i < n; i++)
      nearest[i] = Math.min(nearest[i]!, squaredDistance(values, i, centroids, c, dim));
  };
  seedCentre(0, rng.int(0, n));
  for (let c = 1; c < k; c++) {
    const total = nearest.reduce((a, b) => a + b, 0);
    let pick = -1;
    if (total > 0) {
      let u = rng.next() * total;
      for (let i = 0; i < n && pick < 0; i++) {
        u -= nearest[i]!;
        if (u < 0) pick = i;
      }
    }
    // Rounding can run off the end; duplicate points can leave no mass at all.
    if (pick < 0) pick = nearest.reduce((far, d, i) => (d > nearest[far]! ? i : far), 0);
    seedCentre(c, pick);
  }

  const assignment = new Int32Array(n).fill(-1);
  for (let iteration = 0, changed = true; changed && iteration < maxIterations; iteration++) {
    changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const d = squaredDistance(values, i, centroids, c, dim);
        if (d < bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      if (assignment[i] !== best) {
        assignment[i] = best;
        changed = true;
      }
    }
    const sizes = new Int32Array(k);
    for (const c of assignment) sizes[c]!++;
    for (let c = 0; c < k; c++) {
      if (sizes[c] !== 0) continue;
      let far = 0;
      let farDistance = -1;
      for (let i = 0; i < n; i++) {
        const d =
          sizes[assignment[i]!]! > 1 ? squaredDistance(values, i, centroids, assignment[i]!, dim) : -1;
        if (d > farDistance) {
          farDistance = d;
          far = i;
        }
      }
      sizes[assignment[far]!]!--;
      assignment[far] = c;
      sizes[c] = 1;
      changed = true;
    }
    centroids.fill(0);
    for (let i = 0; i < n; i++)
      for (let d = 0; d < dim; d++) centroids[assignment[i]! * dim + d]! += values[i * dim + d]!;
    for (let c = 0; c < k; c++) for (let d = 0; d < dim; d++) centroids[c * dim + d]! /= sizes[c]!;
  }
  const members: number[][] = Array.from({ length: k }, () => []);
  let inertia = 0;
  assignment.forEach((c, i) => {
    members[c]!.push(i);
    inertia += squaredDistance(values, i, centroids, c, dim);
  });
  return { centroids, assignment, members, inertia };
}

/** Cluster indices, largest first (ties: the cluster whose first member comes first). */
const bySize = (members: number[][]) =>
  members
    .map((_, c) => c)
    .sort((a, b) => members[b]!.length - members[a]!.length || members[a]![0]! - members[b]![0]!);

/**
 * k-means medoids: k-means into m clusters, then per cluster the member
 * nearest its centroid, the largest cluster's first. Picks one image per
 * mode of the pool, weighted by nothing but the clustering.
 */
export function kMeansMedoids(p: PointSet, m: number, rng: Rng): number[] {
  const { centroids, members } = kMeans(p, m, rng);
  return bySize(members).map((c) => {
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const i of members[c]!) {
      const d = squaredDistance(p.values, i, centroids, c, p.dim);
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    return best;
  });
}

/**
 * Typicality of each member of a group: 1 / the mean distance to its
 * min(neighbours, size - 1) nearest other members. A lone member gets
 * +Infinity (it is trivially the most typical of its group).
 */
export function typicality(distances: Float64Array, n: number, group: number[], neighbours = 20): number[] {
  const k = Math.min(neighbours, group.length - 1);
  if (k === 0) return group.map(() => Number.POSITIVE_INFINITY);
  return group.map((i) => {
    const near = group
      .filter((j) => j !== i)
      .map((j) => distances[i * n + j]!)
      .sort((a, b) => a - b);
    let s = 0;
    for (let t = 0; t < k; t++) s += near[t]!;
    return s === 0 ? Number.POSITIVE_INFINITY : k / s;
  });
}

/**
 * TypiClust (Hacohen et al., ICML 2022), the low-budget active-learning
 * baseline: k-means into m clusters, then from each cluster its most
 * typical member (densest neighbourhood within the cluster), the largest
 * cluster's first. Unlike k-means medoids it prefers the core of a mode to
 * the centroid, which outliers can pull away from the core. The reference
 * code uses min(20, size / 2) neighbours and drops tiny clusters; with one
 * pick per cluster we keep every cluster and use min(20, size - 1).
 */
export function typiClust(p: PointSet, m: number, rng: Rng, neighbours = 20): number[] {
  const { members } = kMeans(p, m, rng);
  const distances = pairwiseDistances(p);
  return bySize(members).map((c) => {
    const group = members[c]!;
    const typical = typicality(distances, p.count, group, neighbours);
    let best = 0;
    for (let t = 1; t < group.length; t++) if (typical[t]! > typical[best]!) best = t;
    return group[best]!;
  });
}
