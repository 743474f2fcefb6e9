// Gradients of the ops the models rely on, against central finite
// differences in float64.
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { F, type Tensor } from '../../src/engine/index.js';
import { assertClose } from '../helpers.js';

/**
 * Checks d/dx of sum(fn(x) * w) for a fixed random w, for every input
 * listed in `inputs` (the others are held constant).
 */
function gradcheck(name: string, make: () => Tensor[], fn: (xs: Tensor[]) => Tensor, inputs: number[]): void {
  E.seed(7);
  const xs = make().map((t) => t.keep());
  const weight = E.tidy(() => E.randn([...fn(xs).shape], 'float64')).keep();
  const objective = (args: Tensor[]) => E.tidy(() => fn(args).mul(weight).sum().item());
  for (const k of inputs) {
    const x = xs[k]!;
    x.requiresGrad_(true);
    E.tidy(() => fn(xs).mul(weight).sum().backward());
    const analytic = x.grad!.toArray();
    x.requiresGrad_(false);
    const base = x.toArray();
    const numeric: number[] = [];
    const h = 1e-6;
    for (let i = 0; i < base.length; i++) {
      const probe = (delta: number) => {
        const v = base.slice();
        v[i] = v[i]! + delta;
        const moved = E.tensor(v, [...x.shape], 'float64');
        const args = xs.map((t, j) => (j === k ? moved : t));
        const out = objective(args);
        moved.dispose();
        return out;
      };
      numeric.push((probe(h) - probe(-h)) / (2 * h));
    }
    assertClose(analytic, numeric, 1e-5, `${name}: gradient of input ${k}`);
  }
  for (const t of [...xs, weight]) t.dispose();
}

describe('gradients against finite differences', () => {
  test('conv2d (input, weight, bias; stride, padding, dilation, groups)', () => {
    gradcheck(
      'conv2d',
      () => [E.randn([1, 4, 6, 6], 'float64'), E.randn([4, 2, 3, 3], 'float64'), E.randn([4], 'float64')],
      ([x, w, b]) => F.conv2d(x!, w!, b, { stride: 2, padding: 1, dilation: 1, groups: 2 }),
      [0, 1, 2],
    );
    gradcheck(
      'conv2d dilated',
      () => [E.randn([1, 2, 7, 7], 'float64'), E.randn([3, 2, 3, 3], 'float64')],
      ([x, w]) => F.conv2d(x!, w!, null, { dilation: 2, padding: 2 }),
      [0, 1],
    );
  });

  test('bilinear interpolation, both corner conventions', () => {
    for (const alignCorners of [true, false]) {
      gradcheck(
        `interpolate alignCorners=${alignCorners}`,
        () => [E.randn([1, 2, 3, 4], 'float64')],
        ([x]) => F.interpolate(x!, { size: [7, 5], alignCorners }),
        [0],
      );
    }
  });

  test('normalize', () => {
    gradcheck(
      'normalize',
      () => [E.randn([2, 5, 3], 'float64')],
      ([x]) => F.normalize(x!, 2, 1),
      [0],
    );
  });

  test('grid_sample (input and grid) and affine_grid', () => {
    gradcheck(
      'grid_sample',
      () => [E.randn([1, 2, 5, 5], 'float64'), E.rand([1, 3, 4, 2], 'float64').mul(1.6).sub(0.8)],
      ([x, g]) => F.gridSample(x!, g!, { alignCorners: false, padding: 'border' }),
      [0, 1],
    );
    gradcheck(
      'affine_grid',
      () => [E.randn([2, 2, 3], 'float64')],
      ([theta]) => F.affineGrid(theta!, [2, 1, 3, 4], false),
      [0],
    );
  });

  test('batch_norm and log_softmax', () => {
    gradcheck(
      'batch_norm',
      () => [E.randn([3, 2, 2, 2], 'float64'), E.randn([2], 'float64')],
      ([x, w]) => F.batchNorm(x!, { weight: w, training: true }),
      [0, 1],
    );
    gradcheck(
      'log_softmax',
      () => [E.randn([2, 5], 'float64')],
      ([x]) => F.logSoftmax(x!, 1),
      [0],
    );
  });
});
