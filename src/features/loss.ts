// Multi-layer pixel-wise InfoNCE (DESIGN.md, method step 1): each query's
// crop feature must be most similar, at every layer, to the whole image's
// feature at the query's true place. Negatives: every cell at the coarsest
// layer, a window around the true cell at finer ones; a negative's logit is
// raised by a margin that grows with its distance (so far-away cells must
// be pushed further apart than near ones), capped.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { toGrid } from './pairs.js';

export interface InfoNceOptions {
  temperature: number;
  marginPerCell: number;
  marginCap: number;
  /** Half-width of the negative window in cells at the finer layers. */
  window: number;
}

export const defaultInfoNce: InfoNceOptions = {
  temperature: 0.1,
  marginPerCell: 0.07,
  marginCap: 0.8,
  window: 11,
};

/**
 * wholeFeatures/cropFeatures: per layer [B, C, H, W], coarsest first, with
 * `strides` giving each layer's stride in pixels. Returns the per-layer
 * losses (scalars) — their sum is what training minimises.
 */
export function infoNceLosses(
  wholeFeatures: Tensor[],
  cropFeatures: Tensor[],
  queryInCrop: Tensor,
  queryInWhole: Tensor,
  strides: readonly number[],
  cropSize: number,
  o: InfoNceOptions = defaultInfoNce,
): Tensor[] {
  const b = queryInCrop.shape[0]!;
  const cropGrid = toGrid(queryInCrop, cropSize, cropSize).unsqueeze(2); // [B, Q, 1, 2]
  const losses = wholeFeatures.map((whole, l) => {
    const stride = strides[l]!;
    const [, c, h, w] = whole.shape as [number, number, number, number];
    // Query vectors from the crop, bilinearly sampled at the query points.
    const sampled = E.F.gridSample(cropFeatures[l]!, cropGrid, { alignCorners: false }); // [B, C, Q, 1]
    const queries = E.F.normalize(sampled.squeeze(3).permute([0, 2, 1]), 2, 2); // [B, Q, C]
    const keys = E.F.normalize(whole, 2, 1).reshape([b, c, h * w]);
    // True cell of each query at this layer (cell centres at s*j + (s-1)/2).
    const cell = E.unary('round', queryInWhole.sub((stride - 1) / 2).div(stride));
    const cx = cell
      .select(2, 0)
      .clamp(0, w - 1)
      .unsqueeze(2); // [B, Q, 1]
    const cy = cell
      .select(2, 1)
      .clamp(0, h - 1)
      .unsqueeze(2);
    const layer = { queries, keys, cx, cy, w, h };
    return l === 0 ? coarseLoss(layer, o) : windowLoss(layer, o);
  });
  return losses;
}

/** One layer's inputs: unit queries [B, Q, C], unit keys [B, C, H*W], true cells [B, Q, 1]. */
interface LayerQueries {
  queries: Tensor;
  keys: Tensor;
  cx: Tensor;
  cy: Tensor;
  w: number;
  h: number;
}

/** Logits: (cosine + min(margin per cell x distance, cap)) / temperature. */
function withMargin(cosine: Tensor, distanceInCells: Tensor, o: InfoNceOptions): Tensor {
  return cosine.add(distanceInCells.mul(o.marginPerCell).clamp(null, o.marginCap)).div(o.temperature);
}

/** All cells are candidates. */
function coarseLoss(layer: LayerQueries, o: InfoNceOptions) {
  const { queries, keys, cx, cy, w, h } = layer;
  const [b, q] = queries.shape as [number, number, number];
  const cosine = E.bmm(queries, keys); // [B, Q, HW]
  const gx = E.arange(0, w)
    .repeat([h])
    .reshape([1, 1, h * w]);
  const gy = E.arange(0, h)
    .reshape([h, 1])
    .expand([h, w])
    .reshape([1, 1, h * w]);
  const distance = gx.sub(cx).square().add(gy.sub(cy).square()).sqrt();
  const logits = withMargin(cosine, distance, o);
  const target = cy
    .mul(w)
    .add(cx)
    .to('int64')
    .reshape([b * q]);
  return E.F.crossEntropy(logits.reshape([b * q, h * w]), target);
}

/**
 * Only the (2r+1)^2 cells around the true one are candidates: gathered
 * directly, so the cost does not grow with the layer's size. Cells that
 * fall outside the map are masked out.
 */
function windowLoss(layer: LayerQueries, o: InfoNceOptions) {
  const { queries, keys, cx, cy, w, h } = layer;
  const [b, q, c] = queries.shape as [number, number, number];
  const r = o.window;
  const side = 2 * r + 1;
  const k = side * side;
  const offsets = E.arange(-r, r + 1);
  const ox = offsets.repeat([side]).reshape([1, 1, k]);
  const oy = offsets.reshape([side, 1]).expand([side, side]).reshape([1, 1, k]);
  const x = cx.add(ox); // [B, Q, K]
  const y = cy.add(oy);
  const inside = E.logicalAnd(E.logicalAnd(x.ge(0), x.le(w - 1)), E.logicalAnd(y.ge(0), y.le(h - 1)));
  const index = y
    .clamp(0, h - 1)
    .mul(w)
    .add(x.clamp(0, w - 1))
    .to('int64')
    .reshape([b, q * k, 1])
    .expand([b, q * k, c]);
  const candidates = keys.permute([0, 2, 1]).gather(1, index).reshape([b, q, k, c]);
  const cosine = candidates.mul(queries.unsqueeze(2)).sum(3); // [B, Q, K]
  const distance = ox.square().add(oy.square()).sqrt();
  const logits = E.maskedFill(withMargin(cosine, distance, o), E.logicalNot(inside), -1e4);
  const target = E.full([b * q], Math.floor(k / 2), 'int64'); // the window's centre
  return E.F.crossEntropy(logits.reshape([b * q, k]), target);
}
