// Feature pyramids of images: the extractor's five layers, L2-normalised
// along channels so a dot product is a cosine similarity.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { FeatureExtractor } from './model.js';

/** input [1, 1, S, S] -> per layer [1, C, h, w], coarsest first, unit length along C. */
export function extractPyramid(model: FeatureExtractor, input: Tensor): Tensor[] {
  if (model.training) model.eval();
  return E.noGrad(() => E.tidy(() => model.forward(input).map((f) => E.F.normalize(f, 2, 1))));
}
