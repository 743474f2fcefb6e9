// The demo tells the truth about selection: the chosen set against random sets,
// with its rank, and plainly when it did not help.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareWithRandom } from '../../src/cli/commands/demo.js';

describe('demo verdict', () => {
  test('a set better than the random mean: helped, with its rank', () => {
    const r = compareWithRandom(4, [5, 3, 6, 6]);
    assert.equal(r.rank, 2);
    assert.equal(r.mean, 5);
    assert.match(
      r.verdict,
      /^The chosen set helped: MRE 4\.000 mm, 20\.0% below the mean of 4 random sets, rank 2 of 5 \(random sets: 5\.000 ± 1\.225 mm\)$/,
    );
  });

  test('a set worse than the random mean: said plainly', () => {
    const r = compareWithRandom(7.028, [4.474, 5, 6, 8]);
    assert.equal(r.rank, 4);
    assert.match(
      r.verdict,
      /^The chosen set did not help here: MRE 7\.028 mm, .*% above the mean of 4 random sets, rank 4 of 5/,
    );
  });
});
