// `fewmark select` end to end on a few phantoms with a tiny untrained
// extractor (the plumbing, not the quality): the three output files and
// their schema, R consistent with the score of the chosen set, baselines
// with and without R, and errors that write nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type SelectOptions, select } from '../../src/cli/commands/select.js';
import * as E from '../../src/engine/index.js';
import { EXTRACTOR_FILE, saveExtractor } from '../../src/features/checkpoint.js';
import { type ExtractorConfig, FeatureExtractor } from '../../src/features/model.js';
import { writePhantomDataset } from '../../src/phantom/dataset.js';
import { greedy, rankSingles, score } from '../../src/selection/search.js';

const SIZE = 128;
const N = 8;
const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

let dir = '';
let images = '';
let model = '';
// The SCP's own tests name it; the default strategy (medoids) has its own below.
const run = (out: string, o: Partial<SelectOptions> = {}) =>
  select({
    images,
    model,
    budget: 3,
    out: join(dir, out),
    maxKeypoints: 30,
    quiet: true,
    strategy: 'scp',
    ...o,
  });
const readJson = (out: string) => JSON.parse(readFileSync(join(dir, out, 'selection.json'), 'utf8'));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fewmark-select-'));
  await writePhantomDataset({ out: join(dir, 'phantoms'), n: N, seed: 4, size: SIZE });
  images = join(dir, 'phantoms', 'images');
  model = join(dir, 'model');
  // Untrained, but with GroupNorm its features already differ between
  // images (an untrained BatchNorm net in eval mode makes every cosine ~1).
  E.seed(0);
  const config: ExtractorConfig = { inChannels: 1, widths: [8, 8, 16, 16, 16], embedding: 8, norm: 'group' };
  const net = new FeatureExtractor(config).eval();
  mkdirSync(model);
  await saveExtractor(join(model, EXTRACTOR_FILE), net, { config, inputSize: SIZE, steps: 0 });
  net.dispose();
});

describe('fewmark select', () => {
  test('scp writes selection.json, selection.csv and report.html; R is the score of the chosen set', async () => {
    const live = E.memory().liveTensors;
    const { selection: s, out } = await run('scp');
    assert.equal(E.memory().liveTensors, live, 'no tensor outlives the run');
    const json = readJson('scp');
    assert.deepEqual(Object.keys(json).slice(0, 5), ['strategy', 'budget', 'model', 'created', 'ranked']);
    assert.equal(json.strategy, 'scp');
    assert.equal(json.budget, 3);
    assert.equal(json.model, model);
    assert.equal(new Date(json.created).toISOString(), json.created);
    assert.deepEqual(
      json.ranked.map((r: { rank: number }) => r.rank),
      [1, 2, 3],
    );
    for (const r of json.ranked) {
      assert.deepEqual(Object.keys(r), ['rank', 'image', 'file', 'score', 'gain']);
      assert.ok(isAbsolute(r.file) && existsSync(r.file));
      assert.ok(existsSync(join(out, 'thumbnails', `${r.image}.png`)));
    }
    assert.equal(new Set(json.ranked.map((r: { image: string }) => r.image)).size, 3);

    // R and the ranking against the SCP matrix the run computed.
    const matrix = s.similarity!;
    assert.equal(matrix.candidates, N);
    const chosen = s.ranked.map((r) => r.index);
    assert.ok(Math.abs(score(matrix, chosen) - json.R) < 1e-9, `R ${json.R} vs ${score(matrix, chosen)}`);
    assert.ok(json.R >= greedy(matrix, 3).score - 1e-9, 'swaps never lose to greedy');
    const gains = json.ranked.map((r: { gain: number }) => r.gain);
    assert.ok(Math.abs(gains.reduce((a: number, b: number) => a + b, 0) - json.R) < 1e-9);
    json.ranked.forEach((r: { score: number }, k: number) => {
      assert.ok(Math.abs(r.score - score(matrix, chosen.slice(0, k + 1))) < 1e-9);
    });
    for (let k = 1; k < 3; k++) assert.ok(gains[k] <= gains[k - 1] + 1e-9, 'greedy order: gains shrink');

    const csv = readFileSync(join(out, 'selection.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'rank,image,score,gain');
    assert.equal(csv.length, 4);
    assert.match(csv[1]!, new RegExp(`^1,${json.ranked[0].image},0\\.\\d+,0\\.\\d+$`));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const r of json.ranked) assert.ok(html.includes(`thumbnails/${r.image}.png`));
    assert.match(html, /<circle /);
    assert.match(html, /similarity<\/td>/);
    for (const phase of ['keypoints', 'features', 'similarity', 'search', 'total'])
      assert.ok(json.timings[phase] >= 0, phase);
    assert.equal(Object.keys(json.keypoints.chosen).length, 3);
  });

  test('--labeled: images annotated already count as chosen; the next ones are picked by their gain over them', async () => {
    const first = (await run('round-1', { budget: 2 })).selection;
    const labels = join(dir, 'round-1-labels.csv');
    // As a user's CSV often writes them: with the file extension.
    writeFileSync(labels, `image,x1,y1\n${first.ranked.map((r) => `${r.image}.png,1,1`).join('\n')}\n`);
    const next = (await run('round-2', { budget: 2, labeled: labels })).selection;
    const before = first.ranked.map((r) => r.index);
    assert.deepEqual(
      next.labeled,
      first.ranked.map((r) => r.image),
    );
    assert.ok(next.ranked.every((r) => !before.includes(r.index)));
    const all = [...before, ...next.ranked.map((r) => r.index)];
    assert.ok(Math.abs(next.R! - score(next.similarity!, all)) < 1e-9);
    assert.ok(
      Math.abs(next.ranked[0]!.score! - score(next.similarity!, [...before, next.ranked[0]!.index])) < 1e-9,
    );
    assert.deepEqual(readJson('round-2').labeled, next.labeled);
    await assert.rejects(
      run('round-x', { budget: 2, labeled: labels, strategy: 'kmeans' }),
      /--labeled works with/,
    );
    await assert.rejects(run('round-y', { budget: N - 1, labeled: labels }), /budget from 1 to 6/);
  });

  test('the default, medoids: deterministic, around labeled images, and the SCP pick for one image', async () => {
    const { selection: s } = await run('medoids', { strategy: undefined });
    const json = readJson('medoids');
    assert.equal(json.strategy, 'medoids');
    assert.equal(json.R, null, 'no SCP matrix is needed');
    assert.equal(s.similarity, null);
    assert.equal(new Set(s.ranked.map((r) => r.index)).size, 3);
    const again = (await run('medoids-again', { strategy: undefined })).selection;
    assert.deepEqual(
      again.ranked.map((r) => r.image),
      s.ranked.map((r) => r.image),
      'no seed: the same pool gives the same list',
    );
    const labels = join(dir, 'medoids-labels.csv');
    writeFileSync(
      labels,
      `image,x1,y1
${s.ranked[0]!.image},1,1
`,
    );
    const next = (await run('medoids-round', { strategy: undefined, budget: 2, labeled: labels })).selection;
    assert.deepEqual(next.labeled, [s.ranked[0]!.image]);
    assert.ok(next.ranked.every((r) => r.index !== s.ranked[0]!.index));
    const one = (await run('medoids-one', { strategy: undefined, budget: 1 })).selection;
    assert.equal(one.strategy, 'medoids');
    assert.equal(one.ranked[0]!.index, rankSingles(one.similarity!)[0]!.candidate, 'one image: the SCP pick');
  });

  test('one image: the best single image, scored exhaustively', async () => {
    const { selection: s } = await run('one', { budget: 1 });
    const best = rankSingles(s.similarity!)[0]!;
    assert.equal(s.ranked[0]!.index, best.candidate);
    assert.ok(Math.abs(s.R! - best.score) < 1e-9);
    assert.equal(s.ranked[0]!.gain, s.ranked[0]!.score);
  });

  test('scp-greedy and scp-random rank their sets too; none beats the optimum, swaps never lose to greedy', async () => {
    const scp = readJson('scp');
    const g = (await run('greedy', { strategy: 'scp-greedy' })).selection;
    const r = (await run('random', { strategy: 'scp-random', randomSets: 30 })).selection;
    assert.equal(readJson('random').randomSetsEvaluated, 30);
    const matrix = g.similarity!;
    let optimum = 0; // all 56 sets of 3 of the 8 images
    for (let a = 0; a < N; a++)
      for (let b = a + 1; b < N; b++)
        for (let c = b + 1; c < N; c++) optimum = Math.max(optimum, score(matrix, [a, b, c]));
    for (const s of [g, r]) {
      assert.equal(s.ranked.length, 3);
      assert.ok(
        Math.abs(
          s.R! -
            score(
              matrix,
              s.ranked.map((x) => x.index),
            ),
        ) < 1e-9,
      );
      assert.ok(s.R! <= optimum + 1e-9);
    }
    assert.ok(g.R! <= scp.R + 1e-9);
    assert.ok(scp.R <= optimum + 1e-9 && scp.R >= (1 - 1 / Math.E) * optimum);
  });

  test('baselines: score and gain are null without --score, R of their picks with it', async () => {
    for (const strategy of ['random', 'kcenter', 'typiclust', 'kmeans']) {
      const { selection: s } = await run(`b-${strategy}`, { strategy });
      const json = readJson(`b-${strategy}`);
      assert.equal(json.strategy, strategy);
      assert.equal(json.R, null);
      assert.equal(s.similarity, null);
      assert.equal(new Set(s.ranked.map((x) => x.index)).size, 3);
      for (const r of json.ranked) assert.ok(r.score === null && r.gain === null);
      assert.match(readFileSync(join(dir, `b-${strategy}`, 'selection.csv'), 'utf8'), /\n1,phantom-\d+,,\n/);
    }
    const { selection: scored } = await run('b-scored', { strategy: 'kcenter', score: true });
    const unscored = readJson('b-kcenter');
    assert.deepEqual(
      scored.ranked.map((r) => r.image),
      unscored.ranked.map((r: { image: string }) => r.image),
      '--score does not change the picks',
    );
    assert.ok(
      Math.abs(
        scored.R! -
          score(
            scored.similarity!,
            scored.ranked.map((r) => r.index),
          ),
      ) < 1e-9,
    );
  });

  test('the similarity matrix is cached per pool, model and options, and read back unchanged', async () => {
    const first = (await run('cache-a', { maxKeypoints: 25 })).selection;
    assert.equal(first.matrix!.cached, false);
    const again = (await run('cache-b', { maxKeypoints: 25, budget: 2 })).selection;
    assert.equal(again.matrix!.cached, true, 'another budget on the same pool reuses the matrix');
    assert.deepEqual(again.similarity!.values, first.similarity!.values);
    assert.deepEqual(again.ranked[0]!.image, first.ranked[0]!.image);
    for (const other of [{ gridStride: 4 }, { maxKeypoints: 20 }, { direction: 'template-in-image' }]) {
      const s = (await run('cache-c', { maxKeypoints: 25, ...other })).selection;
      assert.equal(s.matrix!.cached, false, `a new matrix for ${JSON.stringify(other)}`);
    }
  });

  test('errors name the flag or path and write nothing', async () => {
    const fewmark = (...args: string[]) =>
      spawnSync(process.execPath, [main, 'select', ...args], { encoding: 'utf8' });
    const out = join(dir, 'never');
    const base = ['--images', images, '--model', model, '--out', out];
    let r = fewmark(...base, '--budget', String(N + 1));
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /fewmark: Expected a budget from 1 to 8 \(the images in .*\) for --budget but received 9/,
    );
    r = fewmark(...base, '--budget', '2', '--strategy', 'best');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Expected one of medoids, scp, scp-greedy, .* for --strategy but received 'best'/);
    r = fewmark(...base, '--budget', '2', '--strategy', 'kcenter', '--scale', 'sampled');
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /--scale sampled: the sampled search works with medoids and the SCP strategies, not 'kcenter'/,
    );
    r = fewmark(...base, '--budget', '2', '--scale', 'huge');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Expected one of auto, exact, sampled for --scale but received 'huge'/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    r = fewmark('--images', empty, '--model', model, '--out', out, '--budget', '1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`fewmark: ${empty}: no image files`));
    r = fewmark('--images', images, '--model', join(dir, 'nomodel'), '--out', out, '--budget', '1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nomodel: no trained extractor/);
    assert.ok(!existsSync(out));
    await assert.rejects(run('never', { budget: 0 }), /for --budget but received 0/);
    await assert.rejects(run('never', { contrastThreshold: 100 }), /no sift key points in any image/);
    assert.ok(!existsSync(out));
  });
});
