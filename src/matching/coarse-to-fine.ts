// Fast peaks of the template-matching maps (match.ts): the same product of
// clamped per-layer cosines, but the full-resolution map is only computed
// where the peak can be. First every layer is scored on a coarse grid
// (features resampled once per image, one batched product for all
// landmarks); then the few best coarse cells per landmark are searched at
// full resolution in a small window, sampling each layer's cosine map
// exactly as the full-size upsampling does (bilinear, align_corners=false,
// border clamp), so inside the windows the values equal the full map's.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { type Peak, peakInWindow } from './match.js';

export interface CoarseToFineOptions {
  /** Working pixels per coarse cell. */
  gridStride: number;
  /** Full-resolution search radius around each coarse candidate, working pixels. */
  radius: number;
  /** Coarse cells refined per landmark. */
  candidates: number;
}

export const defaultCoarseToFine: CoarseToFineOptions = { gridStride: 4, radius: 6, candidates: 3 };

/** One image's features on the coarse grid, [layers, C, g*g]; compute once per image and reuse. */
export function coarseGrid(pyramid: Tensor[], size: number, gridStride: number): Tensor {
  const g = Math.round(size / gridStride);
  return E.tidy(() =>
    E.stack(
      pyramid.map((layer) => {
        const [, c, h, w] = layer.shape as [number, number, number, number];
        const onGrid =
          h === g && w === g
            ? layer
            : E.F.interpolate(layer, { size: [g, g], mode: 'bilinear', alignCorners: false });
        return onGrid.reshape([c, g * g]);
      }),
      0,
    ),
  );
}

/**
 * Peaks of the landmarks' maps in one image. descriptors: per layer [L, C]
 * (unit length); pyramid: per layer [1, C, h, w]; grid: coarseGrid() of the
 * same pyramid (computed here when absent).
 */
export function coarseToFinePeaks(
  descriptors: Tensor[],
  pyramid: Tensor[],
  size: number,
  o: CoarseToFineOptions = defaultCoarseToFine,
  grid?: Tensor,
  subpixel = true,
): Peak[] {
  const landmarks = descriptors[0]!.shape[0]!;
  const g = Math.round(size / o.gridStride);
  // One extra ring of pixels, so a peak at the radius still gets its parabola.
  const side = 2 * (o.radius + 1) + 1;
  const t = Math.min(o.candidates, g * g);
  // 1. Coarse: the product on the grid, the best cells per landmark.
  const cells = E.tidy(() => {
    const features = grid ?? coarseGrid(pyramid, size, o.gridStride);
    const cosine = E.bmm(E.stack(descriptors, 0), features).clamp(0); // [layers, L, g*g]
    let product = cosine.select(0, 0);
    for (let l = 1; l < descriptors.length; l++) product = product.mul(cosine.select(0, l));
    return E.topk(product, t, 1).indices.data() as BigInt64Array;
  });
  // 2. Fine: windows of full-resolution pixels around each candidate cell,
  // kept inside the image.
  const coords: number[] = [];
  const origins: { x: number; y: number }[] = [];
  for (let k = 0; k < landmarks; k++)
    for (let c = 0; c < t; c++) {
      const cell = Number(cells[k * t + c]!);
      const cx = Math.round(((cell % g) + 0.5) * o.gridStride - 0.5);
      const cy = Math.round((Math.floor(cell / g) + 0.5) * o.gridStride - 0.5);
      const x0 = Math.max(0, Math.min(size - side, cx - o.radius - 1));
      const y0 = Math.max(0, Math.min(size - side, cy - o.radius - 1));
      origins.push({ x: x0, y: y0 });
      for (let dy = 0; dy < side; dy++)
        for (let dx = 0; dx < side; dx++)
          coords.push((2 * (x0 + dx) + 1) / size - 1, (2 * (y0 + dy) + 1) / size - 1);
    }
  const values = E.tidy(() => {
    const at = E.tensor(coords, [landmarks, t * side, side, 2]);
    let product: Tensor | undefined;
    descriptors.forEach((d, l) => {
      const layer = pyramid[l]!;
      const [, c, h, w] = layer.shape as [number, number, number, number];
      const cosine = E.matmul(d, layer.reshape([c, h * w]))
        .reshape([landmarks, 1, h, w])
        .clamp(0);
      const sampled = E.F.gridSample(cosine, at, { alignCorners: false, padding: 'border' });
      product = product ? product.mul(sampled) : sampled;
    });
    return product!.data() as Float32Array; // [L, 1, t*side, side]
  });
  const peaks: Peak[] = [];
  for (let k = 0; k < landmarks; k++) {
    let best: Peak | undefined;
    for (let c = 0; c < t; c++) {
      const base = (k * t + c) * side * side;
      // The outer ring is searched too where it is the image's edge.
      const origin = origins[k * t + c]!;
      const atEdge = origin.x === 0 || origin.y === 0 || origin.x === size - side || origin.y === size - side;
      const peak = peakInWindow(
        values.subarray(base, base + side * side),
        side,
        side,
        subpixel,
        atEdge ? 0 : 1,
      );
      if (!best || peak.value > best.value)
        best = {
          point: { x: peak.point.x + origins[k * t + c]!.x, y: peak.point.y + origins[k * t + c]!.y },
          value: peak.value,
        };
    }
    peaks.push(best!);
  }
  return peaks;
}
