// The similarity tensor of the representativeness score (DESIGN.md, step 4):
// r[n, k, j] = max over the pixels q of template j of the multi-layer
// similarity between image n's key point k and q — the product over layers
// of max(cos, 0), each layer upsampled to a common grid. The maximum is
// taken on a grid of stride `gridStride` working pixels (4 by default; 1 is
// the exact full-resolution maximum) to keep the N x N image pairs cheap.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { Point } from '../io/types.js';
import { describeLandmarks } from '../matching/match.js';

/**
 * For each set of descriptors (per layer [K, C]) and one pyramid: the best
 * multi-layer similarity of each descriptor anywhere in that image, [K].
 */
export function bestMatchScores(descriptors: Tensor[], pyramid: Tensor[], grid: number): Float32Array {
  return E.tidy(() => {
    let product: Tensor | undefined;
    descriptors.forEach((d, l) => {
      const layer = pyramid[l]!;
      const [, c, h, w] = layer.shape as [number, number, number, number];
      const cosine = E.matmul(d, layer.reshape([c, h * w]))
        .reshape([1, d.shape[0]!, h, w])
        .clamp(0);
      const up =
        h === grid && w === grid
          ? cosine
          : E.F.interpolate(cosine, { size: [grid, grid], mode: 'bilinear', alignCorners: false });
      product = product ? product.mul(up) : up;
    });
    return product!.squeeze(0).flatten(1).max(1).data() as Float32Array;
  });
}

export type Direction = 'image-in-template' | 'template-in-image';

export interface SimilarityInput {
  /** Per image: the feature pyramid (unit-length features), coarsest first. */
  pyramids: Tensor[][];
  /** Per image: key points in working pixels. */
  keypoints: Point[][];
  inputSize: number;
  gridStride?: number;
  /**
   * image-in-template (the paper's eq. 9): image n's key points searched in
   * template j; template-in-image (the reference code): template j's key
   * points searched in image n.
   */
  direction?: Direction;
  /** Candidate templates (indices into pyramids); default all. */
  candidates?: number[];
  onProgress?: (done: number, total: number) => void;
}

/**
 * The facility-location matrix, one column per candidate template.
 * image-in-template: one row per (image, key point), value r[n, k, j].
 * template-in-image: one row per image, value = mean over template j's key
 * points of their best match in image n (key point counts differ between
 * templates, so rows cannot be key points there).
 */
export function similarityMatrix(input: SimilarityInput): {
  rows: number;
  candidates: number;
  values: Float32Array;
} {
  const n = input.pyramids.length;
  const candidates = input.candidates ?? Array.from({ length: n }, (_, i) => i);
  const grid = Math.round(input.inputSize / (input.gridStride ?? 4));
  const paperDirection = (input.direction ?? 'image-in-template') === 'image-in-template';
  const descriptors = input.pyramids.map((p, i) =>
    describeLandmarks(p, input.keypoints[i]!, input.inputSize).map((d) => d.keep()),
  );
  const offsets: number[] = [];
  let rows = 0;
  for (const k of input.keypoints) {
    offsets.push(rows);
    rows += paperDirection ? k.length : 1;
  }
  const J = candidates.length;
  const values = new Float32Array(rows * J);
  let done = 0;
  try {
    candidates.forEach((j, jj) => {
      for (let img = 0; img < n; img++) {
        if (paperDirection) {
          const scores = bestMatchScores(descriptors[img]!, input.pyramids[j]!, grid);
          scores.forEach((v, k) => {
            values[(offsets[img]! + k) * J + jj] = v;
          });
        } else {
          const scores = bestMatchScores(descriptors[j]!, input.pyramids[img]!, grid);
          values[img * J + jj] = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
        }
        input.onProgress?.(++done, J * n);
      }
    });
  } finally {
    for (const d of descriptors) for (const t of d) t.dispose();
  }
  return { rows, candidates: J, values };
}
