// Each op against values computed by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { F, type Tensor, tensor } from '../../src/engine/index.js';
import { assertClose } from '../helpers.js';

const m = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

interface Case {
  name: string;
  run: () => Tensor;
  shape: number[];
  values: number[];
  dtype?: string;
}

const cases: Case[] = [
  // creation
  { name: 'zeros', run: () => E.zeros([2, 2]), shape: [2, 2], values: [0, 0, 0, 0] },
  { name: 'full int64', run: () => E.full([3], 7, 'int64'), shape: [3], values: [7, 7, 7], dtype: 'int64' },
  { name: 'arange', run: () => E.arange(0, 5, 2), shape: [3], values: [0, 2, 4] },
  { name: 'linspace', run: () => E.linspace(0, 1, 5), shape: [5], values: [0, 0.25, 0.5, 0.75, 1] },
  { name: 'eye', run: () => E.eye(2), shape: [2, 2], values: [1, 0, 0, 1] },
  // shape
  { name: 'reshape', run: () => m().reshape([3, 2]), shape: [3, 2], values: [1, 2, 3, 4, 5, 6] },
  { name: 'permute', run: () => m().permute([1, 0]), shape: [3, 2], values: [1, 4, 2, 5, 3, 6] },
  { name: 'transpose', run: () => m().transpose(0, 1), shape: [3, 2], values: [1, 4, 2, 5, 3, 6] },
  { name: 'narrow', run: () => m().narrow(1, 1, 2), shape: [2, 2], values: [2, 3, 5, 6] },
  { name: 'slice step', run: () => m().slice(1, 0, 3, 2), shape: [2, 2], values: [1, 3, 4, 6] },
  { name: 'select', run: () => m().select(0, 1), shape: [3], values: [4, 5, 6] },
  { name: 'unsqueeze', run: () => m().unsqueeze(0), shape: [1, 2, 3], values: [1, 2, 3, 4, 5, 6] },
  { name: 'flip', run: () => m().flip([1]), shape: [2, 3], values: [3, 2, 1, 6, 5, 4] },
  { name: 'expand', run: () => tensor([[1], [2]]).expand([2, 3]), shape: [2, 3], values: [1, 1, 1, 2, 2, 2] },
  {
    name: 'cat dim 1',
    run: () => E.cat([m(), m()], 1),
    shape: [2, 6],
    values: [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6],
  },
  {
    name: 'stack',
    run: () => E.stack([tensor([1, 2]), tensor([3, 4])], 1),
    shape: [2, 2],
    values: [1, 3, 2, 4],
  },
  {
    name: 'index_select',
    run: () => m().indexSelect(1, tensor([2, 0], [2], 'int64')),
    shape: [2, 2],
    values: [3, 1, 6, 4],
  },
  {
    name: 'gather',
    run: () => m().gather(1, tensor([[2], [0]], undefined, 'int64')),
    shape: [2, 1],
    values: [3, 4],
  },
  {
    name: 'where',
    run: () => E.where(m().gt(3), m(), tensor(0)),
    shape: [2, 3],
    values: [0, 0, 0, 4, 5, 6],
  },
  {
    name: 'where scalars',
    run: () => E.where(m().gt(3), 1, -1),
    shape: [2, 3],
    values: [-1, -1, -1, 1, 1, 1],
    dtype: 'int64',
  },
  {
    name: 'pad',
    run: () => E.pad(tensor([[1, 2]]), [1, 0], 'constant', 9),
    shape: [1, 3],
    values: [9, 1, 2],
  },
  // element-wise
  { name: 'add tensor', run: () => m().add(m()), shape: [2, 3], values: [2, 4, 6, 8, 10, 12] },
  {
    name: 'add broadcast',
    run: () => m().add(tensor([10, 20, 30])),
    shape: [2, 3],
    values: [11, 22, 33, 14, 25, 36],
  },
  { name: 'sub scalar', run: () => m().sub(1), shape: [2, 3], values: [0, 1, 2, 3, 4, 5] },
  { name: 'mul scalar', run: () => m().mul(0.5), shape: [2, 3], values: [0.5, 1, 1.5, 2, 2.5, 3] },
  { name: 'div', run: () => m().div(m()), shape: [2, 3], values: [1, 1, 1, 1, 1, 1] },
  { name: 'pow', run: () => m().pow(2), shape: [2, 3], values: [1, 4, 9, 16, 25, 36] },
  { name: 'neg abs', run: () => m().neg().abs(), shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
  { name: 'exp log', run: () => m().exp().log(), shape: [2, 3], values: [1, 2, 3, 4, 5, 6] },
  { name: 'sqrt', run: () => tensor([4, 9]).sqrt(), shape: [2], values: [2, 3] },
  { name: 'clamp', run: () => m().clamp(2, 5), shape: [2, 3], values: [2, 2, 3, 4, 5, 5] },
  { name: 'clamp min only', run: () => m().clamp(4), shape: [2, 3], values: [4, 4, 4, 4, 5, 6] },
  { name: 'maximum', run: () => E.maximum(tensor([1, 5]), tensor([3, 2])), shape: [2], values: [3, 5] },
  { name: 'atan2', run: () => E.atan2(tensor([1]), tensor([1])), shape: [1], values: [Math.PI / 4] },
  { name: 'eq', run: () => m().eq(2), shape: [2, 3], values: [0, 1, 0, 0, 0, 0], dtype: 'bool' },
  { name: 'floor', run: () => E.unary('floor', tensor([1.5, -1.5])), shape: [2], values: [1, -2] },
  {
    name: 'to int64',
    run: () => tensor([1.7, -1.7]).to('int64'),
    shape: [2],
    values: [1, -1],
    dtype: 'int64',
  },
  // activations
  { name: 'relu', run: () => F.relu(tensor([-1, 2])), shape: [2], values: [0, 2] },
  { name: 'leaky_relu', run: () => F.leakyRelu(tensor([-1, 2]), 0.1), shape: [2], values: [-0.1, 2] },
  { name: 'sigmoid', run: () => F.sigmoid(tensor([0])), shape: [1], values: [0.5] },
  {
    name: 'softmax',
    run: () => F.softmax(tensor([0, Math.log(3)]), 0),
    shape: [2],
    values: [0.25, 0.75],
  },
  {
    name: 'log_softmax',
    run: () => F.logSoftmax(tensor([0, Math.log(3)]), 0),
    shape: [2],
    values: [Math.log(0.25), Math.log(0.75)],
  },
  { name: 'normalize', run: () => F.normalize(tensor([[3, 4]]), 2, 1), shape: [1, 2], values: [0.6, 0.8] },
  // reductions
  { name: 'sum all', run: () => m().sum(), shape: [], values: [21] },
  { name: 'sum dim 0', run: () => m().sum(0), shape: [3], values: [5, 7, 9] },
  { name: 'mean keepdim', run: () => m().mean(1, true), shape: [2, 1], values: [2, 5] },
  { name: 'max dims', run: () => m().max(0), shape: [3], values: [4, 5, 6] },
  { name: 'min all', run: () => m().min(), shape: [], values: [1] },
  {
    name: 'argmax dim',
    run: () =>
      tensor([
        [1, 9, 3],
        [7, 2, 0],
      ]).argmax(1),
    shape: [2],
    values: [1, 0],
    dtype: 'int64',
  },
  {
    name: 'maxDim values',
    run: () =>
      E.maxDim(
        tensor([
          [1, 9],
          [7, 2],
        ]),
        1,
      ).values,
    shape: [2],
    values: [9, 7],
  },
  {
    name: 'maxDim indices',
    run: () =>
      E.maxDim(
        tensor([
          [1, 9],
          [7, 2],
        ]),
        1,
      ).indices,
    shape: [2],
    values: [1, 0],
    dtype: 'int64',
  },
  { name: 'topk values', run: () => E.topk(tensor([3, 1, 4, 1, 5]), 2).values, shape: [2], values: [5, 4] },
  {
    name: 'topk indices',
    run: () => E.topk(tensor([3, 1, 4, 1, 5]), 2).indices,
    shape: [2],
    values: [4, 2],
    dtype: 'int64',
  },
  {
    name: 'topk smallest',
    run: () => E.topk(tensor([3, 1, 4]), 1, 0, false).values,
    shape: [1],
    values: [1],
  },
  { name: 'logsumexp', run: () => E.logsumexp(tensor([0, 0]), 0), shape: [], values: [Math.log(2)] },
  { name: 'std', run: () => E.std(tensor([1, 3])), shape: [], values: [Math.SQRT2] },
  { name: 'norm', run: () => E.norm(tensor([3, 4])), shape: [], values: [5] },
  { name: 'cumsum', run: () => E.cumsum(tensor([1, 2, 3]), 0), shape: [3], values: [1, 3, 6] },
  // linear algebra
  {
    name: 'matmul',
    run: () => E.matmul(m(), tensor([[1], [0], [-1]])),
    shape: [2, 1],
    values: [-2, -2],
  },
  {
    name: 'bmm',
    run: () =>
      E.bmm(
        tensor([[[1, 2]], [[3, 4]]]),
        tensor([
          [[1], [1]],
          [[2], [0]],
        ]),
      ),
    shape: [2, 1, 1],
    values: [3, 6],
  },
  { name: 'einsum', run: () => E.einsum('ij,ij->i', [m(), m()]), shape: [2], values: [14, 77] },
  // convolution and pooling
  {
    name: 'conv2d 2x2 kernel',
    run: () =>
      F.conv2d(
        tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]),
        tensor([1, 0, 0, -1], [1, 1, 2, 2]),
        tensor([10]),
      ),
    shape: [1, 1, 2, 2],
    values: [10 - 4, 10 - 4, 10 - 4, 10 - 4],
  },
  {
    name: 'conv2d stride 2 padding 1',
    run: () => F.conv2d(E.ones([1, 1, 4, 4]), E.ones([1, 1, 3, 3]), null, { stride: 2, padding: 1 }),
    shape: [1, 1, 2, 2],
    values: [4, 6, 6, 9],
  },
  {
    name: 'conv2d dilation 2',
    run: () =>
      F.conv2d(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), E.ones([1, 1, 2, 2]), null, {
        dilation: 2,
      }),
    shape: [1, 1, 1, 1],
    values: [1 + 3 + 7 + 9],
  },
  {
    name: 'conv2d groups 2',
    run: () => F.conv2d(tensor([1, 2], [1, 2, 1, 1]), tensor([10, 100], [2, 1, 1, 1]), null, { groups: 2 }),
    shape: [1, 2, 1, 1],
    values: [10, 200],
  },
  {
    name: 'max_pool2d',
    run: () => F.maxPool2d(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]), 2),
    shape: [1, 1, 2, 2],
    values: [6, 8, 14, 16],
  },
  {
    name: 'avg_pool2d',
    run: () => F.avgPool2d(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]), 2),
    shape: [1, 1, 2, 2],
    values: [3.5, 5.5, 11.5, 13.5],
  },
  // resampling
  {
    name: 'bilinear align_corners=true',
    run: () => F.interpolate(tensor([0, 1, 2, 3], [1, 1, 2, 2]), { size: [3, 3], alignCorners: true }),
    shape: [1, 1, 3, 3],
    values: [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3],
  },
  {
    name: 'bilinear align_corners=false',
    run: () => F.interpolate(tensor([0, 1], [1, 1, 1, 2]), { size: [1, 4] }),
    shape: [1, 1, 1, 4],
    values: [0, 0.25, 0.75, 1],
  },
  {
    name: 'nearest',
    run: () => F.interpolate(tensor([0, 1], [1, 1, 1, 2]), { size: [1, 4], mode: 'nearest' }),
    shape: [1, 1, 1, 4],
    values: [0, 0, 1, 1],
  },
  {
    name: 'affine_grid identity',
    run: () =>
      F.affineGrid(
        tensor([
          [
            [1, 0, 0],
            [0, 1, 0],
          ],
        ]),
        [1, 1, 1, 2],
        true,
      ),
    shape: [1, 1, 2, 2],
    values: [-1, 0, 1, 0],
  },
  {
    name: 'grid_sample midpoint',
    run: () =>
      F.gridSample(tensor([0, 10, 20, 30], [1, 1, 2, 2]), tensor([0, 0], [1, 1, 1, 2]), {
        alignCorners: true,
      }),
    shape: [1, 1, 1, 1],
    values: [15],
  },
  // normalisation layers
  {
    name: 'batch_norm training',
    run: () => F.batchNorm(tensor([1, 3], [2, 1, 1, 1]), { training: true, eps: 0 }),
    shape: [2, 1, 1, 1],
    values: [-1, 1],
  },
  {
    name: 'instance_norm',
    run: () => F.instanceNorm(tensor([1, 3], [1, 1, 1, 2]), null, null, 0),
    shape: [1, 1, 1, 2],
    values: [-1, 1],
  },
  {
    name: 'group_norm',
    run: () => F.groupNorm(tensor([1, 3, 10, 20], [1, 2, 1, 2]), 2, null, null, 0),
    shape: [1, 2, 1, 2],
    values: [-1, 1, -1, 1],
  },
  // losses
  { name: 'mse_loss', run: () => F.mseLoss(tensor([1, 2]), tensor([0, 0])), shape: [], values: [2.5] },
  {
    name: 'l1_loss sum',
    run: () => F.l1Loss(tensor([1, -2]), tensor([0, 0]), 'sum'),
    shape: [],
    values: [3],
  },
  {
    name: 'cross_entropy',
    run: () => F.crossEntropy(tensor([[0, Math.log(3)]]), tensor([1], [1], 'int64')),
    shape: [],
    values: [-Math.log(0.75)],
  },
  {
    name: 'bce_with_logits',
    run: () => F.bceWithLogits(tensor([0]), tensor([1])),
    shape: [],
    values: [Math.log(2)],
  },
];

describe('ops against hand-computed values', () => {
  for (const c of cases) {
    test(c.name, () => {
      const out = E.tidy(() => {
        const t = c.run();
        return { shape: [...t.shape], values: t.toArray(), dtype: t.dtype };
      });
      assert.deepEqual(out.shape, c.shape, `${c.name}: shape`);
      assert.equal(out.dtype, c.dtype ?? 'float32', `${c.name}: dtype`);
      assertClose(out.values, c.values, 1e-5, c.name);
    });
  }

  test('random draws repeat under the same seed', () => {
    E.seed(42);
    const a = E.tidy(() => E.randn([5]).toArray());
    E.seed(42);
    const b = E.tidy(() => E.randn([5]).toArray());
    assert.deepEqual(a, b);
    const r = E.tidy(() => E.randint(0, 3, [100]).toArray());
    assert.ok(r.every((v) => v >= 0 && v < 3));
  });

  test('batch_norm updates running statistics in place', () => {
    const mean = E.zeros([1]).keep();
    const variance = E.ones([1]).keep();
    E.tidy(() =>
      F.batchNorm(tensor([1, 3], [2, 1, 1, 1]), {
        training: true,
        runningMean: mean,
        runningVar: variance,
        momentum: 0.5,
      }),
    );
    assertClose(mean.toArray(), [1], 1e-6);
    // unbiased variance of {1, 3} is 2: 0.5 * 1 + 0.5 * 2
    assertClose(variance.toArray(), [1.5], 1e-6);
  });

  test('in-place copy_ and fill_', () => {
    const t = E.zeros([2]).keep();
    t.copy_(tensor([5, 6]));
    assert.deepEqual(t.toArray(), [5, 6]);
    t.fill_(1);
    assert.deepEqual(t.toArray(), [1, 1]);
  });

  test('thread count can be set and read', () => {
    const before = E.threads();
    assert.equal(E.threads(1), 1);
    E.threads(before);
    assert.equal(E.threads(), before);
  });
});
