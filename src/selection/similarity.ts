// The similarity tensor of the representativeness score (DESIGN.md, step 4):
// r[n, k, j] = max over the pixels q of template j of the multi-layer
// similarity between image n's key point k and q — the product over layers
// of max(cos, 0), each layer upsampled to a common grid. The maximum is
// taken on a grid of stride `gridStride` working pixels (DEFAULT_GRID_STRIDE;
// 1 is the exact full-resolution maximum) to keep the N x N image pairs
// cheap; bench/selection-speed measures what the grid costs in accuracy.
//
// Speed: the features of one template are resampled to the grid once, and
// then every key point of every image is scored against it with one matrix
// product per layer (rows in chunks that stay in cache). Resampling the
// features instead of each cosine map is the same linear interpolation
// done before the dot product; only the clamp at 0 moves after it.
// bestMatchScores keeps the per-pair, clamp-first computation as the
// reference that the batched one is measured against.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { Point } from '../io/types.js';
import { coarseGrid } from '../matching/coarse-to-fine.js';
import { describeLandmarks } from '../matching/match.js';
import type { SimilarityMatrix } from './search.js';

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

/** Working pixels between the grid points the maximum is taken on. */
export const DEFAULT_GRID_STRIDE = 8;

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

/** Rows per batched product: [layers, chunk, grid cells] floats stay a few tens of MB. */
const ROW_CHUNK = 512;

/** Best multi-layer similarity of each descriptor row ([layers, R, C]) on one grid ([layers, C, G]), into out. */
export function bestOnGrid(rows: Tensor, grid: Tensor, out: Float32Array): void {
  const [layers, total] = rows.shape as [number, number, number];
  for (let start = 0; start < total; start += ROW_CHUNK) {
    const length = Math.min(ROW_CHUNK, total - start);
    const best = E.tidy(() => {
      const cosine = E.bmm(rows.narrow(1, start, length), grid).clamp(0); // [layers, rows, G]
      let product = cosine.select(0, 0);
      for (let l = 1; l < layers; l++) product = product.mul(cosine.select(0, l));
      return product.max(1).data() as Float32Array;
    });
    out.set(best, start);
  }
}

/**
 * The facility-location matrix, one column per candidate template.
 * image-in-template: one row per (image, key point), value r[n, k, j].
 * template-in-image: one row per image, value = mean over template j's key
 * points of their best match in image n (key point counts differ between
 * templates, so rows cannot be key points there).
 */
export function similarityMatrix(input: SimilarityInput): SimilarityMatrix {
  // Thousands of small products: with 2 OpenMP threads they run 2.3x slower
  // than with one, even on an idle 2-core machine (bench/selection-speed:
  // 75.7 against 33.2 s for 150 ISBI images), so this runs single-threaded.
  const threads = E.threads();
  E.threads(1);
  try {
    return computeMatrix(input);
  } finally {
    E.threads(threads);
  }
}

function computeMatrix(input: SimilarityInput): SimilarityMatrix {
  const n = input.pyramids.length;
  const candidates = input.candidates ?? Array.from({ length: n }, (_, i) => i);
  const stride = input.gridStride ?? DEFAULT_GRID_STRIDE;
  const paperDirection = (input.direction ?? 'image-in-template') === 'image-in-template';
  const J = candidates.length;
  // The searched descriptors, stacked over images (paper) or candidate templates (reference).
  const owners = paperDirection ? Array.from({ length: n }, (_, i) => i) : candidates;
  const offsets: number[] = [];
  let stackedRows = 0;
  for (const i of owners) {
    offsets.push(stackedRows);
    stackedRows += input.keypoints[i]!.length;
  }
  const stacked = E.tidy(() => {
    const perOwner = owners.map((i) =>
      describeLandmarks(input.pyramids[i]!, input.keypoints[i]!, input.inputSize),
    );
    const perLayer = input.pyramids[0]!.map((_, l) =>
      E.cat(
        perOwner.map((d) => d[l]!),
        0,
      ),
    );
    return E.stack(perLayer, 0); // [layers, rows, C]
  }).keep();
  const searched = paperDirection ? candidates : Array.from({ length: n }, (_, i) => i);
  const rows = paperDirection ? stackedRows : n;
  const values = new Float32Array(rows * J);
  const best = new Float32Array(stackedRows);
  try {
    searched.forEach((target, t) => {
      const grid = coarseGrid(input.pyramids[target]!, input.inputSize, stride).keep();
      try {
        bestOnGrid(stacked, grid, best);
      } finally {
        grid.dispose();
      }
      if (paperDirection) {
        for (let r = 0; r < stackedRows; r++) values[r * J + t] = best[r]!;
      } else {
        owners.forEach((_, jj) => {
          const from = offsets[jj]!;
          const to = jj + 1 < owners.length ? offsets[jj + 1]! : stackedRows;
          let sum = 0;
          for (let r = from; r < to; r++) sum += best[r]!;
          values[target * J + jj] = sum / Math.max(1, to - from);
        });
      }
      input.onProgress?.(t + 1, searched.length);
    });
  } finally {
    stacked.dispose();
  }
  return { rows, candidates: J, values };
}

export interface StreamedSimilarityInput {
  /** How many images give rows, and how many candidates give columns. */
  rowImages: number;
  candidates: number;
  /** The pyramid of row image i / candidate j, loaded when needed (disposed here). */
  rowPyramid: (i: number) => Promise<Tensor[]>;
  candidatePyramid: (j: number) => Promise<Tensor[]>;
  /** Per row image: key points in working pixels. */
  keypoints: Point[][];
  inputSize: number;
  gridStride?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Computes the columns elsewhere (workers on a queue) from the stacked row
   * descriptors [layers, rows, C]; default: here, one candidate at a time.
   */
  columnsElsewhere?: (stacked: Tensor) => Promise<Float32Array[]>;
}

/**
 * The row images' key point descriptors stacked as [layers, rows, C], one
 * pyramid in memory at a time. They are copied into one buffer allocated at
 * the first image: keeping each image's small descriptor tensor between
 * the 6 MB pyramids that come and go fragmented the heap, and the exact
 * SCP over 1,000 images grew to 5.3 GB (measured) for 0.3 GB of descriptors.
 */
export async function describeRows(
  input: Pick<StreamedSimilarityInput, 'rowImages' | 'rowPyramid' | 'keypoints' | 'inputSize'>,
): Promise<Tensor> {
  const total = input.keypoints.slice(0, input.rowImages).reduce((n, k) => n + k.length, 0);
  let values: Float32Array | undefined;
  let layers = 0;
  let channels = 0;
  let row = 0;
  for (let i = 0; i < input.rowImages; i++) {
    const points = input.keypoints[i]!;
    if (points.length === 0) continue; // adds no rows
    const pyramid = await input.rowPyramid(i);
    try {
      const described = describeLandmarks(pyramid, points, input.inputSize); // per layer [K, C]
      try {
        if (!values) {
          layers = described.length;
          channels = described[0]!.shape[1]!;
          values = new Float32Array(layers * total * channels);
        }
        for (const [l, d] of described.entries())
          values.set(d.data() as Float32Array, (l * total + row) * channels);
      } finally {
        for (const d of described) d.dispose();
      }
      row += points.length;
    } finally {
      for (const layer of pyramid) layer.dispose();
    }
  }
  if (!values) throw new RangeError('describeRows: no key points in any row image');
  return E.tensor(values, [layers, total, channels]).keep();
}

/** One candidate's column: each stacked row's best multi-layer similarity in it. */
export function similarityColumn(stacked: Tensor, pyramid: Tensor[], inputSize: number, gridStride: number) {
  const best = new Float32Array(stacked.shape[1]!);
  const grid = coarseGrid(pyramid, inputSize, gridStride).keep();
  try {
    bestOnGrid(stacked, grid, best);
  } finally {
    grid.dispose();
  }
  return best;
}

/**
 * The image-in-template matrix with one pyramid in memory at a time: row
 * images are described and let go, then each candidate's grid is scored.
 * Same values as similarityMatrix for the same images.
 */
export async function streamedSimilarity(input: StreamedSimilarityInput): Promise<SimilarityMatrix> {
  const threads = E.threads();
  E.threads(1); // see similarityMatrix
  let stacked: Tensor | undefined;
  try {
    stacked = await describeRows(input);
    const rows = stacked.shape[1]!;
    const J = input.candidates;
    const values = new Float32Array(rows * J);
    const store = (j: number, column: Float32Array) => {
      for (let r = 0; r < rows; r++) values[r * J + j] = column[r]!;
    };
    if (input.columnsElsewhere)
      for (const [j, c] of (await input.columnsElsewhere(stacked)).entries()) store(j, c);
    else
      for (let j = 0; j < J; j++) {
        const pyramid = await input.candidatePyramid(j);
        try {
          store(
            j,
            similarityColumn(stacked, pyramid, input.inputSize, input.gridStride ?? DEFAULT_GRID_STRIDE),
          );
        } finally {
          for (const layer of pyramid) layer.dispose();
        }
        input.onProgress?.(j + 1, J);
      }
    return { rows, candidates: J, values };
  } finally {
    stacked?.dispose();
    E.threads(threads);
  }
}
