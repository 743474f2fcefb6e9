// Template-set search on small similarity matrices checked by brute force.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  exhaustiveSingle,
  greedy,
  greedySwap,
  randomSearch,
  rankSingles,
  type SimilarityMatrix,
  score,
  swapSearch,
} from '../../src/selection/search.js';
import { Rng } from '../../src/util/random.js';

function randomMatrix(rows: number, candidates: number, seed: number): SimilarityMatrix {
  const rng = new Rng(seed);
  // Clustered structure: each row likes one of a few "types" of candidate.
  const types = Array.from({ length: candidates }, () => rng.int(0, 4));
  const values = new Float32Array(rows * candidates);
  for (let p = 0; p < rows; p++) {
    const t = rng.int(0, 4);
    for (let j = 0; j < candidates; j++)
      values[p * candidates + j] = (types[j] === t ? 0.6 : 0.2) + 0.3 * rng.next();
  }
  return { rows, candidates, values };
}

function bruteForce(r: SimilarityMatrix, m: number): number {
  let best = 0;
  const pick = (start: number, set: number[]): void => {
    if (set.length === m) {
      best = Math.max(best, score(r, set));
      return;
    }
    for (let j = start; j < r.candidates; j++) pick(j + 1, [...set, j]);
  };
  pick(0, []);
  return best;
}

describe('selection search', () => {
  test('score is the mean over rows of the best member', () => {
    const r = { rows: 2, candidates: 3, values: Float32Array.from([0.1, 0.5, 0.3, 0.9, 0.2, 0.4]) };
    assert.ok(Math.abs(score(r, [1]) - 0.35) < 1e-7);
    assert.ok(Math.abs(score(r, [0, 1]) - 0.7) < 1e-7);
    assert.deepEqual(
      rankSingles(r).map((x) => x.candidate),
      [0, 2, 1],
    );
    assert.deepEqual(exhaustiveSingle(r).selected, [0]);
  });

  test('greedy gains add up to its score, shrink, and stay within (1 - 1/e) of the optimum', () => {
    for (const seed of [1, 2, 3]) {
      const r = randomMatrix(60, 12, seed);
      for (const m of [2, 3, 4]) {
        const g = greedy(r, m);
        const sum = g.gains!.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - g.score) < 1e-9, `gains ${sum} vs score ${g.score}`);
        assert.ok(Math.abs(score(r, g.selected) - g.score) < 1e-6);
        for (let i = 1; i < m; i++)
          assert.ok(g.gains![i]! <= g.gains![i - 1]! + 1e-12, 'diminishing returns');
        const optimum = bruteForce(r, m);
        assert.ok(g.score >= (1 - 1 / Math.E) * optimum - 1e-9);
      }
    }
  });

  test('greedy + swap is at least as good as greedy and as the best of many random sets', () => {
    for (const seed of [4, 5]) {
      const r = randomMatrix(80, 14, seed);
      for (const m of [2, 3, 5]) {
        const gs = greedySwap(r, m);
        const g = greedy(r, m);
        const rand = randomSearch(r, m, 300, seed);
        assert.equal(gs.selected.length, m);
        assert.equal(new Set(gs.selected).size, m, 'no duplicates');
        assert.ok(gs.score >= g.score - 1e-12);
        const oneStart = swapSearch(r, g.selected);
        assert.ok(gs.score >= oneStart.score - 1e-12, 'restarts never lose to the single start');
        assert.ok(Math.abs(score(r, gs.selected) - gs.score) < 1e-6);
        assert.ok(gs.score >= rand.score - 1e-9, `greedy+swap ${gs.score} < random ${rand.score}`);
        assert.equal(rand.evaluated, 300);
        const optimum = bruteForce(r, m);
        assert.ok(gs.score <= optimum + 1e-9);
      }
    }
  });

  test('greedy with a forced first pick starts from it', () => {
    const r = randomMatrix(40, 9, 3);
    const last = rankSingles(r).at(-1)!.candidate;
    const g = greedy(r, 3, [last]);
    assert.equal(g.selected[0], last);
    assert.ok(Math.abs(score(r, g.selected) - g.score) < 1e-6);
  });

  test('swaps repair a bad start', () => {
    const r = randomMatrix(50, 10, 9);
    const worst = rankSingles(r)
      .slice(-2)
      .map((x) => x.candidate);
    const s = swapSearch(r, worst);
    assert.ok(s.score > score(r, worst));
    assert.ok(Math.abs(s.score - score(r, s.selected)) < 1e-6);
  });

  test('budgets outside 1..J are refused', () => {
    const r = randomMatrix(5, 4, 1);
    assert.throws(() => greedy(r, 0), /budget must be an integer in 1\.\.4, got 0/);
    assert.throws(() => randomSearch(r, 5, 10), /budget must be an integer in 1\.\.4, got 5/);
  });
});

describe('labeling in rounds', () => {
  test('labeled images stay chosen; the new ones are the best completion of them', () => {
    const r = randomMatrix(60, 9, 7);
    const labeled = [4, 6];
    const found = greedySwap(r, 2, 8, labeled);
    assert.equal(found.selected.length, 2);
    assert.ok(found.selected.every((j) => !labeled.includes(j)));
    assert.ok(Math.abs(found.score - score(r, [...labeled, ...found.selected])) < 1e-9);
    // Brute force over every pair of the other 7 candidates.
    let best = 0;
    for (let a = 0; a < 9; a++)
      for (let b = a + 1; b < 9; b++)
        if (!labeled.includes(a) && !labeled.includes(b)) best = Math.max(best, score(r, [...labeled, a, b]));
    assert.ok(found.score >= (1 - 1 / Math.E) * best && found.score <= best + 1e-9);
    // Swaps never drop a labeled image.
    const swapped = swapSearch(r, [...labeled, 0, 1], labeled.length);
    assert.deepEqual(swapped.selected.slice(0, 2), labeled);
  });
});
