// Landmarks from a refined model: the network's maps for an image at
// working size, one estimate per landmark (vote.ts), points back in
// original pixels; then, when the model has one, the fine stage moves each
// point on a crop at finer resolution (fine/infer.ts). Returns the template
// matcher's Detection shape, so the writers of `fewmark detect` serve both.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { fromWorkingPoint, toWorkingTensor } from '../features/preprocess.js';
import { readImage } from '../io/image.js';
import type { Detection } from '../matching/detect.js';
import { loadRefined, type RefinedMeta } from './checkpoint.js';
import { FineStage } from './fine/infer.js';
import { hasFineStage } from './fine/model-file.js';
import type { RefineNet } from './model.js';
import { type Box, inside } from './region.js';
import { cellCentre } from './targets.js';
import { type Estimate, estimate, type VoteOptions } from './vote.js';

/** Per image, per landmark estimates in working pixels, for inputs [N, 1, S, S]. */
export function predictWorking(
  model: RefineNet,
  inputs: Tensor,
  o: Omit<VoteOptions, 'stride'> & { stride?: number; regions?: (Box | null)[] },
): Estimate[][] {
  if (model.training) model.eval();
  const stride = o.stride ?? model.config.outputStride;
  const [probability, offsetX, offsetY] = E.noGrad(() =>
    E.tidy(() => {
      const out = model.forward(inputs);
      return [out.heatmap.sigmoid(), out.offsetX, out.offsetY];
    }),
  ) as [Tensor, Tensor, Tensor];
  const [n, l, g] = probability.shape as [number, number, number];
  const p = probability.data() as Float32Array;
  const ox = offsetX.data() as Float32Array;
  const oy = offsetY.data() as Float32Array;
  for (const t of [probability, offsetX, offsetY]) t.dispose();
  const cells = g * g;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: l }, (_, k) => {
      const at = (i * l + k) * cells;
      const box = o.regions?.[k];
      return estimate(
        {
          cells: g,
          probability: box
            ? withinRegion(p.subarray(at, at + cells), g, stride, box)
            : p.subarray(at, at + cells),
          offsetX: ox.subarray(at, at + cells),
          offsetY: oy.subarray(at, at + cells),
        },
        { ...o, stride },
      );
    }),
  );
}

/** The probabilities with cells whose centre lies outside the box set to 0 (unchanged if none is inside). */
function withinRegion(p: Float32Array, g: number, stride: number, box: Box): Float32Array {
  const kept = new Float32Array(p.length);
  let any = false;
  for (let i = 0; i < p.length; i++)
    if (inside(box, cellCentre(i % g, stride), cellCentre(Math.floor(i / g), stride))) {
      kept[i] = p[i]!;
      any = true;
    }
  return any ? kept : p;
}

export interface RefinedDetectorOptions {
  /** Run the fine stage when the model has one (default true). */
  fine?: boolean;
}

export class RefinedDetector {
  private constructor(
    readonly model: RefineNet,
    readonly meta: RefinedMeta,
    /** The second stage, when the model has one and it is wanted. */
    readonly fine: FineStage | undefined,
  ) {}

  /** Look for each landmark only inside its plausible region (when the model has them). */
  useRegions = true;

  static async load(dir: string, o: RefinedDetectorOptions = {}): Promise<RefinedDetector> {
    const { model, meta } = await loadRefined(dir);
    const fine = o.fine !== false && hasFineStage(dir) ? await FineStage.load(dir) : undefined;
    return new RefinedDetector(model, meta, fine);
  }

  get landmarks(): string[] {
    return this.meta.landmarks;
  }

  async detect(id: string, file: string, vote: Partial<RefinedMeta['vote']> = {}): Promise<Detection> {
    const image = await readImage(file);
    try {
      const input = toWorkingTensor(image, this.meta.inputSize);
      let estimates: Estimate[];
      try {
        estimates = predictWorking(this.model, input, {
          ...this.meta.vote,
          ...vote,
          radius: this.meta.radius,
          regions: this.useRegions ? this.meta.regions : undefined,
        })[0]!;
      } finally {
        input.dispose();
      }
      const { width, height } = image;
      const coarse = estimates.map((e) => fromWorkingPoint(e.point, width, height, this.meta.inputSize));
      return {
        id,
        file,
        width,
        height,
        points: this.fine ? this.fine.refine(image, coarse).points : coarse,
        confidence: estimates.map((e) => e.confidence),
        templateOf: estimates.map(() => 'refined'),
      };
    } finally {
      image.pixels.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
    this.fine?.dispose();
  }
}
