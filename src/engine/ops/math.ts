// Element-wise math and linear algebra beyond the chained Tensor methods.
import { invalidArgument } from '../errors.js';
import { run, run1, type Tensor } from '../tensor.js';

export const maximum = (a: Tensor, b: Tensor) => run1('maximum', [a, b]);
export const minimum = (a: Tensor, b: Tensor) => run1('minimum', [a, b]);
export const atan2 = (y: Tensor, x: Tensor) => run1('atan2', [y, x]);
export const remainder = (a: Tensor, b: Tensor | number) => run1('remainder', [a, b]);
export const ne = (a: Tensor, b: Tensor | number) => run1('ne', [a, b]);
export const logicalAnd = (a: Tensor, b: Tensor) => run1('logical_and', [a, b]);
export const logicalOr = (a: Tensor, b: Tensor) => run1('logical_or', [a, b]);
export const logicalNot = (a: Tensor) => run1('logical_not', [a]);
export const lerp = (a: Tensor, b: Tensor, weight: number) => run1('lerp', [a, b, weight]);

const UNARY = [
  'log1p',
  'rsqrt',
  'sin',
  'cos',
  'tanh',
  'floor',
  'ceil',
  'round',
  'sign',
  'reciprocal',
  'isnan',
  'isfinite',
  'erf',
] as const;
type UnaryName = (typeof UNARY)[number];
export function unary(name: UnaryName, x: Tensor): Tensor {
  return run1(name, [x]);
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0)
    throw invalidArgument('matmul', 'operands', 'tensors of rank >= 1', a.rank ? b : a);
  const k = a.shape[a.rank - 1];
  const kb = b.rank === 1 ? b.shape[0] : b.shape[b.rank - 2];
  if (k !== kb)
    throw new RangeError(
      `matmul: inner dimensions differ: [${a.shape.join(', ')}] @ [${b.shape.join(', ')}] (${k} vs ${kb})`,
    );
  return run1('matmul', [a, b]);
}

export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 3 || b.rank !== 3)
    throw invalidArgument('bmm', 'operands', 'two rank-3 tensors', a.rank !== 3 ? a : b);
  return run1('bmm', [a, b]);
}

export const einsum = (equation: string, tensors: Tensor[]) => run1('einsum', [equation, tensors]);
export const linear = (x: Tensor, weight: Tensor, bias?: Tensor) => run1('linear', [x, weight, bias]);

// ---- reductions returning values and indices
export function maxDim(x: Tensor, dim: number, keepDim = false): { values: Tensor; indices: Tensor } {
  const [values, indices] = run('max_dim', [x, dim, keepDim]);
  return { values: values!, indices: indices! };
}
export function minDim(x: Tensor, dim: number, keepDim = false): { values: Tensor; indices: Tensor } {
  const [values, indices] = run('min_dim', [x, dim, keepDim]);
  return { values: values!, indices: indices! };
}
export function topk(x: Tensor, k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
  const [values, indices] = run('topk', [x, k, dim, largest]);
  return { values: values!, indices: indices! };
}
export function sort(x: Tensor, dim = -1, descending = false): { values: Tensor; indices: Tensor } {
  const [values, indices] = run('sort', [x, dim, descending]);
  return { values: values!, indices: indices! };
}
export const argmin = (x: Tensor, dim?: number, keepDim = false) => run1('argmin', [x, dim, keepDim]);
export const logsumexp = (x: Tensor, dims: number | number[], keepDim = false) =>
  run1('logsumexp', [x, dims, keepDim]);
export const std = (x: Tensor, dims?: number | number[], unbiased = true, keepDim = false) =>
  run1('std', [x, dims, unbiased, keepDim]);
export const variance = (x: Tensor, dims?: number | number[], unbiased = true, keepDim = false) =>
  run1('var', [x, dims, unbiased, keepDim]);
export const norm = (x: Tensor, p = 2, dims?: number | number[], keepDim = false) =>
  run1('norm', [x, p, dims, keepDim]);
export const cumsum = (x: Tensor, dim: number) => run1('cumsum', [x, dim]);
export const all = (x: Tensor) => run1('all', [x]);
export const any = (x: Tensor) => run1('any', [x]);
