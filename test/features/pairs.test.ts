// The training pairs' geometry: a query point's crop pixel shows the same
// content as the whole image at its mapped place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { samplePairs, toGrid } from '../../src/features/pairs.js';
import { Rng } from '../../src/util/random.js';

test('query points map from crop to whole image exactly', () => {
  E.tidy(() => {
    // A smooth image (so bilinear sampling is near-exact at any point).
    const size = 128;
    const xs = E.arange(0, size).reshape([1, size]).expand([size, size]);
    const ys = E.arange(0, size).reshape([size, 1]).expand([size, size]);
    const image = E.unary('sin', xs.mul(0.05))
      .mul(E.unary('cos', ys.mul(0.07)))
      .mul(0.5)
      .add(0.5)
      .reshape([1, 1, size, size]);
    const images = E.cat([image, image.flip([3])], 0);
    const rng = new Rng(3);
    const batch = samplePairs(images, [0, 1, 0], rng, {
      cropFraction: 0.5,
      maxRotationDeg: 20,
      brightness: 0,
      contrast: 0,
      queriesPerImage: 8,
    });
    assert.deepEqual(batch.crop.shape, [3, 1, 64, 64]);
    const atCrop = E.F.gridSample(batch.crop, toGrid(batch.queryInCrop, 64, 64).unsqueeze(2), {
      alignCorners: false,
    });
    const atWhole = E.F.gridSample(batch.whole, toGrid(batch.queryInWhole, size, size).unsqueeze(2), {
      alignCorners: false,
    });
    const worst = atCrop.sub(atWhole).abs().max().item();
    // Two bilinear resamplings of a smooth image: differences stay tiny.
    assert.ok(worst < 0.01, `largest difference ${worst}`);
    const inside = batch.queryInWhole;
    assert.ok(inside.min().item() >= -0.5 && inside.max().item() <= size - 0.5);
  });
});
