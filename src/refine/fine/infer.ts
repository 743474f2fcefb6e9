// The fine stage at detection: per landmark, a straight crop of the fine
// image centred on the first stage's point (pulled inside the image when it
// lies outside), the network's maps for that landmark's channel, offset
// voting, and the point back in original pixels. A weak peak (below the
// model's minConfidence) leaves the first stage's point as it was.
import * as E from '../../engine/index.js';
import type { GreyImage } from '../../features/preprocess.js';
import { isMissing, type Point } from '../../io/types.js';
import type { RefineNet } from '../model.js';
import { estimate } from '../vote.js';
import { cropImage, fromCrop, straight } from './crops.js';
import { type FineImage, fromFinePoint, toFineImage, toFinePoint } from './images.js';
import { type FineMeta, loadFine } from './model-file.js';

export interface FineResult {
  points: Point[];
  /** The fine peak per landmark (NaN where the point was missing). */
  confidence: number[];
  /** Whether the fine stage moved the point (its peak was strong enough). */
  moved: boolean[];
}

export class FineStage {
  private constructor(
    readonly model: RefineNet,
    readonly meta: FineMeta,
  ) {}

  static async load(dir: string): Promise<FineStage> {
    const { model, meta } = await loadFine(dir);
    return new FineStage(model, meta);
  }

  /** Moves the first stage's points (original pixels, one per landmark) in `image`. */
  refine(image: GreyImage, points: Point[]): FineResult {
    const fine = toFineImage(image, this.meta.longSide);
    try {
      return this.refineFine(fine, points);
    } finally {
      fine.pixels.dispose();
    }
  }

  refineFine(fine: FineImage, points: Point[]): FineResult {
    if (points.length !== this.meta.landmarks.length)
      throw new RangeError(`FineStage: ${points.length} points for ${this.meta.landmarks.length} landmarks`);
    const [, , h, w] = fine.pixels.shape as [number, number, number, number];
    const start = points.map((p) => (isMissing(p) ? p : toFinePoint(p, fine)));
    const confidence = points.map(() => Number.NaN);
    const moved = points.map(() => false);
    const result = [...start];
    const todo = start.flatMap((p, k) => (isMissing(p) ? [] : [k]));
    if (todo.length > 0) {
      const places = todo.map((k) => {
        const p = start[k]!;
        return straight({ x: Math.min(Math.max(p.x, 0), w - 1), y: Math.min(Math.max(p.y, 0), h - 1) });
      });
      const maps = this.maps(fine, places);
      todo.forEach((k, j) => {
        const found = estimate(maps.of(j, k), {
          ...this.meta.vote,
          stride: this.meta.net.outputStride,
          radius: this.meta.radius,
        });
        confidence[k] = found.confidence;
        if (found.confidence < this.meta.minConfidence) return;
        result[k] = fromCrop(found.point, places[j]!, this.meta.crop);
        moved[k] = true;
      });
    }
    return { points: result.map((p) => (isMissing(p) ? p : fromFinePoint(p, fine))), confidence, moved };
  }

  /** The network's maps for every crop; `of(j, k)` is crop j's landmark-k channel. */
  private maps(fine: FineImage, places: ReturnType<typeof straight>[]) {
    if (this.model.training) this.model.eval();
    const [probability, offsetX, offsetY] = E.noGrad(() =>
      E.tidy(() => {
        const out = this.model.forward(cropImage(fine.pixels, places, this.meta.crop));
        return [out.heatmap.sigmoid(), out.offsetX, out.offsetY];
      }),
    ) as [E.Tensor, E.Tensor, E.Tensor];
    const [, l, g] = probability.shape as [number, number, number];
    const p = probability.data() as Float32Array;
    const ox = offsetX.data() as Float32Array;
    const oy = offsetY.data() as Float32Array;
    for (const t of [probability, offsetX, offsetY]) t.dispose();
    const cells = g * g;
    return {
      of: (j: number, k: number) => {
        const at = (j * l + k) * cells;
        return {
          cells: g,
          probability: p.subarray(at, at + cells),
          offsetX: ox.subarray(at, at + cells),
          offsetY: oy.subarray(at, at + cells),
        };
      },
    };
  }

  dispose(): void {
    this.model.dispose();
  }
}
