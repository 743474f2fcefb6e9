// Plausible regions: boxes from the training labels, robust to a few
// outlying pseudo-labels, and inference that ignores a confident peak
// outside a landmark's box.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { predictWorking } from '../../src/refine/infer.js';
import { RefineNet } from '../../src/refine/model.js';
import { plausibleRegions } from '../../src/refine/region.js';

describe('plausible regions', () => {
  test('a box per landmark around the labels, outliers and missing points left out, clamped to the image', () => {
    // 50 samples near (20, 30) for landmark 0, one far outlier; landmark 1 missing everywhere.
    const points = Array.from({ length: 51 }, (_, i) => [
      i === 50 ? { x: 60, y: 5 } : { x: 20 + (i % 5), y: 30 + (i % 3) },
      { x: Number.NaN, y: Number.NaN },
    ]);
    const [box, missing] = plausibleRegions(points, 64, { quantile: 0.02, margin: 0.1 });
    assert.equal(missing, null);
    // x from 20..24 and y 30..32, padded by 6.4 pixels; the outlier at (60, 5) is outside.
    assert.ok(box);
    assert.ok(Math.abs(box.x0 - 13.6) < 1e-9 && Math.abs(box.x1 - 30.4) < 1e-9, JSON.stringify(box));
    assert.ok(Math.abs(box.y0 - 23.6) < 1e-9 && Math.abs(box.y1 - 38.4) < 1e-9, JSON.stringify(box));
    const edge = plausibleRegions([[{ x: 1, y: 62 }]], 64, { quantile: 0, margin: 0.1 })[0]!;
    assert.deepEqual(edge, { x0: 0, y0: 55.6, x1: 7.4, y1: 63 });
  });

  test('inference ignores a stronger peak outside the box', () => {
    E.seed(3);
    const net = new RefineNet({
      inChannels: 1,
      widths: [4, 4, 8, 8, 8],
      norm: 'batch',
      outputStride: 4,
      headWidth: 4,
      landmarks: 1,
    }).eval();
    const input = E.rand([1, 1, 64, 64]);
    const options = { estimator: 'argmax' as const, threshold: 0.5, minVoters: 4, bandwidth: 2, radius: 3.2 };
    const free = predictWorking(net, input, options)[0]![0]!.point;
    // A box on the opposite half of the image from the unconstrained peak.
    const box = free.x < 32 ? { x0: 36, y0: 0, x1: 63, y1: 63 } : { x0: 0, y0: 0, x1: 28, y1: 63 };
    const kept = predictWorking(net, input, { ...options, regions: [box] })[0]![0]!.point;
    assert.ok(
      kept.x >= box.x0 - 2 && kept.x <= box.x1 + 2,
      `${JSON.stringify(kept)} outside ${JSON.stringify(box)}`,
    );
    input.dispose();
    net.dispose();
  });
});
