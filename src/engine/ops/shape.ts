// Joining, selecting and padding tensors.
import { invalidArgument } from '../errors.js';
import { run1, type Tensor } from '../tensor.js';

function nonEmpty(fn: string, tensors: Tensor[]): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw invalidArgument(fn, 'tensors', 'a non-empty list of tensors', tensors);
  return tensors;
}

export const cat = (tensors: Tensor[], dim = 0) => run1('cat', [nonEmpty('cat', tensors), dim]);
export const stack = (tensors: Tensor[], dim = 0) => run1('stack', [nonEmpty('stack', tensors), dim]);
export const where = (cond: Tensor, a: Tensor | number, b: Tensor | number) => run1('where', [cond, a, b]);
export const maskedFill = (x: Tensor, mask: Tensor, value: number) => run1('masked_fill', [x, mask, value]);
export const scatter = (x: Tensor, dim: number, index: Tensor, src: Tensor) =>
  run1('scatter', [x, dim, index, src]);
export const scatterAdd = (x: Tensor, dim: number, index: Tensor, src: Tensor) =>
  run1('scatter_add', [x, dim, index, src]);
export const nonzero = (x: Tensor) => run1('nonzero', [x]);
export const roll = (x: Tensor, shifts: number[], dims: number[]) => run1('roll', [x, shifts, dims]);

/** Pads the last dims, torch order: [left, right, top, bottom, ...]. */
export function pad(
  x: Tensor,
  pads: number[],
  mode: 'constant' | 'reflect' | 'replicate' = 'constant',
  value = 0,
) {
  return run1('pad', [x, pads, mode, value]);
}
