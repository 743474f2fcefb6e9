// tidy() frees what it made except what it returns; keep() opts out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';

describe('tensor scopes', () => {
  test('tidy disposes intermediates and keeps returned tensors', () => {
    const before = E.memory().liveTensors;
    const out = E.tidy(() => {
      const a = E.ones([3]);
      const b = a.mul(2);
      return { sum: b.add(1), list: [b.sub(1)] };
    });
    assert.equal(E.memory().liveTensors, before + 2);
    assert.deepEqual(out.sum.toArray(), [3, 3, 3]);
    out.sum.dispose();
    out.list[0]!.dispose();
    assert.equal(E.memory().liveTensors, before);
  });

  test('returned tensors move to the enclosing scope', () => {
    const before = E.memory().liveTensors;
    E.tidy(() => {
      const inner = E.tidy(() => E.ones([2]));
      assert.ok(!inner.isDisposed);
      return undefined;
    });
    assert.equal(E.memory().liveTensors, before);
  });

  test('tidy frees everything when fn throws', () => {
    const before = E.memory().liveTensors;
    assert.throws(() =>
      E.tidy(() => {
        E.ones([2]);
        throw new Error('boom');
      }),
    );
    assert.equal(E.memory().liveTensors, before);
  });

  test('keep() survives the scope; async fns are refused', () => {
    const kept = E.tidy(() => {
      E.ones([1]).keep();
      return E.zeros([1]).keep();
    });
    assert.ok(!kept.isDisposed);
    kept.dispose();
    assert.throws(() => E.tidy(async () => 1), /tidy: fn must be synchronous/);
  });

  test('noGrad stops gradient recording and restores it', () => {
    const w = E.ones([2]).requiresGrad_(true).keep();
    const y = E.noGrad(() => w.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(w.mul(2).requiresGrad, true);
  });
});

describe('garbage collection of unscoped tensors', () => {
  test('tensors dropped without dispose() are freed by the GC finalizer', async (t) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return t.skip('needs node --expose-gc (npm test passes it)');
    const before = E.memory().liveTensors;
    (() => {
      for (let i = 0; i < 50; i++) E.ones([1000]);
    })();
    assert.equal(E.memory().liveTensors, before + 50);
    for (let i = 0; i < 10 && E.memory().liveTensors > before; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Earlier tests' unreferenced tensors may go too, hence <=.
    assert.ok(E.memory().liveTensors <= before, `${E.memory().liveTensors} live, ${before} before`);
  });
});
