// One-shot template matching on ISBI 2015 (DESIGN.md steps 1-2, issue 4):
// trains the feature extractor on the 150 training images within a CPU
// budget (or reuses --model), then uses each of --templates training images
// in turn as the single annotated template and measures MRE/SDR on the 150
// Test1 images against the mean of the two doctors. Prints a table and
// writes results.json / results.md beside the model.
//
//   node dist/bench/oneshot-isbi.js --train-minutes 60 --out runs/isbi-384
//   node dist/bench/oneshot-isbi.js --model runs/isbi-384          (reuse)
//
// Recipe comparisons must not look at Test1: --steps N --config FILE trains
// a variant for a fixed number of steps, and --eval-on train measures it on
// training images other than the templates (the extractor never sees
// labels, so these are fair targets).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tensor } from '../src/engine/index.js';
import * as E from '../src/engine/index.js';
import { mean, median, populationStd, radialErrorMm, summarize } from '../src/eval/metrics.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { loadTrainingImages } from '../src/features/load.js';
import { FeatureExtractor } from '../src/features/model.js';
import { fromWorkingPoint, toWorkingPoint } from '../src/features/preprocess.js';
import { trainExtractor } from '../src/features/train.js';
import { resolveTrainConfig } from '../src/features/train-config.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { pyramidOf } from '../src/matching/detect.js';
import { describeLandmarks, findPeaks, similarityMaps } from '../src/matching/match.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { Rng } from '../src/util/random.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    out: { type: 'string', default: 'runs/isbi-oneshot' },
    model: { type: 'string' },
    'train-minutes': { type: 'string', default: '60' },
    size: { type: 'string', default: '384' },
    batch: { type: 'string', default: '8' },
    queries: { type: 'string', default: '32' },
    templates: { type: 'string', default: '20' },
    'test-limit': { type: 'string' },
    steps: { type: 'string' },
    config: { type: 'string' },
    'eval-on': { type: 'string', default: 'test1' },
    seed: { type: 'string', default: '0' },
  },
});
const data = resolve(a.data!);
if (!existsSync(data)) {
  console.error(`ISBI 2015 data not found at ${data} (pass --data)`);
  process.exit(1);
}
const size = Number(a.size);
const train = await loadIsbi2015(data, { split: 'train', groundTruth: 'mean' });
const test = await loadIsbi2015(data, { split: 'test1', groundTruth: 'mean' });
if (a['eval-on'] !== 'test1' && a['eval-on'] !== 'train') {
  console.error(`--eval-on must be test1 or train, got ${a['eval-on']}`);
  process.exit(1);
}
const onTrain = a['eval-on'] === 'train';

// ---- 1. the extractor: reuse or train
const modelDir = resolve(a.model ?? a.out!);
let trainSummary = 'reused';
if (!a.model) {
  const overrides = a.config ? JSON.parse(readFileSync(a.config, 'utf8')) : {};
  const config = resolveTrainConfig({
    ...overrides,
    seed: Number(a.seed),
    inputSize: size,
    batchSize: Number(a.batch),
    minutes: a.steps ? null : Number(a['train-minutes']),
    steps: a.steps ? Number(a.steps) : null,
    pairs: { ...overrides.pairs, queriesPerImage: Number(a.queries) },
  });
  process.stderr.write(`loading ${train.images.length} training images at ${size}x${size}...\n`);
  const images = await loadTrainingImages(
    train.images.map((i) => i.file),
    size,
  );
  let last = 0;
  const result = await trainExtractor({
    images,
    out: modelDir,
    config,
    resume: existsSync(join(modelDir, 'checkpoint.safetensors')),
    onStep: (s) => {
      if (s.elapsed - last < 30 && s.step !== s.totalSteps) return;
      last = s.elapsed;
      process.stderr.write(
        `step ${s.step}${s.totalSteps ? `/${s.totalSteps}` : ''} loss ${s.loss.toFixed(3)} [${s.layerLosses.map((l) => l.toFixed(2)).join(' ')}] ` +
          `${s.stepsPerSecond.toFixed(2)} steps/s, ${(s.elapsed / 60).toFixed(1)} min\n`,
      );
    },
  });
  images.dispose();
  // Convolution FLOPs of a step: whole images plus crops, forward and backward (~3x forward).
  const crop = Math.round((size * config.pairs.cropFraction) / 32) * 32;
  const stepFlops =
    3 *
    (FeatureExtractor.convFlops(config.model, config.batchSize, size, size) +
      FeatureExtractor.convFlops(config.model, config.batchSize, crop, crop));
  const gflops = (stepFlops * result.steps) / result.elapsed / 1e9;
  trainSummary = `${result.steps} steps in ${(result.elapsed / 60).toFixed(1)} min (batch ${config.batchSize}, ${size}x${size}, widths ${config.model.widths.join('-')}; convolutions ${gflops.toFixed(0)} GFLOP/s), final loss ${result.finalLoss.toFixed(3)}`;
}
const { model, meta } = await loadExtractor(join(modelDir, EXTRACTOR_FILE));
const cache = await FeatureCache.open(join(modelDir, 'cache'), join(modelDir, EXTRACTOR_FILE));
const detector = { model, inputSize: meta.inputSize, cache };

// ---- 2. templates, targets, and the targets' features (kept in memory)
const rng = new Rng(Number(a.seed) + 1);
const order = rng.permutation(train.images.length).map((i) => train.images[i]!);
const templateIds = order.slice(0, Number(a.templates));
const targets = onTrain ? order.slice(Number(a.templates)) : test.images;
const testImages = a['test-limit'] ? targets.slice(0, Number(a['test-limit'])) : targets;
process.stderr.write(`features of ${testImages.length} test images...\n`);
const t0 = performance.now();
const pyramids: Tensor[][] = [];
for (const img of testImages)
  pyramids.push((await pyramidOf(img.file, detector)).pyramid.map((t) => t.keep()));
const featureSeconds = (performance.now() - t0) / 1000;

interface Row {
  template: string;
  mre: number;
  mreInteger: number;
  sdr: number[];
}
const rows: Row[] = [];
const t1 = performance.now();
for (const tpl of templateIds) {
  const tp = await pyramidOf(tpl.file, detector);
  const work = tpl.landmarks!.map((p) => toWorkingPoint(p, tp.width, tp.height, meta.inputSize));
  const descriptors = describeLandmarks(tp.pyramid, work, meta.inputSize);
  const errors: number[] = [];
  const errorsInteger: number[] = [];
  testImages.forEach((img, i) => {
    E.tidy(() => {
      const maps = similarityMaps(descriptors, pyramids[i]!, meta.inputSize);
      for (const [subpixel, into] of [
        [true, errors],
        [false, errorsInteger],
      ] as const) {
        findPeaks(maps, subpixel).forEach((peak, k) => {
          const p = fromWorkingPoint(peak.point, img.width, img.height, meta.inputSize);
          into.push(radialErrorMm(p, img.landmarks![k]!, ISBI_SPACING_MM));
        });
      }
    });
  });
  for (const t of [...tp.pyramid, ...descriptors]) t.dispose();
  const s = summarize(errors);
  rows.push({
    template: tpl.id,
    mre: s.mre,
    mreInteger: mean(errorsInteger),
    sdr: s.sdr.map((x) => x.percent),
  });
  process.stderr.write(`template ${tpl.id}: MRE ${s.mre.toFixed(3)} mm\n`);
}
const matchSeconds = (performance.now() - t1) / 1000;

// ---- 3. report
const mres = rows.map((r) => r.mre);
const best = rows.reduce((x, y) => (y.mre < x.mre ? y : x));
const worst = rows.reduce((x, y) => (y.mre > x.mre ? y : x));
const lines = [
  `# One-shot template matching, ISBI 2015 ${onTrain ? 'training images (not templates)' : 'Test1'} (${testImages.length} images, mean of two doctors)`,
  '',
  `Extractor: ${trainSummary}; input ${meta.inputSize}x${meta.inputSize}.`,
  `Features: ${featureSeconds.toFixed(1)} s for ${testImages.length} images; matching: ${(matchSeconds / rows.length).toFixed(1)} s per template.`,
  '',
  '| template | MRE mm | MRE, integer peak | SDR 2 mm | 2.5 mm | 3 mm | 4 mm |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.template} | ${r.mre.toFixed(3)} | ${r.mreInteger.toFixed(3)} | ${r.sdr.map((v) => `${v.toFixed(1)}%`).join(' | ')} |`,
  ),
  '',
  `Over ${rows.length} random training templates: MRE ${mean(mres).toFixed(3)} ± ${populationStd(mres).toFixed(3)} mm ` +
    `(median ${median(mres).toFixed(3)}, best ${best.mre.toFixed(3)} [${best.template}], worst ${worst.mre.toFixed(3)} [${worst.template}]); ` +
    `integer peaks: ${mean(rows.map((r) => r.mreInteger)).toFixed(3)} mm.`,
  `SDR (error <= r) averaged over templates: ${[0, 1, 2, 3].map((k) => `${[2, 2.5, 3, 4][k]} mm ${mean(rows.map((r) => r.sdr[k]!)).toFixed(1)}%`).join(', ')}.`,
  'Seed paper (GPU, ImageNet VGG19): 3.595 ± 0.381 mm for a random template.',
];
console.log(lines.join('\n'));
const resultName = onTrain ? 'oneshot-train-results' : 'oneshot-results';
await writeFileAtomic(join(modelDir, `${resultName}.md`), `${lines.join('\n')}\n`);
await writeFileAtomic(
  join(modelDir, `${resultName}.json`),
  JSON.stringify({ trainSummary, meta, rows }, null, 2),
);
