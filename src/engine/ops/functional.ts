// Neural-network ops: convolution, pooling, resampling, normalisation,
// activations and losses. Shape rules are checked here so that messages
// name the function and the rule.
import { invalidArgument } from '../errors.js';
import { run1, type Tensor } from '../tensor.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

function requireRank(fn: string, name: string, x: Tensor, rank: number): void {
  if (x.rank !== rank) throw new RangeError(`${fn}: ${name} must be rank ${rank}, got rank ${x.rank}`);
}

function requireFloat(fn: string, name: string, x: Tensor): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64')
    throw invalidArgument(fn, name, 'a float32 or float64 tensor', x);
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** x [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW], bias [Cout]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  requireRank('conv2d', 'input', x, 4);
  requireRank('conv2d', 'weight', weight, 4);
  requireFloat('conv2d', 'input', x);
  const groups = o.groups ?? 1;
  if (x.shape[1] !== weight.shape[1]! * groups)
    throw new RangeError(
      `conv2d: input has ${x.shape[1]} channels but weight expects ${weight.shape[1]! * groups} (${weight.shape[1]} x ${groups} groups)`,
    );
  return run1('conv2d', [
    x,
    weight,
    bias,
    pair(o.stride ?? 1),
    pair(o.padding ?? 0),
    pair(o.dilation ?? 1),
    groups,
  ]);
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

/** x [N, Cin, H, W], weight [Cin, Cout/groups, kH, kW]. */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  o: ConvTranspose2dOptions = {},
) {
  requireRank('convTranspose2d', 'input', x, 4);
  requireRank('convTranspose2d', 'weight', weight, 4);
  return run1('conv_transpose2d', [
    x,
    weight,
    bias,
    pair(o.stride ?? 1),
    pair(o.padding ?? 0),
    pair(o.outputPadding ?? 0),
    o.groups ?? 1,
    pair(o.dilation ?? 1),
  ]);
}

export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  stride?: Pair,
  padding: Pair = 0,
  ceilMode = false,
): Tensor {
  requireRank('maxPool2d', 'input', x, 4);
  return run1('max_pool2d', [x, pair(kernel), pair(stride ?? kernel), pair(padding), [1, 1], ceilMode]);
}

export function avgPool2d(
  x: Tensor,
  kernel: Pair,
  stride?: Pair,
  padding: Pair = 0,
  ceilMode = false,
): Tensor {
  requireRank('avgPool2d', 'input', x, 4);
  return run1('avg_pool2d', [x, pair(kernel), pair(stride ?? kernel), pair(padding), ceilMode, true]);
}

export const adaptiveAvgPool2d = (x: Tensor, size: Pair) => run1('adaptive_avg_pool2d', [x, pair(size)]);

export interface InterpolateOptions {
  size: [number, number];
  mode?: 'bilinear' | 'bicubic' | 'nearest';
  alignCorners?: boolean;
}

/** Resizes [N, C, H, W] to size [outH, outW]. */
export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  requireRank('interpolate', 'input', x, 4);
  const mode = o.mode ?? 'bilinear';
  return run1('interpolate', [x, o.size, mode, o.alignCorners ?? false]);
}

/** theta [N, 2, 3] -> sampling grid [N, H, W, 2] for size [N, C, H, W]. */
export function affineGrid(
  theta: Tensor,
  size: [number, number, number, number],
  alignCorners = false,
): Tensor {
  requireRank('affineGrid', 'theta', theta, 3);
  if (theta.shape[1] !== 2 || theta.shape[2] !== 3)
    throw new RangeError(`affineGrid: theta must be [N, 2, 3], got [${theta.shape.join(', ')}]`);
  return run1('affine_grid', [theta, size, alignCorners]);
}

export interface GridSampleOptions {
  mode?: 'bilinear' | 'nearest' | 'bicubic';
  padding?: 'zeros' | 'border' | 'reflection';
  alignCorners?: boolean;
}

/** Samples x [N, C, H, W] at grid [N, Ho, Wo, 2] of (x, y) in [-1, 1]. */
export function gridSample(x: Tensor, grid: Tensor, o: GridSampleOptions = {}): Tensor {
  requireRank('gridSample', 'input', x, 4);
  requireRank('gridSample', 'grid', grid, 4);
  if (grid.shape[3] !== 2)
    throw new RangeError(`gridSample: grid's last dim must be 2, got ${grid.shape[3]}`);
  return run1('grid_sample', [x, grid, o.mode ?? 'bilinear', o.padding ?? 'zeros', o.alignCorners ?? false]);
}

export interface BatchNormArgs {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** Updates runningMean/runningVar in place when training. */
export function batchNorm(x: Tensor, a: BatchNormArgs): Tensor {
  return run1('batch_norm', [
    x,
    a.weight,
    a.bias,
    a.runningMean,
    a.runningVar,
    a.training,
    a.momentum ?? 0.1,
    a.eps ?? 1e-5,
  ]);
}

export const instanceNorm = (x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5) =>
  run1('instance_norm', [x, weight, bias, eps]);

export function groupNorm(
  x: Tensor,
  groups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
) {
  if (x.shape[1]! % groups !== 0)
    throw new RangeError(`groupNorm: ${x.shape[1]} channels do not split into ${groups} groups`);
  return run1('group_norm', [x, groups, weight, bias, eps]);
}

export const layerNorm = (
  x: Tensor,
  shape: number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
) => run1('layer_norm', [x, shape, weight, bias, eps]);

export const dropout = (x: Tensor, p: number, training: boolean) => run1('dropout', [x, p, training]);

// ---- activations
export const relu = (x: Tensor) => run1('relu', [x]);
export const leakyRelu = (x: Tensor, slope = 0.01) => run1('leaky_relu', [x, slope]);
export const sigmoid = (x: Tensor) => run1('sigmoid', [x]);
export const gelu = (x: Tensor) => run1('gelu', [x]);
export const elu = (x: Tensor, alpha = 1) => run1('elu', [x, alpha]);
export const softmax = (x: Tensor, dim: number) => run1('softmax', [x, dim]);
export const logSoftmax = (x: Tensor, dim: number) => run1('log_softmax', [x, dim]);

/** x / max(||x||_p along dim, eps), as torch.nn.functional.normalize. */
export const normalize = (x: Tensor, p = 2, dim = 1, eps = 1e-12) => run1('normalize', [x, p, dim, eps]);

// ---- losses
export type Reduction = 'mean' | 'sum' | 'none';
/** logits [N, C, ...], target int64 [N, ...] of class indices. */
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean', weight?: Tensor) {
  if (target.dtype !== 'int64') throw invalidArgument('crossEntropy', 'target', 'an int64 tensor', target);
  return run1('cross_entropy', [logits, target, weight, reduction]);
}
export const mseLoss = (a: Tensor, b: Tensor, reduction: Reduction = 'mean') =>
  run1('mse_loss', [a, b, reduction]);
export const l1Loss = (a: Tensor, b: Tensor, reduction: Reduction = 'mean') =>
  run1('l1_loss', [a, b, reduction]);
export const smoothL1Loss = (a: Tensor, b: Tensor, reduction: Reduction = 'mean', beta = 1) =>
  run1('smooth_l1_loss', [a, b, reduction, beta]);
export const bceWithLogits = (
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = 'mean',
  weight?: Tensor,
  posWeight?: Tensor,
) => run1('bce_with_logits', [logits, target, weight, posWeight, reduction]);
