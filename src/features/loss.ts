// Multi-layer pixel-wise InfoNCE (DESIGN.md, method step 1): each query's
// crop feature must be most similar, at every layer, to the whole image's
// feature at the query's true place. Negatives: every cell at the coarsest
// layer, a window around the true cell at finer ones; a negative's logit is
// raised by a margin that grows with its distance (so far-away cells must
// be pushed further apart than near ones), capped.
import * as E from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { toGrid } from './pairs.js';

export interface InfoNceOptions {
  temperature: number;
  marginPerCell: number;
  marginCap: number;
  /** Half-width of the negative window in cells at the finer layers. */
  window: number;
}

export const defaultInfoNce: InfoNceOptions = { temperature: 0.1, marginPerCell: 0.07, marginCap: 0.8, window: 11 };

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
  const [b, q] = queryInCrop.shape as [number, number, number];
  const cropGrid = toGrid(queryInCrop, cropSize, cropSize).unsqueeze(2); // [B, Q, 1, 2]
  const losses = wholeFeatures.map((whole, l) => {
    const stride = strides[l]!;
    const [, c, h, w] = whole.shape as [number, number, number, number];
    // Query vectors from the crop, bilinearly sampled at the query points.
    const sampled = E.F.gridSample(cropFeatures[l]!, cropGrid, { alignCorners: false }); // [B, C, Q, 1]
    const queries = E.F.normalize(sampled.squeeze(3).permute([0, 2, 1]), 2, 2); // [B, Q, C]
    const keys = E.F.normalize(whole, 2, 1).reshape([b, c, h * w]);
    const cosine = E.bmm(queries, keys); // [B, Q, HW]
    // True cell of each query at this layer (cell centres at s*j + (s-1)/2).
    const cell = E.unary('round', queryInWhole.sub((stride - 1) / 2).div(stride));
    const cx = cell.select(2, 0).clamp(0, w - 1);
    const cy = cell.select(2, 1).clamp(0, h - 1);
    const target = cy.mul(w).add(cx).to('int64').reshape([b * q]);
    const gx = E.arange(0, w).reshape([1, 1, 1, w]).expand([1, 1, h, w]).reshape([1, 1, h * w]);
    const gy = E.arange(0, h).reshape([1, 1, h, 1]).expand([1, 1, h, w]).reshape([1, 1, h * w]);
    const dx = gx.sub(cx.unsqueeze(2)); // [B, Q, HW]
    const dy = gy.sub(cy.unsqueeze(2));
    const distance = dx.square().add(dy.square()).sqrt();
    const margin = distance.mul(o.marginPerCell).clamp(null, o.marginCap);
    let logits = cosine.add(margin).div(o.temperature);
    if (l > 0) {
      const outside = E.maximum(dx.abs(), dy.abs()).gt(o.window);
      logits = E.maskedFill(logits, outside, -1e4);
    }
    return E.F.crossEntropy(logits.reshape([b * q, h * w]), target);
  });
  return losses;
}
