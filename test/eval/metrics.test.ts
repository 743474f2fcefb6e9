// Landmark metrics against values worked out by hand: 3-4-5 triangles under
// anisotropic spacing, a point exactly 2 mm off for the <= vs < SDR rules,
// missing predictions and missing ground truth.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  computeMetrics,
  evaluatePairs,
  type ImagePair,
  imageErrors,
  isSuccess,
  LandmarkMetric,
  median,
  pairErrors,
  populationStd,
  radialErrorMm,
  sdr,
  summarize,
} from '../../src/eval/metrics.js';
import { MISSING } from '../../src/io/types.js';
import { assertClose } from '../helpers.js';

const N = Number.NaN;
const names = ['A', 'B', 'C'];

// Spacings are powers of two so that every error below is exact in floating point.
//   img1 (x 0.5 mm, y 0.25 mm per pixel):
//     A: (106,116) vs (100,100): dx 6 px = 3 mm, dy 16 px = 4 mm -> 5 mm
//     B: (54,50) vs (50,50): dx 4 px = 2 mm -> exactly 2 mm
//     C: (10,14) vs (10,10): dy 4 px = 1 mm -> 1 mm
//   img2 (0.25 mm square):
//     A: (6,8) vs (0,0): 1.5 mm, 2 mm -> 2.5 mm
//     B: prediction missing -> NaN
//     C: (88,104) vs (40,40): 48 px = 12 mm, 64 px = 16 mm -> 20 mm
//   img3 (1 mm square):
//     A: ground truth missing -> NaN
//     B: (0,3) vs (0,0) -> 3 mm
//     C: (0,2.5) vs (0,0) -> 2.5 mm
const pairs: ImagePair[] = [
  {
    image: 'img1',
    spacing: { x: 0.5, y: 0.25 },
    pred: [
      { x: 106, y: 116 },
      { x: 54, y: 50 },
      { x: 10, y: 14 },
    ],
    gt: [
      { x: 100, y: 100 },
      { x: 50, y: 50 },
      { x: 10, y: 10 },
    ],
  },
  {
    image: 'img2',
    spacing: 0.25,
    pred: [{ x: 6, y: 8 }, MISSING, { x: 88, y: 104 }],
    gt: [
      { x: 0, y: 0 },
      { x: 20, y: 20 },
      { x: 40, y: 40 },
    ],
  },
  {
    image: 'img3',
    spacing: 1,
    pred: [
      { x: 5, y: 5 },
      { x: 0, y: 3 },
      { x: 0, y: 2.5 },
    ],
    gt: [
      { x: N, y: N },
      { x: 0, y: 0 },
      { x: 0, y: 0 },
    ],
  },
];

// All valid errors: 5, 2, 1, 2.5, 20, 3, 2.5 (n = 7, sum 36, sum of squares 451.5).
const overallMre = 36 / 7; // 5.142857
const overallStd = Math.sqrt((451.5 - 36 ** 2 / 7) / 7); // population: 6.168551

describe('radial error', () => {
  test('3-4-5 triangle with anisotropic spacing', () => {
    assert.equal(radialErrorMm({ x: 106, y: 116 }, { x: 100, y: 100 }, { x: 0.5, y: 0.25 }), 5);
    // the same pixel offset with the spacings swapped: 6 * 0.25 = 1.5 mm, 16 * 0.5 = 8 mm
    assert.equal(
      radialErrorMm({ x: 106, y: 116 }, { x: 100, y: 100 }, { x: 0.25, y: 0.5 }),
      Math.hypot(1.5, 8),
    );
  });
  test('a number is square pixels', () => {
    assert.equal(radialErrorMm({ x: 6, y: 8 }, { x: 0, y: 0 }, 0.25), 2.5);
  });
  test('missing prediction or ground truth is NaN', () => {
    assert.ok(Number.isNaN(radialErrorMm(MISSING, { x: 0, y: 0 }, 1)));
    assert.ok(Number.isNaN(radialErrorMm({ x: 0, y: 0 }, { x: 1, y: N }, 1)));
  });
});

describe('pairing', () => {
  test('per-point errors and valid counts', () => {
    const e = pairErrors(pairs);
    assert.deepEqual(
      e.map((x) => x.errors),
      [
        [5, 2, 1],
        [2.5, N, 20],
        [N, 3, 2.5],
      ],
    );
    assert.deepEqual(
      e.map((x) => [x.predicted, x.groundTruth, x.valid]),
      [
        [3, 3, 3],
        [2, 3, 2],
        [3, 2, 2],
      ],
    );
    assert.deepEqual(e[0]!.spacing, { x: 0.5, y: 0.25 });
    assert.deepEqual(e[1]!.spacing, { x: 0.25, y: 0.25 });
  });
  test('different point counts and bad spacing are refused', () => {
    assert.throws(
      () => imageErrors({ image: 'q', pred: [MISSING], gt: [], spacing: 1 }),
      /^Error: image q: 1 predicted points but 0 ground-truth points$/,
    );
    assert.throws(
      () => imageErrors({ image: 'q', pred: [], gt: [], spacing: { x: 0, y: 1 } }),
      /^Error: image q: pixel spacing 0 x 1 mm is not positive$/,
    );
  });
});

describe('statistics', () => {
  test('mean, population std, median', () => {
    assert.equal(populationStd([2, 4, 4, 4, 5, 5, 7, 9]), 2); // sample std would be 2.138
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
  test('summary skips NaN', () => {
    const s = summarize([5, 2, 1, 2.5, N, 20, N, 3, 2.5]);
    assert.equal(s.n, 7);
    assertClose([s.mre, s.std, s.median, s.max], [overallMre, overallStd, 2.5, 20], 1e-12);
    assertClose([s.mre, s.std], [5.142857, 6.168551], 1e-6);
  });
  test('SDR: <= r (default) counts a point exactly on the radius, < r does not', () => {
    const e = [5, 2, 1, 2.5, 20, 3, 2.5];
    // <= : 2 mm {1,2}; 2.5 mm {1,2,2.5,2.5}; 3 mm adds 3; 4 mm the same
    assert.deepEqual(
      sdr(e, [2, 2.5, 3, 4]).map((s) => s.count),
      [2, 4, 5, 5],
    );
    // <  : 2 mm {1}; 2.5 mm {1,2}; 3 mm {1,2,2.5,2.5}; 4 mm adds 3
    assert.deepEqual(
      sdr(e, [2, 2.5, 3, 4], '<').map((s) => s.count),
      [1, 2, 4, 5],
    );
    assertClose(
      sdr(e, [2, 2.5, 3, 4]).map((s) => s.percent),
      [(100 * 2) / 7, (100 * 4) / 7, (100 * 5) / 7, (100 * 5) / 7],
      1e-12,
    );
  });
  test('an error a rounding step away from the radius counts as on it', () => {
    // e.g. a 3-4-5 triangle of 12,16 px at 0.09999999999999999 mm gives 1.9999999999999998
    const justUnder = Math.sqrt((12 * 0.09999999999999999) ** 2 + (16 * 0.09999999999999999) ** 2);
    assert.ok(justUnder < 2);
    assert.ok(!isSuccess(justUnder, 2, '<'));
    assert.ok(isSuccess(2 + 2 ** -51, 2, '<='));
    assert.ok(!isSuccess(2.001, 2, '<='));
    assert.ok(isSuccess(1.999, 2, '<'));
    assert.ok(!isSuccess(N, 2));
  });
});

describe('computeMetrics', () => {
  const r = evaluatePairs(names, pairs);

  test('overall, counts and conventions', () => {
    assert.equal(r.sdrRule, '<=');
    assert.equal(r.std, 'population');
    assert.deepEqual(r.radii, [2, 2.5, 3, 4]);
    assert.deepEqual(r.counts, { images: 3, points: 9, predicted: 8, groundTruth: 8, both: 7 });
    assert.equal(r.overall.n, 7);
    assertClose(
      [r.overall.mre, r.overall.std, r.overall.median, r.overall.max],
      [overallMre, overallStd, 2.5, 20],
      1e-12,
    );
    assert.deepEqual(
      r.overall.sdr.map((s) => [s.radius, s.count]),
      [
        [2, 2],
        [2.5, 4],
        [3, 5],
        [4, 5],
      ],
    );
  });

  test('strict SDR changes only the SDR', () => {
    const s = evaluatePairs(names, pairs, { sdrRule: '<' });
    assert.equal(s.sdrRule, '<');
    assert.deepEqual(
      s.overall.sdr.map((x) => x.count),
      [1, 2, 4, 5],
    );
    assert.equal(s.overall.mre, r.overall.mre);
  });

  test('per-landmark table', () => {
    const rows = r.perLandmark.map((l) => ({
      name: l.name,
      n: l.n,
      predicted: l.predicted,
      groundTruth: l.groundTruth,
      sdr: l.sdr.map((s) => s.count),
    }));
    assert.deepEqual(rows, [
      { name: 'A', n: 2, predicted: 3, groundTruth: 2, sdr: [0, 1, 1, 1] }, // 5, 2.5
      { name: 'B', n: 2, predicted: 2, groundTruth: 3, sdr: [1, 1, 2, 2] }, // 2, 3
      { name: 'C', n: 3, predicted: 3, groundTruth: 3, sdr: [1, 2, 2, 2] }, // 1, 20, 2.5
    ]);
    const [a, b, c] = r.perLandmark;
    assertClose([a!.mre, a!.std, a!.median, a!.max], [3.75, 1.25, 3.75, 5], 1e-12);
    assertClose([b!.mre, b!.std, b!.median, b!.max], [2.5, 0.5, 2.5, 3], 1e-12);
    // C: mean 23.5/3; squares 1 + 400 + 6.25 = 407.25
    assertClose(
      [c!.mre, c!.std, c!.median, c!.max],
      [23.5 / 3, Math.sqrt((407.25 - 23.5 ** 2 / 3) / 3), 2.5, 20],
      1e-12,
    );
    assertClose([c!.std], [8.624899], 1e-6);
    assertClose(
      c!.sdr.map((s) => s.percent),
      [100 / 3, 200 / 3, 200 / 3, 200 / 3],
      1e-12,
    );
  });

  test('per-image table', () => {
    assert.deepEqual(
      r.perImage.map((i) => [i.image, i.n, i.predicted, i.groundTruth, i.max, i.maxLandmark]),
      [
        ['img1', 3, 3, 3, 5, 'A'],
        ['img2', 2, 2, 3, 20, 'C'],
        ['img3', 2, 3, 2, 3, 'B'],
      ],
    );
    assertClose(
      r.perImage.map((i) => i.mre),
      [8 / 3, 22.5 / 2, 5.5 / 2],
      1e-12,
    );
    assert.deepEqual(r.perImage[1]!.errors, [2.5, N, 20]);
  });

  test('outliers and worst images', () => {
    assert.deepEqual(r.outliers, [
      { radius: 4, rule: '>', points: 2, images: 2 }, // 5 (img1), 20 (img2)
      { radius: 10, rule: '>', points: 1, images: 1 }, // 20 (img2)
    ]);
    // the worst by max: img2 20, img1 5, img3 3; by mean: img2 11.25, img3 2.75, img1 2.667
    const byMax = evaluatePairs(names, pairs, { worstK: 2 });
    assert.deepEqual(
      byMax.worst.images.map((w) => [w.image, w.max, w.maxLandmark]),
      [
        ['img2', 20, 'C'],
        ['img1', 5, 'A'],
      ],
    );
    const byMean = evaluatePairs(names, pairs, { worstK: 2, worstBy: 'mean' });
    assert.equal(byMean.worst.by, 'mean');
    assert.deepEqual(
      byMean.worst.images.map((w) => w.image),
      ['img2', 'img3'],
    );
  });

  test('outliers are the complement of the SDR rule', () => {
    const le = evaluatePairs(names, pairs, { outlierRadii: [5] });
    const lt = evaluatePairs(names, pairs, { outlierRadii: [5], sdrRule: '<' });
    assert.deepEqual(le.outliers, [{ radius: 5, rule: '>', points: 1, images: 1 }]); // 20
    assert.deepEqual(lt.outliers, [{ radius: 5, rule: '>=', points: 2, images: 2 }]); // 5, 20
  });

  test('radii are sorted and deduplicated; bad radii are refused', () => {
    assert.deepEqual(evaluatePairs(names, pairs, { radii: [4, 2, 2] }).radii, [2, 4]);
    assert.throws(
      () => evaluatePairs(names, pairs, { radii: [0] }),
      /^Error: SDR radius: 0 is not a positive/,
    );
  });

  test('no valid points gives NaN figures, not a crash', () => {
    const e = evaluatePairs(['A'], [{ image: 'x', pred: [MISSING], gt: [{ x: 1, y: 1 }], spacing: 1 }]);
    assert.equal(e.overall.n, 0);
    assert.ok(Number.isNaN(e.overall.mre) && Number.isNaN(e.overall.sdr[0]!.percent));
    assert.equal(e.perImage[0]!.maxLandmark, null);
    assert.deepEqual(e.worst.images, []);
  });
});

describe('LandmarkMetric', () => {
  test('accumulating image by image equals the batch function', () => {
    const m = new LandmarkMetric(names, { worstK: 2 });
    for (const p of pairs) m.update(p.pred, p.gt, p.spacing, p.image);
    assert.equal(m.count, 3);
    assert.deepEqual(m.compute(), evaluatePairs(names, pairs, { worstK: 2 }));
    assert.deepEqual(m.compute(), computeMetrics(names, pairErrors(pairs), { worstK: 2 }));
  });
  test('compute() mid-way covers the images so far; reset() starts again', () => {
    const m = new LandmarkMetric(names);
    m.update(pairs[0]!.pred, pairs[0]!.gt, pairs[0]!.spacing);
    const first = m.compute();
    assert.equal(first.perImage[0]!.image, '1');
    assertClose([first.overall.mre], [8 / 3], 1e-12);
    m.update(pairs[1]!.pred, pairs[1]!.gt, pairs[1]!.spacing);
    assert.equal(m.compute().counts.both, 5);
    m.reset();
    assert.equal(m.count, 0);
    m.update(pairs[2]!.pred, pairs[2]!.gt, pairs[2]!.spacing);
    assert.deepEqual(
      m.compute().perImage.map((i) => i.errors),
      [[N, 3, 2.5]],
    );
  });
  test('wrong number of points is refused', () => {
    const m = new LandmarkMetric(names);
    assert.throws(
      () => m.update([MISSING], [MISSING], 1),
      /^Error: LandmarkMetric.update: expected 3 points, got 1 predicted and 1 ground-truth$/,
    );
  });
});
