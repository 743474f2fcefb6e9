// Training targets at the output stride, as in the reference SCP/CC2D code:
// per landmark a binary disk of radius R working pixels around the point
// (the heatmap) and, inside the disk, the offset from each cell's centre to
// the point in units of R (the offsets).
//
// Why a disk and not a Gaussian: every cell of the disk carries an offset
// that points at the landmark, so the estimate at inference is an average of
// many votes (sub-cell precision, and robust to a few wrong cells), while a
// Gaussian's precision rests on the shape of one peak. The disk also gives
// a plain binary target, which BCE handles well when it is balanced
// (a few dozen positive cells against thousands of negative ones).
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { isMissing, type Point } from '../io/types.js';

export interface TargetGeometry {
  /** Working size S (images are S x S). */
  inputSize: number;
  /** Working pixels per output cell. */
  stride: number;
  /** Disk radius in working pixels. */
  radius: number;
}

export interface Targets {
  /** [B, L, g, g]: 1 inside the disk, else 0. */
  heatmap: Tensor;
  /** [B, L, g, g]: (point - cell centre) / R inside the disk, else 0. */
  offsetX: Tensor;
  offsetY: Tensor;
}

/** Working-pixel centre of output cell i: the mean of the pixels it covers. */
export const cellCentre = (i: number, stride: number) => i * stride + (stride - 1) / 2;

// Missing points go far away: no cell lies in their disk (their loss weight is 0 anyway).
const FAR = -1e6;

/** Disk heatmaps and offsets for points [B][L] in working pixels (NaN for missing). */
export function makeTargets(points: Point[][], g: TargetGeometry): Targets {
  const cells = g.inputSize / g.stride;
  if (!Number.isInteger(cells))
    throw new RangeError(`makeTargets: inputSize ${g.inputSize} is not a multiple of stride ${g.stride}`);
  const b = points.length;
  const l = points[0]?.length ?? 0;
  const xs = points.flatMap((row) => row.map((p) => (isMissing(p) ? FAR : p.x)));
  const ys = points.flatMap((row) => row.map((p) => (isMissing(p) ? FAR : p.y)));
  return E.tidy(() => {
    const centres = E.arange(0, cells)
      .mul(g.stride)
      .add((g.stride - 1) / 2);
    const dx = E.tensor(xs, [b, l, 1, 1])
      .sub(centres.reshape([1, 1, 1, cells]))
      .div(g.radius); // [B, L, 1, g]
    const dy = E.tensor(ys, [b, l, 1, 1])
      .sub(centres.reshape([1, 1, cells, 1]))
      .div(g.radius); // [B, L, g, 1]
    const inside = dx.square().add(dy.square()).le(1); // [B, L, g, g]
    const heatmap = inside.to('float32');
    return {
      heatmap,
      offsetX: heatmap.mul(dx),
      offsetY: heatmap.mul(dy),
    };
  });
}
