// Augmentation moves the landmarks exactly as it moves the pixels, and the
// batch sampler puts labeled templates in every batch.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { type Affine, augmentBatch, mapPoint, warpImages } from '../../src/refine/augment.js';
import { confidenceWeights, type RefineSample, sampleBatch } from '../../src/refine/data.js';
import { Rng } from '../../src/util/random.js';

describe('augmentation', () => {
  test('a warped coordinate ramp reads back the mapped points exactly', () => {
    // Channel 0 holds each pixel's x, channel 1 its y; bilinear sampling of a
    // linear ramp is exact, so output pixel q holds the input point that maps to q.
    const S = 64;
    const ramp = E.tidy(() => {
      const r = E.arange(0, S);
      return E.stack([r.reshape([1, S]).expand([S, S]), r.reshape([S, 1]).expand([S, S])], 0).reshape([
        1,
        2,
        S,
        S,
      ]);
    });
    const affines: Affine[] = [
      { angle: 0.3, scale: 1.1, tx: 2.5, ty: -3 },
      { angle: -0.15, scale: 0.9, tx: -1, ty: 4.25 },
    ];
    for (const a of affines) {
      const warped = warpImages(ramp, [a]).data() as Float32Array;
      let worst = 0;
      for (const [qx, qy] of [
        [32, 32],
        [20, 41],
        [45, 18],
        [28, 50],
      ] as const) {
        const src = { x: warped[qy * S + qx]!, y: warped[S * S + qy * S + qx]! };
        const back = mapPoint(src, a, S);
        worst = Math.max(worst, Math.hypot(back.x - qx, back.y - qy));
      }
      assert.ok(worst < 1e-3, `worst mapping error ${worst} px for ${JSON.stringify(a)}`);
    }
  });

  test('augmentBatch keeps shapes and ranges, maps every point and keeps missing ones missing', () => {
    E.seed(1);
    const images = E.rand([2, 1, 32, 32]);
    const points = [
      [
        { x: 10, y: 12 },
        { x: Number.NaN, y: Number.NaN },
      ],
      [
        { x: 16, y: 16 },
        { x: 3, y: 30 },
      ],
    ];
    const o = { maxRotationDeg: 10, scale: 0.1, shift: 0.05, contrast: 0.2, brightness: 0.1, gamma: 0.2 };
    const aug = augmentBatch(images, points, new Rng(3), o);
    assert.deepEqual(aug.images.shape, [2, 1, 32, 32]);
    assert.ok(aug.images.min().item() >= 0 && aug.images.max().item() <= 1);
    assert.ok(Number.isNaN(aug.points[0]![1]!.x));
    assert.ok(aug.points[1]!.every((p) => Number.isFinite(p.x) && Math.abs(p.x - 16) < 20));
    // The same seed draws the same augmentation.
    const again = augmentBatch(images, points, new Rng(3), o);
    assert.deepEqual(again.points, aug.points);
  });
});

describe('training data', () => {
  const samples: RefineSample[] = Array.from({ length: 20 }, (_, i) => ({
    id: String(i),
    points: [],
    weights: [],
    labeled: i < 2,
  }));

  test('every batch holds the asked number of labeled templates', () => {
    const rng = new Rng(0);
    for (let b = 0; b < 50; b++) {
      const batch = sampleBatch(samples, 6, 2, rng);
      assert.equal(batch.length, 6);
      assert.equal(batch.filter((i) => samples[i]!.labeled).length, 2);
    }
    // Only templates: the whole batch comes from them.
    assert.ok(sampleBatch(samples.slice(0, 2), 4, 1, rng).every((i) => i < 2));
  });

  test('confidence weights are relative to the landmark median, capped at 1', () => {
    const w = confidenceWeights([
      [0.2, 0.9],
      [0.4, 0.6],
      [0.8, Number.NaN],
    ]);
    assert.deepEqual(
      w.map((r) => r.map((v) => Math.round(v * 100) / 100)),
      [
        [0.5, 1],
        [1, 0.8],
        [1, 0],
      ],
    );
  });
});
