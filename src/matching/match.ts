// Template matching (DESIGN.md, method step 2): a landmark's descriptor is
// the template's feature at the landmark, per layer; its map in a target is
// the product over layers of the cosine similarity (clamped at 0), each
// layer upsampled to working size; the prediction is the map's peak.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { Point } from '../io/types.js';

/** Per layer [L, C]: features bilinearly sampled at the points (working pixels), unit length. */
export function describeLandmarks(pyramid: Tensor[], points: Point[], size: number): Tensor[] {
  return E.tidy(() => {
    // grid_sample coordinates (align_corners=false): n = (2p + 1) / S - 1
    const grid = E.tensor(
      points.flatMap((p) => [(2 * p.x + 1) / size - 1, (2 * p.y + 1) / size - 1]),
      [1, points.length, 1, 2],
    );
    return pyramid.map((layer) => {
      const sampled = E.F.gridSample(layer, grid, { alignCorners: false, padding: 'border' }); // [1, C, L, 1]
      return E.F.normalize(sampled.squeeze(3).squeeze(0).transpose(0, 1), 2, 1); // [L, C]
    });
  });
}

/** [L, S, S]: product over layers of max(cos, 0), each upsampled to S x S. */
export function similarityMaps(descriptors: Tensor[], pyramid: Tensor[], size: number): Tensor {
  return E.tidy(() => {
    let product: Tensor | undefined;
    descriptors.forEach((d, l) => {
      const layer = pyramid[l]!;
      const [, c, h, w] = layer.shape as [number, number, number, number];
      const cosine = E.matmul(d, layer.reshape([c, h * w])).reshape([1, d.shape[0]!, h, w]);
      const up = E.F.interpolate(cosine.clamp(0), {
        size: [size, size],
        mode: 'bilinear',
        alignCorners: false,
      });
      product = product ? product.mul(up) : up;
    });
    return product!.squeeze(0);
  });
}

export interface Peak {
  /** Working pixels. */
  point: Point;
  value: number;
}

/**
 * The maximum of each map, refined to sub-pixel precision by a parabola
 * through the peak and its neighbours along x and along y.
 */
export function findPeaks(maps: Tensor, subpixel = true): Peak[] {
  const [l, h, w] = maps.shape as [number, number, number];
  const values = maps.data() as Float32Array;
  const peaks: Peak[] = [];
  for (let k = 0; k < l; k++)
    peaks.push(peakInWindow(values.subarray(k * h * w, (k + 1) * h * w), w, h, subpixel));
  return peaks;
}

/**
 * The maximum of one h x w map (row-major), with the parabola refinement
 * inside it. With `margin` the maximum is sought only that far inside the
 * edges (the ring around it still feeds the parabola).
 */
export function peakInWindow(values: Float32Array, w: number, h: number, subpixel = true, margin = 0): Peak {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let y = margin; y < h - margin; y++)
    for (let x = margin; x < w - margin; x++) {
      const v = values[y * w + x]!;
      if (v > bestValue) {
        bestValue = v;
        best = y * w + x;
      }
    }
  const x = best % w;
  const y = Math.floor(best / w);
  let dx = 0;
  let dy = 0;
  if (subpixel) {
    const at = (xx: number, yy: number) => values[yy * w + xx]!;
    if (x > 0 && x < w - 1) dx = vertex(at(x - 1, y), bestValue, at(x + 1, y));
    if (y > 0 && y < h - 1) dy = vertex(at(x, y - 1), bestValue, at(x, y + 1));
  }
  return { point: { x: x + dx, y: y + dy }, value: bestValue };
}

/** Offset of a parabola's vertex through (-1, a), (0, b), (1, c), within ±0.5. */
function vertex(a: number, b: number, c: number): number {
  const curvature = a - 2 * b + c;
  if (!(curvature < 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (a - c) / (2 * curvature)));
}
