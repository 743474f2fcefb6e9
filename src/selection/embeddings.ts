// One global embedding per image for the selection baselines (baselines.ts),
// from the same self-supervised extractor the SCP uses, so the comparison
// is about the selection rule and not about the features.
//
// The choice: average the unit-length features of the stride-32 and
// stride-16 maps over the image, normalise each average to unit length,
// concatenate and normalise again. The coarse layers are the ones trained to
// tell regions of the whole image apart (InfoNCE negatives: every pixel at
// stride 32; at stride 16 the +-11-cell window covers most of the image),
// so their averages describe the anatomy and pose in the image. The finer
// layers are trained against a local window only and their averages reduce
// to texture statistics. Normalising each layer first weights the two
// equally, whatever their channel counts.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';

import type { PointSet } from './baselines.js';

/** How many of the coarsest pyramid layers the embedding pools. */
const EMBEDDING_LAYERS = 2;

/** Pyramid (per layer [1, C, h, w], coarsest first) -> the unit-length embedding. */
export function globalEmbedding(pyramid: Tensor[], layers = EMBEDDING_LAYERS): Float32Array {
  if (pyramid.length < layers)
    throw new RangeError(`globalEmbedding: need ${layers} pyramid layers, got ${pyramid.length}`);
  return E.tidy(() => {
    const pooled = pyramid.slice(0, layers).map((f) => E.F.normalize(f.mean([2, 3]), 2, 1));
    return E.F.normalize(E.cat(pooled, 1), 2, 1).data() as Float32Array;
  });
}

/** Rows of equal length as a point set. */
export function stackEmbeddings(rows: Float32Array[]): PointSet {
  const dim = rows[0]?.length ?? 0;
  const values = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    values.set(r, i * dim);
  });
  return { count: rows.length, dim, values };
}
