// First check of the representativeness score on ISBI 2015 (issue 5,
// early): for templates whose one-shot Test1 MRE bench/oneshot-isbi.ts has
// measured, compute R({j}) over the 150 training images in both directions
// and report its correlation with the MRE (the paper reports -0.675).
//
//   node dist/bench/scp-correlation.js --model runs/isbi-384 [--keypoints 100] [--grid-stride 4]
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tensor } from '../src/engine/index.js';
import * as E from '../src/engine/index.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { loadWorkingImage } from '../src/features/load.js';
import { loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { proposeKeypoints } from '../src/keypoints/propose.js';
import { pyramidOf } from '../src/matching/detect.js';
import { rankSingles } from '../src/selection/search.js';
import { type Direction, similarityMatrix } from '../src/selection/similarity.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string', default: 'runs/isbi-384' },
    keypoints: { type: 'string', default: '100' },
    'grid-stride': { type: 'string', default: '4' },
  },
});
const modelDir = resolve(a.model!);
const results = JSON.parse(await readFile(join(modelDir, 'oneshot-results.json'), 'utf8')) as {
  rows: { template: string; mre: number }[];
};
const train = await loadIsbi2015(resolve(a.data!), { split: 'train', groundTruth: 'mean' });
const { model, meta } = await loadExtractor(join(modelDir, EXTRACTOR_FILE));
const cache = await FeatureCache.open(join(modelDir, 'cache'), join(modelDir, EXTRACTOR_FILE));
const S = meta.inputSize;

const t0 = performance.now();
const pyramids: Tensor[][] = [];
const keypoints: { x: number; y: number }[][] = [];
for (const img of train.images) {
  pyramids.push((await pyramidOf(img.file, { model, inputSize: S, cache })).pyramid.map((t) => t.keep()));
  const w = await loadWorkingImage(img.file, S);
  const grey = E.tidy(() => w.input.reshape([S, S]).mul(255).to('uint8'));
  keypoints.push(proposeKeypoints(grey, { method: 'sift', maxPoints: Number(a.keypoints) }));
  grey.dispose();
  w.input.dispose();
}
const prepSeconds = (performance.now() - t0) / 1000;
const ids = results.rows.map((r) => r.template);
const candidates = ids.map((id) => train.images.findIndex((i) => i.id === id));

const pearson = (x: number[], y: number[]) => {
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((v, i) => {
    sxy += (v - mx) * (y[i]! - my);
    sxx += (v - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
};
const ranks = (v: number[]) => {
  const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(v.length);
  order.forEach(([, i], k) => {
    r[i] = k;
  });
  return r;
};

console.log(`SCP score vs one-shot Test1 MRE, ${ids.length} templates, 150 training images as the pool`);
console.log(
  `features + SIFT (${a.keypoints} max per image): ${prepSeconds.toFixed(1)} s; grid stride ${a['grid-stride']}\n`,
);
console.log('| direction | seconds | Pearson r | Spearman ρ | pick | its MRE | mean MRE | rank of pick |');
console.log('|---|---:|---:|---:|---|---:|---:|---:|');
const mres = results.rows.map((r) => r.mre);
for (const direction of ['image-in-template', 'template-in-image'] as Direction[]) {
  const t1 = performance.now();
  const matrix = similarityMatrix({
    pyramids,
    keypoints,
    inputSize: S,
    gridStride: Number(a['grid-stride']),
    direction,
    candidates,
  });
  const seconds = (performance.now() - t1) / 1000;
  const singles = rankSingles(matrix);
  const scoreOf = new Array<number>(ids.length);
  for (const s of singles) scoreOf[s.candidate] = s.score;
  const pick = singles[0]!.candidate;
  const rank = [...mres].sort((x, y) => x - y).indexOf(mres[pick]!) + 1;
  console.log(
    `| ${direction} | ${seconds.toFixed(1)} | ${pearson(scoreOf, mres).toFixed(3)} | ${pearson(ranks(scoreOf), ranks(mres)).toFixed(3)} | ${ids[pick]} | ${mres[pick]!.toFixed(3)} | ${(mres.reduce((x, y) => x + y, 0) / mres.length).toFixed(3)} | ${rank} of ${ids.length} |`,
  );
}
