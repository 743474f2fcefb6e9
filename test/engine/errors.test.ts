// Bad arguments raise errors whose messages name the function and the rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { F, NativeError, tensor } from '../../src/engine/index.js';

interface Case {
  name: string;
  run: () => unknown;
  error: RegExp;
}

const cases: Case[] = [
  {
    name: 'broadcast shape mismatch (ATen message)',
    run: () => tensor([1, 2]).add(tensor([1, 2, 3])),
    error:
      /^add: The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0$/,
  },
  {
    name: 'matmul inner dimensions',
    run: () => E.matmul(E.zeros([2, 3]), E.zeros([4, 5])),
    error: /^matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\] \(3 vs 4\)$/,
  },
  {
    name: 'conv2d rank',
    run: () => F.conv2d(E.zeros([3, 8, 8]), E.zeros([4, 3, 3, 3])),
    error: /^conv2d: input must be rank 4, got rank 3$/,
  },
  {
    name: 'conv2d channels',
    run: () => F.conv2d(E.zeros([1, 2, 8, 8]), E.zeros([4, 3, 3, 3])),
    error: /^conv2d: input has 2 channels but weight expects 3/,
  },
  {
    name: 'conv2d dtype',
    run: () => F.conv2d(E.zeros([1, 3, 8, 8], 'int64'), E.zeros([4, 3, 3, 3])),
    error:
      /^conv2d: expected a float32 or float64 tensor for input but received a int64 tensor of shape \[1, 3, 8, 8\]$/,
  },
  {
    name: 'cross entropy target dtype',
    run: () => F.crossEntropy(E.zeros([2, 3]), E.zeros([2])),
    error: /^crossEntropy: expected an int64 tensor for target but received a float32 tensor of shape \[2\]$/,
  },
  {
    name: 'mixed dtypes in matmul (ATen message)',
    run: () => E.matmul(E.zeros([2, 2]), E.zeros([2, 2], 'float64')),
    error: /^matmul: .*(dtype|same|Double|Float)/,
  },
  {
    name: 'data length against shape',
    run: () => tensor([1, 2, 3], [2, 2]),
    error: /^tensor: expected 4 values for shape \[2, 2\] for data but received '3 values'$/,
  },
  {
    name: 'negative shape',
    run: () => E.zeros([2, -1]),
    error: /^zeros: expected a list of non-negative integers for shape but received \[2, -1\]$/,
  },
  {
    name: 'gridSample grid layout',
    run: () => F.gridSample(E.zeros([1, 1, 4, 4]), E.zeros([1, 2, 2, 3])),
    error: /^gridSample: grid's last dim must be 2, got 3$/,
  },
  {
    name: 'unknown interpolation mode',
    run: () => F.interpolate(E.zeros([1, 1, 2, 2]), { size: [4, 4], mode: 'area' as 'bilinear' }),
    error: /^interpolate: unknown interpolation mode 'area'/,
  },
  {
    name: 'item of a non-scalar',
    run: () => E.zeros([2]).item(),
    error: /^item: tensor must hold one value, it has shape \[2\]$/,
  },
];

describe('bad arguments', () => {
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => E.tidy(c.run),
        (err: Error) => {
          assert.match(err.message, c.error);
          return true;
        },
      );
    });
  }

  test('native failures are NativeError with a JS stack through the caller', () => {
    try {
      tensor([1, 2]).add(tensor([1, 2, 3]));
      assert.fail('no error');
    } catch (err) {
      assert.ok(err instanceof NativeError);
      assert.match(String((err as Error).stack), /errors\.test/);
    }
  });

  test('a disposed tensor cannot be used, and dispose twice is safe', () => {
    const t = tensor([1, 2]);
    t.dispose();
    t.dispose();
    assert.throws(() => t.add(1), /^Error: add: tensor of shape \[2\] was already disposed$/);
    assert.throws(() => t.toArray(), /data: tensor of shape \[2\] was already disposed/);
  });

  test('an unknown op is refused by the addon', () => {
    assert.throws(() => E.run('no_such_op', []), /^NativeError: no_such_op: unknown op 'no_such_op'$/);
  });
});
