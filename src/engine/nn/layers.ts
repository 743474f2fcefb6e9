// Basic layers: convolution, linear, normalisation, activations, Sequential.
import { invalidArgument } from '../errors.js';
import { ones, rand, zeros } from '../ops/create.js';
import * as F from '../ops/functional.js';
import { linear } from '../ops/math.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';
import { Layer } from './module.js';

/** PyTorch's default init: uniform in ±1/sqrt(fanIn). */
function uniformInit(shape: number[], fanIn: number): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return tidy(() =>
    rand(shape)
      .mul(2 * bound)
      .sub(bound),
  );
}

function positiveInt(fn: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw invalidArgument(fn, name, 'a positive integer', v);
  return v;
}

export interface Conv2dConfig {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly config: Conv2dConfig) {
    super();
    const { inChannels, outChannels, kernelSize, groups = 1 } = config;
    positiveInt('Conv2d', 'inChannels', inChannels);
    positiveInt('Conv2d', 'outChannels', outChannels);
    positiveInt('Conv2d', 'kernelSize', kernelSize);
    if (inChannels % groups || outChannels % groups)
      throw new RangeError(
        `Conv2d: ${inChannels} in and ${outChannels} out channels must divide by ${groups} groups`,
      );
    const fanIn = (inChannels / groups) * kernelSize * kernelSize;
    this.weight = this.param(
      'weight',
      uniformInit([outChannels, inChannels / groups, kernelSize, kernelSize], fanIn),
    );
    this.bias = config.bias === false ? null : this.param('bias', uniformInit([outChannels], fanIn));
  }
  forward(x: Tensor): Tensor {
    const { stride = 1, padding = 0, dilation = 1, groups = 1 } = this.config;
    return F.conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }
}

export class Linear extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, bias = true) {
    super();
    this.weight = this.param('weight', uniformInit([outFeatures, inFeatures], inFeatures));
    this.bias = bias ? this.param('bias', uniformInit([outFeatures], inFeatures)) : null;
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}

export class BatchNorm2d extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(
    channels: number,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', ones([channels]));
  }
  forward(x: Tensor): Tensor {
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

export class InstanceNorm2d extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(
    channels: number,
    affine = true,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = affine ? this.param('weight', ones([channels])) : null;
    this.bias = affine ? this.param('bias', zeros([channels])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.instanceNorm(x, this.weight, this.bias, this.eps);
  }
}

export class GroupNorm extends Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly groups: number,
    channels: number,
    readonly eps = 1e-5,
  ) {
    super();
    if (channels % groups)
      throw new RangeError(`GroupNorm: ${channels} channels do not split into ${groups} groups`);
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
  }
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class LeakyReLU extends Layer {
  constructor(readonly slope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.slope);
  }
}

export class MaxPool2d extends Layer {
  constructor(readonly kernel: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernel);
  }
}

/** Layers applied in order; children are named 0, 1, 2, ... */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers.map((l, i) => this.child(String(i), l));
  }
  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this.layers) {
      const next = layer.forward(out);
      if (out !== x) out.dispose();
      out = next;
    }
    return out;
  }
}
