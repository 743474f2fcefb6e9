// Selection baselines on small point sets whose answers can be checked by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  kCenterGreedy,
  kMeans,
  kMeansMedoids,
  medoid,
  type PointSet,
  pairwiseDistances,
  pointSet,
  randomSelection,
  typiClust,
  typicality,
} from '../../src/selection/baselines.js';
import { Rng } from '../../src/util/random.js';

/** One mode: a tight core of 5 around (0, 0), a bridge point, and a halo to the right. */
const BLOB = [
  [0, 0],
  [0.05, 0],
  [-0.05, 0],
  [0, 0.05],
  [0, -0.05],
  [0.6, 0], // the point nearest the centroid (0.58, 0): outliers pull it off the core
  [1.2, 0.4],
  [1.2, -0.4],
  [1.4, 0.2],
  [1.4, -0.2],
];
const CENTRES = [
  [0, 0],
  [10, 0],
  [0, 10],
];
/** Three blobs, far apart; point i is BLOB[i % 10] in blob floor(i / 10). */
const blobs: PointSet = pointSet(CENTRES.flatMap(([cx, cy]) => BLOB.map(([x, y]) => [cx! + x!, cy! + y!])));
const blobOf = (i: number) => Math.floor(i / BLOB.length);

const randomPoints = (n: number, dim: number, seed: number) => {
  const rng = new Rng(seed);
  return pointSet(Array.from({ length: n }, () => Array.from({ length: dim }, () => rng.normal())));
};

describe('selection baselines', () => {
  test('k-center greedy on a line: the medoid, then the two extremes', () => {
    const xs = [10, 3, 0, 5, 7, 1, 9, 2, 4, 8, 6];
    const line = pointSet(xs.map((x) => [x]));
    assert.equal(xs[medoid(line)], 5);
    // 10 and 0 are both 5 from the medoid: the lower index (10, at index 0) goes first.
    assert.deepEqual(
      kCenterGreedy(line, 3).map((i) => xs[i]),
      [5, 10, 0],
    );
    assert.deepEqual(kCenterGreedy(line, 1), [xs.indexOf(5)]);
  });

  test('k-means finds three well-separated blobs for every seed', () => {
    for (let seed = 0; seed < 10; seed++) {
      const { members, inertia } = kMeans(blobs, 3, new Rng(seed));
      const groups = members.map((m) => m.map(blobOf));
      for (const g of groups)
        assert.ok(g.every((b) => b === g[0]) && g.length === BLOB.length, `seed ${seed}`);
      assert.ok(inertia < 20, `inertia ${inertia}`); // about 4.2 per blob; merging two blobs costs hundreds
    }
  });

  test('k-means medoids: one image per blob, the one nearest its centroid', () => {
    for (let seed = 0; seed < 5; seed++) {
      const picks = kMeansMedoids(blobs, 3, new Rng(seed));
      assert.deepEqual(new Set(picks.map(blobOf)).size, 3);
      for (const i of picks) assert.equal(i % BLOB.length, 5, 'the bridge point is nearest the centroid');
    }
  });

  test('TypiClust: one image per blob, the centre of its dense core', () => {
    for (let seed = 0; seed < 5; seed++) {
      const picks = typiClust(blobs, 3, new Rng(seed), 3);
      assert.deepEqual(new Set(picks.map(blobOf)).size, 3);
      for (const i of picks) assert.equal(i % BLOB.length, 0, `seed ${seed}: picked ${i}`);
    }
  });

  test('typicality: 1 / mean distance to the k nearest others; a lone member is the most typical', () => {
    const line = pointSet([[0], [1], [3], [6]]);
    const d = pairwiseDistances(line);
    // k = 2: point 0 -> (1 + 3) / 2 = 2; point 1 -> (1 + 2) / 2 = 1.5; point 2 -> (2 + 3) / 2; point 3 -> (3 + 5) / 2.
    assert.deepEqual(typicality(d, 4, [0, 1, 2, 3], 2), [1 / 2, 1 / 1.5, 1 / 2.5, 1 / 4]);
    // k is capped at size - 1.
    assert.deepEqual(typicality(d, 4, [0, 3], 20), [1 / 6, 1 / 6]);
    assert.deepEqual(typicality(d, 4, [2], 20), [Number.POSITIVE_INFINITY]);
  });

  test('clusters come largest first', () => {
    // Blob sizes 10, 10, 3: the small blob's pick comes last.
    const uneven = pointSet([
      ...CENTRES.slice(0, 2).flatMap(([cx, cy]) => BLOB.map(([x, y]) => [cx! + x!, cy! + y!])),
      [20, 20],
      [20.1, 20],
      [20, 20.1],
    ]);
    for (const pick of [kMeansMedoids, typiClust]) assert.ok(pick(uneven, 3, new Rng(1)).at(-1)! >= 20);
  });

  test('deterministic under a seed; every pick distinct and in range', () => {
    const p = randomPoints(40, 8, 7);
    for (const m of [1, 4, 9]) {
      const runs = [0, 0, 1].map((seed) => ({
        random: randomSelection(p.count, m, new Rng(seed)),
        kcenter: kCenterGreedy(p, m),
        typiclust: typiClust(p, m, new Rng(seed)),
        kmeans: kMeansMedoids(p, m, new Rng(seed)),
      }));
      assert.deepEqual(runs[0], runs[1]);
      for (const picks of Object.values(runs[2]!)) {
        assert.equal(picks.length, m);
        assert.equal(new Set(picks).size, m);
        for (const i of picks) assert.ok(Number.isInteger(i) && i >= 0 && i < p.count);
      }
    }
    assert.notDeepEqual(randomSelection(40, 9, new Rng(0)), randomSelection(40, 9, new Rng(1)));
  });

  test('k-means keeps every cluster non-empty, even with duplicate points', () => {
    const dup = pointSet([[0], [0], [0], [0], [1]]);
    const { members } = kMeans(dup, 3, new Rng(0));
    for (const m of members) assert.ok(m.length > 0);
    assert.equal(new Set(kMeansMedoids(dup, 3, new Rng(0))).size, 3);
  });

  test('budgets outside 1..N are refused', () => {
    const p = randomPoints(5, 2, 1);
    assert.throws(() => kCenterGreedy(p, 0), /kCenterGreedy: budget must be an integer in 1\.\.5, got 0/);
    assert.throws(() => typiClust(p, 6, new Rng(0)), /kMeans: budget must be an integer in 1\.\.5, got 6/);
    assert.throws(() => randomSelection(5, 2.5, new Rng(0)), /randomSelection: budget/);
  });
});
