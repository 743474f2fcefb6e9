// Issue 6, item 5: on phantoms, refinement trained on noisy pseudo-labels
// (ground truth + Gaussian noise + a tenth of gross outliers) and two
// labeled templates predicts the unlabeled images better than the
// pseudo-labels it learned from, and heatmap + offset voting beats the
// heatmap's argmax.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { isMissing, type Point } from '../../src/io/types.js';
import { generatePhantoms } from '../../src/phantom/index.js';
import { loadRefined } from '../../src/refine/checkpoint.js';
import { resolveRefineConfig } from '../../src/refine/config.js';
import { presentWeights, type RefineSample } from '../../src/refine/data.js';
import { predictWorking } from '../../src/refine/infer.js';
import { trainRefiner } from '../../src/refine/train.js';
import type { Estimator } from '../../src/refine/vote.js';
import { Rng } from '../../src/util/random.js';

const SIZE = 128;
const N = 24;
const LABELED = 2;

/** Ground truth moved by N(0, 3 px) per axis, or, one time in ten, by 8 to 16 px. */
function noisy(points: Point[], rng: Rng): Point[] {
  return points.map((p) => {
    if (isMissing(p)) return p;
    if (rng.chance(0.1)) {
      const a = rng.uniform(0, 2 * Math.PI);
      const r = rng.uniform(8, 16);
      return { x: p.x + r * Math.cos(a), y: p.y + r * Math.sin(a) };
    }
    return { x: p.x + 3 * rng.normal(), y: p.y + 3 * rng.normal() };
  });
}

function mre(pred: Point[][], gt: Point[][]): number {
  let sum = 0;
  let count = 0;
  gt.forEach((row, i) => {
    row.forEach((g, k) => {
      if (isMissing(g)) return;
      sum += Math.hypot(pred[i]![k]!.x - g.x, pred[i]![k]!.y - g.y);
      count++;
    });
  });
  return sum / count;
}

test('refinement beats its own noisy pseudo-labels on phantoms; voting beats argmax', async () => {
  const { images, annotations } = generatePhantoms({ n: N, seed: 3, size: SIZE, atypicalRate: 0 });
  const inputs = E.tidy(() =>
    E.cat(
      images.map((p) => p.image.to('float32').div(255).reshape([1, 1, SIZE, SIZE])),
      0,
    ),
  ).keep();
  for (const p of images) p.image.dispose();
  // Phantom pixels are working pixels here (the images are already S x S).
  const gt = annotations.images.map((a) => a.points);
  const rng = new Rng(42);
  const samples: RefineSample[] = gt.map((points, i) => {
    const labeled = i < LABELED;
    const used = labeled ? points : noisy(points, rng);
    return { id: String(i), points: used, weights: presentWeights(used), labeled };
  });
  const unlabeled = samples.slice(LABELED);
  const truth = gt.slice(LABELED);
  const pseudoMre = mre(
    unlabeled.map((s) => s.points),
    truth,
  );

  const out = mkdtempSync(join(tmpdir(), 'fewmark-refine-phantom-'));
  const config = resolveRefineConfig({
    inputSize: SIZE,
    steps: 120,
    minutes: null,
    warmupSteps: 10,
    initFromExtractor: false,
    freeze: 'none',
    labeledPerBatch: 1,
    labeledWeight: 1,
  });
  const t0 = performance.now();
  const source = { landmarks: annotations.names, extractor: { path: '', sha256: '' } };
  await trainRefiner({ data: { images: inputs, samples }, out, config, source });
  const seconds = (performance.now() - t0) / 1000;

  const { model, meta } = await loadRefined(out);
  const errors = {} as Record<Estimator, number>;
  for (const estimator of ['argmax', 'argmax-offset', 'vote'] as const) {
    const pred = unlabeled.map((_, j) =>
      predictWorking(model, inputs.narrow(0, LABELED + j, 1), {
        ...meta.vote,
        estimator,
        radius: meta.radius,
      })[0]!.map((e) => e.point),
    );
    errors[estimator] = mre(pred, truth);
  }
  model.dispose();
  inputs.dispose();
  console.log(
    `# phantom refinement (${config.steps} steps, ${seconds.toFixed(0)} s): pseudo-labels ${pseudoMre.toFixed(2)} px; ` +
      `refined: vote ${errors.vote.toFixed(2)}, argmax ${errors.argmax.toFixed(2)}, argmax+offset ${errors['argmax-offset'].toFixed(2)} px`,
  );
  assert.ok(
    errors.vote < 0.6 * pseudoMre,
    `refined ${errors.vote.toFixed(2)} px vs pseudo-labels ${pseudoMre.toFixed(2)} px`,
  );
  assert.ok(
    errors.vote < errors.argmax,
    `vote ${errors.vote.toFixed(2)}, argmax ${errors.argmax.toFixed(2)}`,
  );
});
