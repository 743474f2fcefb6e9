// The feature extractor: the U-Net trunk (unet.ts) with an embedding head
// at each of strides 32, 16, 8, 4 and 2 (coarse to fine). Trained from
// scratch (no pretrained weights can be fetched here).
import { Conv2d, Module, type Sequential, type Tensor } from '../engine/index.js';
import {
  convFlops,
  decode,
  decoderLevels,
  encode,
  encoderLevels,
  type TrunkConfig,
  trunkFlops,
} from './unet.js';

export interface ExtractorConfig extends TrunkConfig {
  /** Channels of each output embedding. */
  embedding: number;
}

/**
 * Widths 32-64-128-128-128: on ISBI, 60 CPU minutes of this net give 3.87 mm
 * one-shot against 4.73 for 16-32-64-128-128 (3x cheaper per step, but
 * 3,110 steps did not make up for the capacity; docs/oneshot-isbi.md).
 */
export const defaultExtractorConfig: ExtractorConfig = {
  inChannels: 1,
  widths: [32, 64, 128, 128, 128],
  embedding: 32,
  norm: 'batch',
};

/** Strides of the outputs, in the order forward() returns them. */
export const OUTPUT_STRIDES = [32, 16, 8, 4, 2] as const;

export class FeatureExtractor extends Module {
  readonly encoder: Sequential[];
  readonly decoder: Sequential[];
  readonly heads: Conv2d[];

  constructor(readonly config: ExtractorConfig = defaultExtractorConfig) {
    super();
    this.encoder = encoderLevels(config).map((level, i) => this.child(`enc${i}`, level));
    this.decoder = decoderLevels(config, 4).map((level, k) => this.child(`dec${k}`, level));
    const w = config.widths;
    const headInputs = [w[4], w[3], w[2], w[1], w[0]];
    this.heads = headInputs.map((c, k) =>
      this.child(`head${k}`, new Conv2d({ inChannels: c, outChannels: config.embedding, kernelSize: 1 })),
    );
  }

  /** Forward FLOPs (multiply-adds x 2) of the convolutions for an N x C x H x W input. */
  static convFlops(config: ExtractorConfig, n: number, height: number, width: number): number {
    const w = config.widths;
    let flops = trunkFlops(config, 4, n, height, width);
    [w[4], w[3], w[2], w[1], w[0]].forEach((c, k) => {
      flops += convFlops(n, height, width, c, config.embedding, 1, 2 ** (5 - k));
    });
    return flops;
  }

  /** x [N, C, H, W] (H, W divisible by 32) -> embeddings at strides 32, 16, 8, 4, 2. */
  forward(x: Tensor): Tensor[] {
    const skips = encode(this.encoder, x);
    const outs: Tensor[] = [this.heads[0]!.forward(skips[4]!)];
    decode(this.decoder, skips, (h, k) => outs.push(this.heads[k + 1]!.forward(h)));
    return outs;
  }
}
