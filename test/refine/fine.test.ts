// The fine stage (issue 13, item 5): crops map points exactly both ways,
// also rotated, scaled and at the image's borders; on phantoms the fine
// stage moves first-stage points nearer the truth; a landmark predicted
// outside the image and a missing one are handled.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { isMissing, MISSING, type Point } from '../../src/io/types.js';
import { generatePhantoms } from '../../src/phantom/index.js';
import { resolveRefineConfig } from '../../src/refine/config.js';
import { type CropPlace, cropImage, fromCrop, toCrop } from '../../src/refine/fine/crops.js';
import { type FineImage, toFineImage } from '../../src/refine/fine/images.js';
import { FineStage } from '../../src/refine/fine/infer.js';
import { type FineSample, trainFineStage } from '../../src/refine/fine/train.js';
import { Rng } from '../../src/util/random.js';

/** A smooth image (bilinear sampling is near-exact at any point) as a fine image. */
function smoothImage(width: number, height: number): FineImage {
  const pixels = E.tidy(() => {
    const xs = E.arange(0, width).reshape([1, width]).expand([height, width]);
    const ys = E.arange(0, height).reshape([height, 1]).expand([height, width]);
    return E.unary('sin', xs.mul(0.05))
      .mul(E.unary('cos', ys.mul(0.07)))
      .mul(0.4)
      .add(0.5)
      .reshape([1, 1, height, width]);
  });
  return { width, height, pixels };
}

/** Bilinear values of image [1, 1, H, W] at points (pixel centres at integers). */
function valuesAt(pixels: E.Tensor, points: Point[]): number[] {
  const [, , h, w] = pixels.shape as number[];
  const grid = points.flatMap((p) => [(2 * p.x + 1) / w! - 1, (2 * p.y + 1) / h! - 1]);
  return E.tidy(() =>
    Array.from(
      E.F.gridSample(pixels, E.tensor(grid, [1, points.length, 1, 2]), {
        alignCorners: false,
      }).data() as Float32Array,
    ),
  );
}

test('a crop shows at toCrop(p) what the image shows at p, rotated and scaled; fromCrop inverts toCrop', () => {
  const image = smoothImage(150, 110);
  const rng = new Rng(5);
  const size = 32;
  for (let trial = 0; trial < 6; trial++) {
    const place: CropPlace = {
      centre: { x: rng.uniform(40, 110), y: rng.uniform(40, 70) },
      angle: rng.uniform(-0.4, 0.4),
      scale: rng.uniform(0.8, 1.25),
    };
    const crop = cropImage(image.pixels, [place], size);
    assert.deepEqual(crop.shape, [1, 1, size, size]);
    const points = Array.from({ length: 8 }, () => ({
      x: place.centre.x + rng.uniform(-10, 10),
      y: place.centre.y + rng.uniform(-10, 10),
    }));
    const inCrop = points.map((p) => toCrop(p, place, size));
    for (const [i, q] of inCrop.entries()) {
      const back = fromCrop(q, place, size);
      assert.ok(Math.hypot(back.x - points[i]!.x, back.y - points[i]!.y) < 1e-9);
    }
    const fromTheCrop = valuesAt(crop, inCrop);
    const fromTheImage = valuesAt(image.pixels, points);
    const worst = Math.max(...fromTheCrop.map((v, i) => Math.abs(v - fromTheImage[i]!)));
    assert.ok(worst < 0.01, `largest difference ${worst}`);
    crop.dispose();
  }
  image.pixels.dispose();
});

test('a crop at the image corner reads zeros outside the image and the image inside', () => {
  const image = smoothImage(64, 48);
  const size = 32;
  const place: CropPlace = { centre: { x: 0, y: 47 }, angle: 0, scale: 1 };
  const crop = cropImage(image.pixels, [place], size);
  const c = (size - 1) / 2;
  const outside = valuesAt(crop, [
    { x: 2, y: c },
    { x: c, y: size - 3 },
  ]);
  assert.deepEqual(
    outside.map((v) => Math.abs(v) < 1e-6),
    [true, true],
  );
  const inside = { x: 5, y: 40 };
  const [a] = valuesAt(crop, [toCrop(inside, place, size)]);
  const [b] = valuesAt(image.pixels, [inside]);
  assert.ok(Math.abs(a! - b!) < 0.01, `${a} vs ${b}`);
  crop.dispose();
  image.pixels.dispose();
});

const SIZE = 128;

function phantomSet(n: number, seed: number): { images: FineImage[]; truth: Point[][]; names: string[] } {
  const { images, annotations } = generatePhantoms({ n, seed, size: SIZE, atypicalRate: 0 });
  const fine = images.map((p) => {
    const f = toFineImage({ pixels: p.image, width: SIZE, height: SIZE }, SIZE);
    p.image.dispose();
    return f;
  });
  return { images: fine, truth: annotations.images.map((a) => a.points), names: annotations.names };
}

/** Truth moved by N(0, sd) per axis: what a first stage leaves. */
const jittered = (points: Point[], rng: Rng, sd: number) =>
  points.map((p) => (isMissing(p) ? p : { x: p.x + sd * rng.normal(), y: p.y + sd * rng.normal() }));

function mre(pred: Point[][], truth: Point[][]): number {
  const e = truth.flatMap((row, i) =>
    row.flatMap((g, k) => (isMissing(g) ? [] : [Math.hypot(pred[i]![k]!.x - g.x, pred[i]![k]!.y - g.y)])),
  );
  return e.reduce((a, b) => a + b, 0) / e.length;
}

test('on phantoms the fine stage moves first-stage points nearer the truth; outside and missing points are safe', async () => {
  const train = phantomSet(20, 3);
  const rng = new Rng(8);
  // Two labeled images; the others carry noisy pseudo-labels, as the first stage's would be.
  const samples: FineSample[] = train.images.map((image, i) => ({
    id: String(i),
    image,
    points: i < 2 ? train.truth[i]! : jittered(train.truth[i]!, rng, 2),
    labeled: i < 2,
  }));
  const config = resolveRefineConfig({
    steps: 10,
    fine: {
      longSide: SIZE,
      crop: 64,
      steps: 250,
      batchSize: 16,
      labeledPerBatch: 4,
      warmupSteps: 20,
      centreJitter: 4,
      radius: 6,
    },
  }).fine;
  const out = mkdtempSync(join(tmpdir(), 'fewmark-fine-'));
  const t0 = performance.now();
  await trainFineStage({ samples, landmarks: train.names, out, config, seed: 0, checkpointMinutes: 60 });
  const seconds = (performance.now() - t0) / 1000;
  for (const im of train.images) im.pixels.dispose();

  const held = phantomSet(8, 77);
  const start = held.truth.map((row) => jittered(row, rng, 4));
  const stage = await FineStage.load(out);
  const moved = held.images.map((im, i) => stage.refineFine(im, start[i]!).points);
  const before = mre(start, held.truth);
  const after = mre(moved, held.truth);
  console.log(
    `# fine stage on phantoms (${config.steps} steps, ${seconds.toFixed(0)} s): first stage ${before.toFixed(2)} px -> ${after.toFixed(2)} px`,
  );
  assert.ok(after < 0.6 * before, `fine stage ${after.toFixed(2)} px vs first stage ${before.toFixed(2)} px`);

  // A point predicted outside the image and a missing one.
  const odd = [...start[0]!];
  odd[0] = { x: -40, y: -25 };
  odd[1] = MISSING;
  const r = stage.refineFine(held.images[0]!, odd);
  assert.ok(Number.isFinite(r.points[0]!.x) && Number.isFinite(r.points[0]!.y));
  assert.ok(
    !r.moved[0] || (r.points[0]!.x > -0.5 - 32 && r.points[0]!.y > -0.5 - 32),
    'moved to a point within reach of a crop pulled inside the image',
  );
  assert.ok(isMissing(r.points[1]!) && !r.moved[1]);
  stage.dispose();
  for (const im of held.images) im.pixels.dispose();
});
