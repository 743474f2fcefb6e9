// The fused MRE of a template set from the one-shot table: median fusion,
// the set's own images left out as targets, and the `only` subset of
// targets that the sub-pool benchmark evaluates on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type OneShotTable, setMre } from '../../src/experiment/oneshot-table.js';

/** Three templates (a, b, c) on three targets (a, b, d), one landmark; template j predicts x = 10 j + target. */
function table(): OneShotTable {
  const templates = ['a', 'b', 'c'];
  const targets = ['a', 'b', 'd'];
  const n = templates.length * targets.length;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const value = new Float32Array(n).fill(1);
  for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) x[j * 3 + i] = 10 * j + i;
  return { templates, targets, landmarks: 1, x, y, value, done: 3 };
}
const truth = [[{ x: 0, y: 0 }], [{ x: 1, y: 0 }], [{ x: 2, y: 0 }]];

describe('setMre', () => {
  test('median over the set, the set members left out as targets', () => {
    // Set {b, c}: target a is out (not in set), b is in the set (left out), d kept.
    // Target a: median of 10, 20 = 15 -> error 15; target d: median of 12, 22 = 17 -> 15.
    assert.equal(setMre(table(), [1, 2], truth, 1, 'median'), 15);
  });
  test('only: the given targets and no others', () => {
    assert.equal(setMre(table(), [1, 2], truth, 1, 'median', [0]), 15);
    // Set {c}: target a error 20, b error 20, d error 20; only [1] keeps b.
    assert.equal(setMre(table(), [2], truth, 2, 'median', [1]), 40);
    assert.ok(Number.isNaN(setMre(table(), [1], truth, 1, 'median', [1])), 'no target left: NaN');
  });
});
