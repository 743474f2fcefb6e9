// Selection from large pools (pool-sample.ts, select-sampled.ts): the
// estimates and their intervals, sampled k-medoids against exact, the
// streamed similarity matrix against the in-memory one, and the sampled
// path of selectImages on phantoms (embeddings cached, no pyramids kept).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { FeatureCache } from '../../src/features/cache.js';
import { EXTRACTOR_FILE, saveExtractor } from '../../src/features/checkpoint.js';
import { type ExtractorConfig, FeatureExtractor } from '../../src/features/model.js';
import { extractPyramid } from '../../src/features/pyramid.js';
import { listImages } from '../../src/io/folder.js';
import { proposeKeypoints } from '../../src/keypoints/propose.js';
import { writePhantomDataset } from '../../src/phantom/dataset.js';
import { generatePhantoms } from '../../src/phantom/index.js';
import { pairwiseDistances, pointSet } from '../../src/selection/baselines.js';
import { coverageCost, kMedoids } from '../../src/selection/medoids.js';
import { kMedoidsSampled, meanEstimate, ratioEstimate, samplePool } from '../../src/selection/pool-sample.js';
import { resolveScale, selectImages } from '../../src/selection/select.js';
import { similarityMatrix, streamedSimilarity } from '../../src/selection/similarity.js';
import { Rng } from '../../src/util/random.js';

/** Live native tensors once tensors dropped earlier (by any test) have been collected. */
async function liveTensors(): Promise<number> {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 20));
  return E.memory().liveTensors;
}

/** n points in `clusters` Gaussian clusters of dimension 6. */
function clustered(n: number, clusters: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: 6 }, () => rng.normal() * 3));
  return pointSet(Array.from({ length: n }, (_, i) => centres[i % clusters]!.map((c) => c + rng.normal())));
}

describe('estimates on a sample', () => {
  test('a mean over the whole population has no uncertainty; a sample has some', () => {
    const values = Array.from({ length: 100 }, (_, i) => i % 7);
    assert.equal(meanEstimate(values, 100).halfWidth, 0);
    const part = meanEstimate(values.slice(0, 30), 1000);
    assert.ok(part.halfWidth > 0.3 && part.halfWidth < 1.5, `half-width ${part.halfWidth}`);
  });

  test('the 95% interval covers the true mean about 95% of the time', () => {
    const rng = new Rng(3);
    const population = Array.from({ length: 5000 }, () => rng.next() ** 2);
    const truth = population.reduce((a, b) => a + b, 0) / population.length;
    let covered = 0;
    for (let trial = 0; trial < 200; trial++) {
      const e = meanEstimate(
        samplePool(population.length, 100, trial).map((i) => population[i]!),
        population.length,
      );
      if (Math.abs(e.value - truth) <= e.halfWidth) covered++;
    }
    assert.ok(covered >= 180 && covered <= 198, `covered ${covered} of 200`);
  });

  test('a ratio of sums weights each image by its count', () => {
    const e = ratioEstimate([2, 9], [2, 3], 10);
    assert.ok(Math.abs(e.value - 11 / 5) < 1e-12);
    assert.ok(e.halfWidth > 0);
  });
});

describe('sampled k-medoids', () => {
  test('with the whole pool as candidates it is at least as good as the exact search', () => {
    const p = clustered(120, 4, 1);
    const distances = pairwiseDistances(p);
    const exact = kMedoids(p, 4);
    const sampled = kMedoidsSampled(p, 4, [], 120, 0);
    assert.ok(
      coverageCost(distances, 120, sampled.order) <= coverageCost(distances, 120, exact.order) + 1e-12,
    );
    assert.equal(sampled.estimate.halfWidth, 0);
  });

  test('on 1,500 points 500 sampled candidates find sets within 1% of the exact C', () => {
    const p = clustered(1500, 12, 2);
    const distances = pairwiseDistances(p);
    for (const m of [5, 10, 25]) {
      const exact = coverageCost(distances, p.count, kMedoids(p, m).order);
      const found = kMedoidsSampled(p, m, [], 500, 7);
      const cost = coverageCost(distances, p.count, found.order);
      assert.ok(cost <= exact * 1.01, `m=${m}: sampled ${cost} against exact ${exact}`);
      assert.ok(
        Math.abs(found.estimate.value - cost) < 1e-5 * cost,
        'C of the chosen set is exact (float32 distances)',
      );
      assert.equal(found.costs.at(-1), found.estimate.value);
    }
  });

  test('labeled images stay in the set and are not chosen again', () => {
    const p = clustered(400, 5, 3);
    const found = kMedoidsSampled(p, 3, [7, 8], 100, 0);
    assert.equal(found.order.length, 3);
    assert.ok(!found.order.includes(7) && !found.order.includes(8));
  });
});

test('the streamed similarity matrix equals the in-memory one', async () => {
  const size = 128;
  E.seed(0);
  const model = new FeatureExtractor({
    inChannels: 1,
    widths: [8, 8, 16, 16, 16],
    embedding: 8,
    norm: 'group',
  }).eval();
  const { images } = generatePhantoms({ n: 4, seed: 5, size, atypicalRate: 0 });
  const pyramids = images.map((p) =>
    E.tidy(() => extractPyramid(model, p.image.to('float32').div(255).reshape([1, 1, size, size]))).map((t) =>
      t.keep(),
    ),
  );
  const keypoints = images.map((p) =>
    proposeKeypoints(p.image, { method: 'sift', maxPoints: 10, minDistance: 6 }),
  );
  keypoints[2] = []; // an image without key points adds no rows
  const copy = (i: number) => Promise.resolve(pyramids[i]!.map((t) => t.clone()));
  const live = await liveTensors();
  const streamed = await streamedSimilarity({
    rowImages: 4,
    candidates: 2,
    rowPyramid: copy,
    candidatePyramid: (j) => copy([1, 3][j]!),
    keypoints,
    inputSize: size,
  });
  assert.equal(await liveTensors(), live, 'no tensor outlives the matrix');
  const full = similarityMatrix({ pyramids, keypoints, inputSize: size, candidates: [1, 3] });
  assert.equal(streamed.rows, full.rows);
  assert.equal(streamed.candidates, 2);
  for (let i = 0; i < full.values.length; i++)
    assert.ok(Math.abs(streamed.values[i]! - full.values[i]!) < 1e-5, `value ${i}`);
  for (const p of pyramids) for (const t of p) t.dispose();
  model.dispose();
});

describe('selectImages on a sampled pool', () => {
  const SIZE = 96;
  let dir = '';
  let files: string[] = [];
  let model: FeatureExtractor;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fewmark-sampled-'));
    await writePhantomDataset({ out: join(dir, 'phantoms'), n: 14, seed: 6, size: SIZE });
    files = await listImages(join(dir, 'phantoms', 'images'));
    E.seed(0);
    const config: ExtractorConfig = {
      inChannels: 1,
      widths: [8, 8, 16, 16, 16],
      embedding: 8,
      norm: 'group',
    };
    model = new FeatureExtractor(config).eval();
    mkdirSync(join(dir, 'model'));
    await saveExtractor(join(dir, 'model', EXTRACTOR_FILE), model, { config, inputSize: SIZE, steps: 0 });
  });

  test('auto is exact for small pools and sampled above the limits; baselines are never sampled', () => {
    assert.equal(resolveScale('auto', 'medoids', 150), 'exact');
    assert.equal(resolveScale('auto', 'medoids', 10_000), 'sampled');
    assert.equal(resolveScale('auto', 'scp', 1000), 'sampled');
    assert.equal(resolveScale('auto', 'scp', 150), 'exact', 'ISBI-sized pools stay exact');
    assert.equal(resolveScale('auto', 'kcenter', 10_000), 'exact');
    assert.throws(() => resolveScale('sampled', 'typiclust', 10), /medoids and the SCP/);
  });

  test('medoids: the sampled search keeps embeddings, not pyramids, and matches exact on the whole pool', async () => {
    const cache = await FeatureCache.open(join(dir, 'cache-m'), join(dir, 'model', EXTRACTOR_FILE));
    const base = { files, budget: 3, model, inputSize: SIZE, cache, strategy: 'medoids' as const };
    const live = await liveTensors();
    const sampled = await selectImages({ ...base, scale: 'sampled', sample: { medoidCandidates: 6 } });
    assert.equal(await liveTensors(), live, 'no tensor outlives the run');
    assert.equal(sampled.scale, 'sampled');
    assert.equal(sampled.ranked.length, 3);
    assert.equal(sampled.estimate?.score, 'C');
    assert.equal(sampled.estimate?.sample, 14, 'C is exact over the pool');
    assert.equal(sampled.estimate?.halfWidth, 0);
    assert.equal(sampled.estimate?.candidates, 6, 'sampled candidates');
    assert.equal(sampled.keypoints.length, 3, 'key points of the chosen images for the report');
    const entries = readdirSync(cache.dir);
    assert.equal(entries.filter((e) => e.endsWith('.embedding-v1.f32')).length, 14);
    assert.equal(entries.filter((e) => e.endsWith('.safetensors')).length, 0, 'no pyramid written');
    // The cached embeddings are what an exact run reads too.
    const exact = await selectImages({ ...base, scale: 'exact' });
    assert.equal(exact.scale, 'exact');
    assert.equal(exact.estimate, null);
  });

  test('scp: R estimated on sampled images over the most central candidates', async () => {
    const sampled = await selectImages({
      files,
      budget: 2,
      model,
      inputSize: SIZE,
      strategy: 'scp',
      scale: 'sampled',
      sample: { scpImages: 5, scpCandidates: 6 },
      keypoints: { method: 'sift', maxPoints: 20 },
    });
    assert.equal(sampled.ranked.length, 2);
    assert.equal(sampled.matrix?.candidates, 6);
    assert.equal(sampled.estimate?.score, 'R');
    assert.equal(sampled.estimate?.sample, 5);
    assert.ok(sampled.R !== null && sampled.R > 0 && sampled.R <= 1);
    assert.equal(sampled.R, sampled.ranked[1]!.score, 'R is the last prefix score');
    assert.ok(sampled.estimate!.halfWidth > 0);
  });
});
