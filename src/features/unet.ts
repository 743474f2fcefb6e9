// The U-Net trunk that both networks build on: the feature extractor (all
// decoder levels, an embedding head per level) and the refinement network
// (decoder levels down to its output stride, one landmark head). Level
// names and shapes are the same in both (enc0..enc4, dec0..dec3), so the
// extractor's self-supervised weights can start the refiner's trunk.
import {
  BatchNorm2d,
  Conv2d,
  cat,
  F,
  GroupNorm,
  type Layer,
  ReLU,
  Sequential,
  type Tensor,
} from '../engine/index.js';

export type Norm = 'batch' | 'group';

export interface TrunkConfig {
  /** Input channels (1 for grey X-rays). */
  inChannels: number;
  /** Encoder widths at strides 2, 4, 8, 16, 32. */
  widths: [number, number, number, number, number];
  norm: Norm;
}

/**
 * Weights saved with the full-resolution stem (an option removed unmeasured)
 * have the same shapes as the strided stem's, so they would load and run at
 * the wrong stride: refuse them by name.
 */
export function checkSavedTrunk(config: TrunkConfig, file: string): void {
  if ((config as { stem?: string }).stem === 'full')
    throw new Error(
      `${file}: made with the full-resolution stem, which this version of fewmark no longer builds`,
    );
}

export function normLayer(kind: Norm, channels: number): Layer {
  return kind === 'batch' ? new BatchNorm2d(channels) : new GroupNorm(Math.min(8, channels), channels);
}

/** conv3x3 -> norm -> ReLU, twice; the first conv may stride. */
function doubleConv(cin: number, cout: number, norm: Norm, stride = 1): Sequential {
  return new Sequential(
    new Conv2d({ inChannels: cin, outChannels: cout, kernelSize: 3, padding: 1, stride, bias: false }),
    normLayer(norm, cout),
    new ReLU(),
    new Conv2d({ inChannels: cout, outChannels: cout, kernelSize: 3, padding: 1, bias: false }),
    normLayer(norm, cout),
    new ReLU(),
  );
}

/** Encoder level i works at stride 2^(i+1); each halves the size. Register them as enc0..enc4. */
export function encoderLevels(c: TrunkConfig): Sequential[] {
  const w = c.widths;
  return w.map((width, i) => doubleConv(i === 0 ? c.inChannels : w[i - 1]!, width, c.norm, 2));
}

/** The first `count` decoder levels: level k goes up to stride 2^(4-k), joining encoder level 3-k. Register as dec0... */
export function decoderLevels(c: TrunkConfig, count: number): Sequential[] {
  const w = c.widths;
  return Array.from({ length: count }, (_, k) => {
    const i = 3 - k;
    return doubleConv((k === 0 ? w[4] : w[i + 1]!) + w[i]!, w[i]!, c.norm);
  });
}

/** Channels out of the trunk after `count` decoder levels. */
export const trunkChannels = (c: TrunkConfig, count: number) => c.widths[4 - count]!;

/** The encoder's outputs at strides 2 to 32 (the decoder's skips). */
export function encode(encoder: Sequential[], x: Tensor): Tensor[] {
  const skips: Tensor[] = [];
  let h = x;
  for (const level of encoder) {
    h = level.forward(h);
    skips.push(h);
  }
  return skips;
}

/** Up from stride 32 through the decoder levels, joining the skips; `each` sees every level's output. */
export function decode(
  decoder: Sequential[],
  skips: Tensor[],
  each?: (h: Tensor, k: number) => void,
): Tensor {
  let h = skips[4]!;
  decoder.forEach((level, k) => {
    const skip = skips[3 - k]!;
    const up = F.interpolate(h, { size: [skip.shape[2]!, skip.shape[3]!], mode: 'bilinear' });
    h = level.forward(cat([up, skip], 1));
    each?.(h, k);
  });
  return h;
}

/** Forward FLOPs (multiply-adds x 2) of the trunk's convolutions for an N x C x H x W input. */
export function trunkFlops(
  c: TrunkConfig,
  decoderCount: number,
  n: number,
  height: number,
  width: number,
): number {
  const w = c.widths;
  let flops = 0;
  w.forEach((ch, i) => {
    const s = 2 ** (i + 1);
    flops += convFlops(n, height, width, i === 0 ? c.inChannels : w[i - 1]!, ch, 3, s);
    flops += convFlops(n, height, width, ch, ch, 3, s);
  });
  for (let k = 0; k < decoderCount; k++) {
    const i = 3 - k;
    const s = 2 ** (i + 1);
    flops += convFlops(n, height, width, (k === 0 ? w[4] : w[i + 1]!) + w[i]!, w[i]!, 3, s);
    flops += convFlops(n, height, width, w[i]!, w[i]!, 3, s);
  }
  return flops;
}

/** FLOPs of one k x k convolution from cin to cout channels at `stride`. */
export const convFlops = (
  n: number,
  height: number,
  width: number,
  cin: number,
  cout: number,
  k: number,
  stride: number,
) => 2 * n * cin * cout * k * k * (height / stride) * (width / stride);
