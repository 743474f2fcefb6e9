// The refinement network (DESIGN.md, method step 6): the extractor's U-Net
// encoder and decoder down to the output stride, then a small head giving
// per landmark a heatmap logit and an x and a y offset. The trunk keeps the
// extractor's layer names and shapes, so the self-supervised weights can
// start it (they know the images; the head must learn the landmarks).
import {
  BatchNorm2d,
  Conv2d,
  cat,
  F,
  GroupNorm,
  type Layer,
  Module,
  noGrad,
  ReLU,
  Sequential,
  type Tensor,
} from '../engine/index.js';

export interface RefineNetConfig {
  inChannels: number;
  /** Encoder widths at strides 2, 4, 8, 16, 32 (the extractor's, to start from its weights). */
  widths: [number, number, number, number, number];
  norm: 'batch' | 'group';
  /** The first level as the extractor's: 'strided' strides its first conv, 'full' its second. */
  stem?: 'strided' | 'full';
  /** Stride of the outputs: 2, 4 or 8 working pixels per cell. */
  outputStride: number;
  /** Channels of the head's hidden 3x3 convolution. */
  headWidth: number;
  landmarks: number;
}

export const defaultRefineNetConfig: RefineNetConfig = {
  inChannels: 1,
  widths: [16, 32, 64, 128, 128],
  norm: 'batch',
  stem: 'strided',
  outputStride: 4,
  headWidth: 64,
  landmarks: 19,
};

/** Which leading parts of the network stay as initialised while training. */
export type Freeze = 'none' | 'encoder' | 'trunk';

export interface RefineOutput {
  /** [N, L, h, w] heatmap logits. */
  heatmap: Tensor;
  /** [N, L, h, w] offsets to the landmark along x and y, in units of the target radius. */
  offsetX: Tensor;
  offsetY: Tensor;
}

function normLayer(kind: RefineNetConfig['norm'], channels: number): Layer {
  return kind === 'batch' ? new BatchNorm2d(channels) : new GroupNorm(Math.min(8, channels), channels);
}

/** conv3x3 -> norm -> ReLU, twice, one conv strided; as the extractor's, so weights carry over. */
function doubleConv(
  cin: number,
  cout: number,
  norm: RefineNetConfig['norm'],
  stride = 1,
  strideSecond = false,
): Sequential {
  const [s1, s2] = strideSecond ? [1, stride] : [stride, 1];
  return new Sequential(
    new Conv2d({ inChannels: cin, outChannels: cout, kernelSize: 3, padding: 1, stride: s1, bias: false }),
    normLayer(norm, cout),
    new ReLU(),
    new Conv2d({ inChannels: cout, outChannels: cout, kernelSize: 3, padding: 1, stride: s2, bias: false }),
    normLayer(norm, cout),
    new ReLU(),
  );
}

/** Decoder levels needed to come up from stride 32 to the output stride. */
export function decoderLevels(outputStride: number): number {
  const levels = 5 - Math.log2(outputStride);
  if (!Number.isInteger(levels) || levels < 2 || levels > 4)
    throw new RangeError(`RefineNet: outputStride must be 2, 4 or 8, got ${outputStride}`);
  return levels;
}

export class RefineNet extends Module {
  readonly encoder: Sequential[];
  readonly decoder: Sequential[];
  readonly head: Sequential;

  constructor(readonly config: RefineNetConfig = defaultRefineNetConfig) {
    super();
    const w = config.widths;
    const fullStem = config.stem === 'full';
    this.encoder = w.map((width, i) =>
      this.child(
        `enc${i}`,
        doubleConv(i === 0 ? config.inChannels : w[i - 1]!, width, config.norm, 2, i === 0 && fullStem),
      ),
    );
    // Decoder level k goes up to stride 2^(4-k) and joins encoder level 3-k.
    this.decoder = Array.from({ length: decoderLevels(config.outputStride) }, (_, k) => {
      const i = 3 - k;
      return this.child(`dec${k}`, doubleConv((k === 0 ? w[4] : w[i + 1]!) + w[i]!, w[i]!, config.norm));
    });
    const trunkOut = w[4 - this.decoder.length]!;
    this.head = this.child(
      'head',
      new Sequential(
        new Conv2d({
          inChannels: trunkOut,
          outChannels: config.headWidth,
          kernelSize: 3,
          padding: 1,
          bias: false,
        }),
        normLayer(config.norm, config.headWidth),
        new ReLU(),
        new Conv2d({ inChannels: config.headWidth, outChannels: 3 * config.landmarks, kernelSize: 1 }),
      ),
    );
  }

  /** Forward FLOPs (multiply-adds x 2) of the convolutions for an N x C x H x W input. */
  static convFlops(config: RefineNetConfig, n: number, height: number, width: number): number {
    const w = config.widths;
    const conv = (cin: number, cout: number, k: number, stride: number) =>
      2 * n * cin * cout * k * k * (height / stride) * (width / stride);
    let flops = 0;
    w.forEach((c, i) => {
      const s = 2 ** (i + 1);
      const firstStride = i === 0 && config.stem === 'full' ? 1 : s;
      flops += conv(i === 0 ? config.inChannels : w[i - 1]!, c, 3, firstStride) + conv(c, c, 3, s);
    });
    const levels = decoderLevels(config.outputStride);
    for (let k = 0; k < levels; k++) {
      const i = 3 - k;
      const s = 2 ** (i + 1);
      flops += conv((k === 0 ? w[4] : w[i + 1]!) + w[i]!, w[i]!, 3, s) + conv(w[i]!, w[i]!, 3, s);
    }
    const s = config.outputStride;
    flops +=
      conv(w[4 - levels]!, config.headWidth, 3, s) + conv(config.headWidth, 3 * config.landmarks, 1, s);
    return flops;
  }

  /** x [N, C, H, W] (H, W divisible by 32) -> maps at the output stride. */
  forward(x: Tensor): RefineOutput {
    return this.heads(this.decode(this.encode(x)));
  }

  /** The encoder's outputs at strides 2 to 32 (the decoder's skips). */
  encode(x: Tensor): Tensor[] {
    const skips: Tensor[] = [];
    let h = x;
    for (const level of this.encoder) {
      h = level.forward(h);
      skips.push(h);
    }
    return skips;
  }

  /** Up from stride 32 to the output stride, joining the skips. */
  decode(skips: Tensor[]): Tensor {
    let h = skips[4]!;
    this.decoder.forEach((level, k) => {
      const skip = skips[3 - k]!;
      const up = F.interpolate(h, { size: [skip.shape[2]!, skip.shape[3]!], mode: 'bilinear' });
      h = level.forward(cat([up, skip], 1));
    });
    return h;
  }

  heads(h: Tensor): RefineOutput {
    const out = this.head.forward(h);
    const l = this.config.landmarks;
    return { heatmap: out.narrow(1, 0, l), offsetX: out.narrow(1, l, l), offsetY: out.narrow(1, 2 * l, l) };
  }

  /**
   * Parameters left to train when the first parts are frozen: 'encoder'
   * keeps the extractor's encoder, 'trunk' its decoder too (only the head learns).
   */
  trainable(freeze: Freeze): Tensor[] {
    const head = this.head.parameters();
    if (freeze === 'trunk') return head;
    const decoder = this.decoder.flatMap((l) => l.parameters());
    if (freeze === 'encoder') return [...decoder, ...head];
    return this.parameters();
  }

  /** Forward for training: frozen parts run without gradients and with their running statistics. */
  trainForward(x: Tensor, freeze: Freeze): RefineOutput {
    this.train();
    if (freeze === 'none') return this.forward(x);
    for (const level of this.encoder) level.eval();
    if (freeze === 'encoder') {
      const skips = noGrad(() => this.encode(x));
      return this.heads(this.decode(skips));
    }
    for (const level of this.decoder) level.eval();
    return this.heads(noGrad(() => this.decode(this.encode(x))));
  }

  /**
   * Copies the trunk's weights (encoder and decoder levels, same names and
   * shapes) from a trained feature extractor; returns how many tensors came.
   */
  initFrom(extractor: Module): number {
    const source = extractor.stateDict();
    let copied = 0;
    noGrad(() => {
      for (const [k, t] of Object.entries(this.stateDict())) {
        const s = source[k];
        if (!(k.startsWith('enc') || k.startsWith('dec')) || !s || s.shape.join() !== t.shape.join())
          continue;
        t.copy_(s);
        copied++;
      }
    });
    return copied;
  }
}
