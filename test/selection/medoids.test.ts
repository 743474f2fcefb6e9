// k-medoids on embeddings (the default selection): the set it finds against
// the exhaustive optimum, one image per cluster, labeled images pinned, the
// greedy order's costs, and the budget check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pairwiseDistances, pointSet } from '../../src/selection/baselines.js';
import { coverageCost, kMedoids } from '../../src/selection/medoids.js';
import { Rng } from '../../src/util/random.js';

/** Three tight clusters of unequal size in the plane, plus two far outliers. */
function clusters() {
  const rng = new Rng(3, 1);
  const rows: number[][] = [];
  const around = (x: number, y: number, k: number) => {
    for (let i = 0; i < k; i++) rows.push([x + (rng.next() - 0.5) * 0.2, y + (rng.next() - 0.5) * 0.2]);
  };
  around(0, 0, 12); // 0..11
  around(5, 0, 8); // 12..19
  around(0, 5, 6); // 20..25
  rows.push([20, 20], [-20, 20]); // 26, 27: outliers
  return pointSet(rows);
}

function allSets(n: number, m: number): number[][] {
  if (m === 0) return [[]];
  const out: number[][] = [];
  const rec = (from: number, acc: number[]) => {
    if (acc.length === m) return void out.push([...acc]);
    for (let i = from; i < n; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  return out;
}

describe('kMedoids', () => {
  test('no single swap improves its set, which is within 1% of the exhaustive optimum', () => {
    const rng = new Rng(9, 2);
    const p = pointSet(Array.from({ length: 12 }, () => [rng.next(), rng.next(), rng.next()]));
    const d = pairwiseDistances(p);
    for (const m of [1, 2, 3, 4]) {
      const best = Math.min(...allSets(12, m).map((s) => coverageCost(d, 12, s)));
      const { order, costs } = kMedoids(p, m);
      assert.equal(new Set(order).size, m);
      const cost = coverageCost(d, 12, order);
      assert.ok(cost <= best * 1.01, `m=${m}: ${costs.at(-1)} vs optimum ${best}`);
      if (m === 1) assert.ok(Math.abs(cost - best) < 1e-12, 'one image: the medoid');
      for (let k = 0; k < m; k++)
        for (let j = 0; j < 12; j++) {
          if (order.includes(j)) continue;
          const swapped = order.map((x, i) => (i === k ? j : x));
          assert.ok(coverageCost(d, 12, swapped) >= cost - 1e-12, `swapping ${order[k]} for ${j} helps`);
        }
    }
  });

  test('one image per cluster, the biggest first, and no outlier (typical images, not extremes)', () => {
    const p = clusters();
    const { order, costs } = kMedoids(p, 3);
    const clusterOf = (i: number) => (i < 12 ? 0 : i < 20 ? 1 : i < 26 ? 2 : 3);
    assert.deepEqual(order.map(clusterOf), [0, 1, 2]);
    const d = pairwiseDistances(p);
    costs.forEach((c, k) => {
      assert.ok(Math.abs(c - coverageCost(d, p.count, order.slice(0, k + 1))) < 1e-12);
      if (k > 0) assert.ok(c < costs[k - 1]!, 'each image lowers the cost');
    });
  });

  test('labeled images stay chosen; the new ones are the best given them', () => {
    const p = clusters();
    const d = pairwiseDistances(p);
    const labeled = [13, 14]; // two from the second cluster already
    const { order, costs } = kMedoids(p, 2, labeled);
    assert.ok(order.every((i) => !labeled.includes(i)));
    assert.deepEqual(order.map((i) => (i < 12 ? 0 : i < 20 ? 1 : 2)).sort(), [0, 2]);
    const best = Math.min(
      ...allSets(p.count, 2)
        .filter((s) => s.every((i) => !labeled.includes(i)))
        .map((s) => coverageCost(d, p.count, [...labeled, ...s])),
    );
    assert.ok(Math.abs(costs.at(-1)! - best) < 1e-9);
  });

  test('the budget must fit the images not labeled yet', () => {
    const p = clusters();
    assert.throws(() => kMedoids(p, 0), /budget must be an integer in 1\.\.28/);
    assert.throws(() => kMedoids(p, 27, [0, 1]), /in 1\.\.26, got 27/);
    assert.throws(() => kMedoids(p, 1.5), /got 1.5/);
  });
});
