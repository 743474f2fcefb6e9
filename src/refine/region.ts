// Where each landmark can plausibly be: a box around the positions the
// training labels (templates and pseudo-labels) give it, widened by a
// margin. Heatmap cells outside it do not count at inference. A refined
// network trained for minutes sometimes puts a confident second peak on
// an unrelated structure tens of millimetres away (ISBI: the incisors
// found near the nose); anatomy never moves that far between patients.
import type { Point } from '../io/types.js';

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface RegionOptions {
  /** Positions below this quantile or above 1 - it are left out (pseudo-label outliers). */
  quantile: number;
  /** Added on every side, as a fraction of the working size. */
  margin: number;
}

const defaultRegionOptions: RegionOptions = { quantile: 0.02, margin: 0.08 };

function quantile(sorted: number[], q: number): number {
  const at = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[at]!;
}

/** Per landmark, in working pixels; null where no sample shows the landmark. */
export function plausibleRegions(
  points: Point[][],
  inputSize: number,
  o: RegionOptions = defaultRegionOptions,
): (Box | null)[] {
  const landmarks = points[0]?.length ?? 0;
  const pad = o.margin * inputSize;
  return Array.from({ length: landmarks }, (_, k) => {
    const seen = points.map((p) => p[k]!).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (!seen.length) return null;
    const xs = seen.map((p) => p.x).sort((a, b) => a - b);
    const ys = seen.map((p) => p.y).sort((a, b) => a - b);
    return {
      x0: Math.max(0, quantile(xs, o.quantile) - pad),
      y0: Math.max(0, quantile(ys, o.quantile) - pad),
      x1: Math.min(inputSize - 1, quantile(xs, 1 - o.quantile) + pad),
      y1: Math.min(inputSize - 1, quantile(ys, 1 - o.quantile) + pad),
    };
  });
}

export const inside = (b: Box, x: number, y: number) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1;
