// The feature extractor: a U-Net-like encoder-decoder whose decoder emits
// an embedding at strides 32, 16, 8, 4 and 2 (coarse to fine). Trained from
// scratch (no pretrained weights can be fetched here).
import {
  BatchNorm2d,
  Conv2d,
  cat,
  F,
  GroupNorm,
  type Layer,
  Module,
  ReLU,
  Sequential,
  type Tensor,
} from '../engine/index.js';

export interface ExtractorConfig {
  /** Input channels (1 for grey X-rays). */
  inChannels: number;
  /** Encoder widths at strides 2, 4, 8, 16, 32. */
  widths: [number, number, number, number, number];
  /** Channels of each output embedding. */
  embedding: number;
  norm: 'batch' | 'group';
  /**
   * How the first level reaches stride 2: 'strided' strides its first conv
   * (cheapest); 'full' runs its first conv at full resolution and strides
   * the second, so fine detail is filtered before it is subsampled.
   */
  stem?: 'strided' | 'full';
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
  stem: 'strided',
};

/** Strides of the outputs, in the order forward() returns them. */
export const OUTPUT_STRIDES = [32, 16, 8, 4, 2] as const;

function normLayer(kind: ExtractorConfig['norm'], channels: number): Layer {
  return kind === 'batch' ? new BatchNorm2d(channels) : new GroupNorm(Math.min(8, channels), channels);
}

/** conv3x3 -> norm -> ReLU, twice; the first (or, with strideSecond, the second) conv may stride. */
function doubleConv(
  cin: number,
  cout: number,
  norm: ExtractorConfig['norm'],
  stride = 1,
  strideSecond = false,
): Sequential {
  return new Sequential(
    new Conv2d({
      inChannels: cin,
      outChannels: cout,
      kernelSize: 3,
      padding: 1,
      stride: strideSecond ? 1 : stride,
      bias: false,
    }),
    normLayer(norm, cout),
    new ReLU(),
    new Conv2d({
      inChannels: cout,
      outChannels: cout,
      kernelSize: 3,
      padding: 1,
      stride: strideSecond ? stride : 1,
      bias: false,
    }),
    normLayer(norm, cout),
    new ReLU(),
  );
}

export class FeatureExtractor extends Module {
  readonly encoder: Sequential[];
  readonly decoder: Sequential[];
  readonly heads: Conv2d[];

  constructor(readonly config: ExtractorConfig = defaultExtractorConfig) {
    super();
    const w = config.widths;
    // Encoder level i works at stride 2^(i+1); each level halves the size.
    const fullStem = config.stem === 'full';
    this.encoder = w.map((width, i) =>
      this.child(
        `enc${i}`,
        doubleConv(i === 0 ? config.inChannels : w[i - 1]!, width, config.norm, 2, i === 0 && fullStem),
      ),
    );
    // Decoder level i goes from stride 2^(5-i) up to 2^(4-i), joining the skip.
    this.decoder = [3, 2, 1, 0].map((i, k) =>
      this.child(`dec${k}`, doubleConv((k === 0 ? w[4] : w[i + 1]!) + w[i]!, w[i]!, config.norm)),
    );
    const headInputs = [w[4], w[3], w[2], w[1], w[0]];
    this.heads = headInputs.map((c, k) =>
      this.child(`head${k}`, new Conv2d({ inChannels: c, outChannels: config.embedding, kernelSize: 1 })),
    );
  }

  /** Forward FLOPs (multiply-adds x 2) of the convolutions for an N x C x H x W input. */
  static convFlops(config: ExtractorConfig, n: number, height: number, width: number): number {
    const w = config.widths;
    let flops = 0;
    const conv = (cin: number, cout: number, k: number, stride: number) =>
      2 * n * cin * cout * k * k * (height / stride) * (width / stride);
    w.forEach((c, i) => {
      const s = 2 ** (i + 1);
      const firstStride = i === 0 && config.stem === 'full' ? 1 : s;
      flops += conv(i === 0 ? config.inChannels : w[i - 1]!, c, 3, firstStride) + conv(c, c, 3, s);
    });
    [3, 2, 1, 0].forEach((i, k) => {
      const s = 2 ** (i + 1);
      flops += conv((k === 0 ? w[4] : w[i + 1]!) + w[i]!, w[i]!, 3, s) + conv(w[i]!, w[i]!, 3, s);
    });
    [w[4], w[3], w[2], w[1], w[0]].forEach((c, k) => {
      flops += conv(c, config.embedding, 1, 2 ** (5 - k));
    });
    return flops;
  }

  /** x [N, C, H, W] (H, W divisible by 32) -> embeddings at strides 32, 16, 8, 4, 2. */
  forward(x: Tensor): Tensor[] {
    const skips: Tensor[] = [];
    let h = x;
    for (const level of this.encoder) {
      h = level.forward(h);
      skips.push(h);
    }
    const outs: Tensor[] = [this.heads[0]!.forward(h)];
    this.decoder.forEach((level, k) => {
      const skip = skips[3 - k]!;
      const up = F.interpolate(h, { size: [skip.shape[2]!, skip.shape[3]!], mode: 'bilinear' });
      h = level.forward(cat([up, skip], 1));
      outs.push(this.heads[k + 1]!.forward(h));
    });
    return outs;
  }
}
