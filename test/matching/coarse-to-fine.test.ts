// Coarse-to-fine peaks must agree with the peaks of the full-size maps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { coarseToFinePeaks, defaultCoarseToFine } from '../../src/matching/coarse-to-fine.js';
import { describeLandmarks, findPeaks, similarityMaps } from '../../src/matching/match.js';

test('coarse-to-fine peaks equal the full-size maps’ peaks, values included', () => {
  E.seed(4);
  const size = 128;
  E.tidy(() => {
    // Smooth random features (so peaks are broad enough for a coarse grid), unit length.
    const pyramid = [4, 8, 16, 32, 64].map((s) =>
      E.F.normalize(
        E.F.interpolate(E.randn([1, 16, Math.max(2, s / 4), Math.max(2, s / 4)]), {
          size: [s, s],
          mode: 'bilinear',
        }),
        2,
        1,
      ),
    );
    const other = pyramid.map((l) => E.F.normalize(l.add(E.randn([...l.shape]).mul(0.3)), 2, 1));
    const points = Array.from({ length: 12 }, (_, k) => ({
      x: 5 + ((k * 37) % 118) + 0.3,
      y: 5 + ((k * 53) % 118) + 0.6,
    }));
    const d = describeLandmarks(pyramid, points, size);
    const exact = findPeaks(similarityMaps(d, other, size));
    const fast = coarseToFinePeaks(d, other, size, defaultCoarseToFine);
    exact.forEach((e, k) => {
      assert.ok(
        Math.abs(e.value - fast[k]!.value) < 1e-5,
        `landmark ${k}: value ${fast[k]!.value} vs ${e.value}`,
      );
      assert.ok(
        Math.hypot(e.point.x - fast[k]!.point.x, e.point.y - fast[k]!.point.y) < 1e-4,
        `landmark ${k}: (${fast[k]!.point.x}, ${fast[k]!.point.y}) vs (${e.point.x}, ${e.point.y})`,
      );
    });
  });
});
