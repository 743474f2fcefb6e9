// Shared assertions for tests.
import assert from 'node:assert/strict';

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-5,
  what = 'values',
) {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e))))
      assert.fail(
        `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})\n  actual:   ${Array.from(actual)}\n  expected: ${Array.from(expected)}`,
      );
  }
}
