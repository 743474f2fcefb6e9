// The refinement network (DESIGN.md, method step 6): the extractor's U-Net
// trunk (features/unet.ts) down to the output stride, then a small head
// giving per landmark a heatmap logit and an x and a y offset. The trunk
// has the extractor's layer names and shapes, so the self-supervised
// weights can start it (they know the images; the head must learn the landmarks).
import { Conv2d, Module, noGrad, ReLU, Sequential, type Tensor } from '../engine/index.js';
import {
  convFlops,
  decode,
  encode,
  encoderLevels,
  normLayer,
  type TrunkConfig,
  trunkChannels,
  decoderLevels as trunkDecoderLevels,
  trunkFlops,
} from '../features/unet.js';

/** The trunk's widths and norm as the extractor's, to start from its weights. */
export interface RefineNetConfig extends TrunkConfig {
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

/** Decoder levels needed to come up from stride 32 to the output stride. */
function decoderLevels(outputStride: number): number {
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
    const levels = decoderLevels(config.outputStride);
    this.encoder = encoderLevels(config).map((level, i) => this.child(`enc${i}`, level));
    this.decoder = trunkDecoderLevels(config, levels).map((level, k) => this.child(`dec${k}`, level));
    this.head = this.child(
      'head',
      new Sequential(
        new Conv2d({
          inChannels: trunkChannels(config, levels),
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
    const levels = decoderLevels(config.outputStride);
    const s = config.outputStride;
    return (
      trunkFlops(config, levels, n, height, width) +
      convFlops(n, height, width, trunkChannels(config, levels), config.headWidth, 3, s) +
      convFlops(n, height, width, config.headWidth, 3 * config.landmarks, 1, s)
    );
  }

  /** x [N, C, H, W] (H, W divisible by 32) -> maps at the output stride. */
  forward(x: Tensor): RefineOutput {
    return this.heads(this.decode(this.encode(x)));
  }

  /** The encoder's outputs at strides 2 to 32 (the decoder's skips). */
  encode(x: Tensor): Tensor[] {
    return encode(this.encoder, x);
  }

  /** Up from stride 32 to the output stride, joining the skips. */
  decode(skips: Tensor[]): Tensor {
    return decode(this.decoder, skips);
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
