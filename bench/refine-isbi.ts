// Refinement on ISBI 2015, like the seed paper's Table 2 (issue 6): for each
// label budget M, `fewmark select` picks M training images, their ground
// truth (mean of the two doctors) stands in for the annotation, and Test1
// MRE/SDR is measured for template matching alone and for the refinement
// network trained on template matching's pseudo-labels of the other
// training images. Every stage is kept on disk, so a stopped run resumes.
//
//   node dist/bench/refine-isbi.js --model runs/isbi-384w --config bench/configs/refine-isbi.json --out runs/refine-isbi
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { refine, type Strategy, select } from '../src/api/index.js';
import { extractorFile } from '../src/api/models.js';
import { radialErrorMm, summarize } from '../src/eval/metrics.js';
import { FeatureCache } from '../src/features/cache.js';
import { loadExtractor } from '../src/features/checkpoint.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { readAnnotations, writeAnnotations } from '../src/io/formats/index.js';
import type { Dataset, Point } from '../src/io/types.js';
import { type Detection, TemplateMatcher } from '../src/matching/detect.js';
import { RefinedDetector } from '../src/refine/infer.js';
import { roundFolder } from '../src/refine/rounds.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { stage } from './stage.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string' },
    out: { type: 'string', default: 'runs/refine-isbi' },
    labels: { type: 'string', default: '1,5,10' },
    strategy: { type: 'string', default: 'scp' },
    steps: { type: 'string' },
    minutes: { type: 'string' },
    config: { type: 'string' },
    'test-limit': { type: 'string' },
  },
});
const data = resolve(a.data!);
if (!existsSync(data)) {
  console.error(`ISBI 2015 data not found at ${data} (pass --data)`);
  process.exit(1);
}
if (!a.model) {
  console.error('--model MODEL is needed (a trained extractor, e.g. from bench/oneshot-isbi)');
  process.exit(1);
}
const budgets = a.labels!.split(',').map(Number);
if (budgets.some((m) => !Number.isInteger(m) || m < 1)) {
  console.error(`--labels must be positive integers separated by commas, got '${a.labels}'`);
  process.exit(1);
}
const out = resolve(a.out!);
const train = await loadIsbi2015(data, { split: 'train', groundTruth: 'mean' });
const test = await loadIsbi2015(data, { split: 'test1', groundTruth: 'mean' });
const targets = a['test-limit'] ? test.images.slice(0, Number(a['test-limit'])) : test.images;
const trainFolder = join(data, 'RawImage', 'TrainingData');

interface Stage {
  mre: number;
  std: number;
  sdr: number[];
  seconds: number;
}
interface Row {
  labels: number;
  templates: string[];
  pseudo: Stage;
  matching: Stage;
  refined: Stage & { steps: number; trainSeconds: number };
  /** The same network searching the whole image (no plausible regions). */
  anywhere: Stage;
  /** The refined network on the pseudo-labeled training images. */
  onTrain: Stage;
  /** Self-training: every round's network on Test1 and on the pseudo-labeled training images. */
  rounds: { round: number; test1: Stage; train: Stage }[];
}

/** Errors (mm) of detections against the dataset's ground truth. */
function score(detections: Detection[], set: Dataset, seconds: number): Stage {
  const byId = new Map(set.images.map((i) => [i.id, i]));
  const errors = detections.flatMap((d) =>
    d.points.map((p: Point, k) => radialErrorMm(p, byId.get(d.id)!.landmarks![k]!, ISBI_SPACING_MM)),
  );
  const s = summarize(errors);
  return { mre: s.mre, std: s.std, sdr: s.sdr.map((x) => x.percent), seconds };
}

const rows: Row[] = [];
for (const m of budgets) {
  const dir = join(out, `labels-${m}`);
  await mkdir(dir, { recursive: true });
  process.stderr.write(`\n== ${m} label(s)\n`);

  // 1. which images to label
  const picked = await stage(join(dir, 'picked.json'), async () => {
    const r = await select({
      images: trainFolder,
      model: a.model!,
      budget: m,
      strategy: a.strategy as Strategy,
    });
    return r.ranked.map((x) => x.image);
  });
  const templatesFile = join(dir, 'templates.csv');
  const chosen = picked.map((id) => train.images.find((i) => i.id === id)!);
  await writeAnnotations(templatesFile, {
    names: train.landmarkNames,
    images: chosen.map((i) => ({ image: i.id, points: i.landmarks!, width: i.width, height: i.height })),
  });

  // 2. template matching alone on Test1
  const matching = await stage(join(dir, 'matching-test1.json'), async () => {
    const modelFile = extractorFile(a.model!);
    const { model, meta } = await loadExtractor(modelFile);
    const cache = await FeatureCache.open(join(resolve(a.model!), 'cache'), modelFile);
    const matcher = await TemplateMatcher.create(
      chosen.map((i) => ({ id: i.id, file: i.file, points: i.landmarks! })),
      { model, inputSize: meta.inputSize, cache },
    );
    const t0 = performance.now();
    const found: Detection[] = [];
    for (const img of targets) found.push(await matcher.detect(img.id, img.file));
    matcher.dispose();
    model.dispose();
    return score(found, test, (performance.now() - t0) / 1000);
  });
  process.stderr.write(`template matching, Test1: MRE ${matching.mre.toFixed(3)} mm\n`);

  // 3. refinement on the pseudo-labels of the other training images
  const refinedDir = join(dir, 'refined');
  const trained = await stage(join(dir, 'refine.json'), async () => {
    const r = await refine({
      model: a.model!,
      templates: templatesFile,
      images: trainFolder,
      out: refinedDir,
      steps: a.steps ? Number(a.steps) : undefined,
      minutes: a.minutes ? Number(a.minutes) : undefined,
      config: a.config ? JSON.parse(await readFile(a.config, 'utf8')) : undefined,
      resume: existsSync(refinedDir),
    });
    return { steps: r.steps, seconds: r.totalElapsed, pseudoFile: r.pseudoFile, rounds: r.rounds };
  });
  const pseudo = await stage(join(dir, 'pseudo-train.json'), async () => {
    const p = await readAnnotations(trained.pseudoFile);
    const found = p.images.map((i) => ({ id: i.image, points: i.points }) as Detection);
    return score(found, train, 0);
  });
  const refinedOn = async (useRegions: boolean, set: Dataset, images: typeof targets, from = refinedDir) => {
    const detector = await RefinedDetector.load(from);
    detector.useRegions = useRegions;
    const t0 = performance.now();
    const found: Detection[] = [];
    for (const img of images) found.push(await detector.detect(img.id, img.file));
    return score(found, set, (performance.now() - t0) / 1000);
  };
  const refinedScore = await stage(join(dir, 'refined-test1.json'), () => refinedOn(true, test, targets));
  const anywhere = await stage(join(dir, 'refined-anywhere-test1.json'), () =>
    refinedOn(false, test, targets),
  );
  // The pseudo-labeled training images themselves (their labels were never
  // used): where options such as the number of steps are chosen, not Test1.
  const unlabeled = train.images.filter((i) => !picked.includes(i.id));
  const onTrain = await stage(join(dir, 'refined-train.json'), () => refinedOn(true, train, unlabeled));
  const rounds: Row['rounds'] = [];
  for (let k = 1; k < trained.rounds; k++) {
    const from = roundFolder(refinedDir, k, trained.rounds);
    rounds.push({
      round: k,
      test1: await stage(join(dir, `round-${k}-test1.json`), () => refinedOn(true, test, targets, from)),
      train: await stage(join(dir, `round-${k}-train.json`), () => refinedOn(true, train, unlabeled, from)),
    });
  }
  rounds.push({ round: trained.rounds, test1: refinedScore, train: onTrain });
  process.stderr.write(
    `pseudo-labels (train): ${pseudo.mre.toFixed(3)} mm; refined, Test1: ${refinedScore.mre.toFixed(3)} mm\n`,
  );
  rows.push({
    labels: m,
    templates: picked,
    pseudo,
    matching,
    refined: { ...refinedScore, steps: trained.steps, trainSeconds: trained.seconds },
    anywhere,
    onTrain,
    rounds,
  });
}

// ---- report
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
const sdrCells = (s: Stage) => s.sdr.map((x) => `${x.toFixed(1)}%`).join(' | ');
const lines = [
  `# Refinement on ISBI 2015 Test1 (${targets.length} images, mean-of-doctors ground truth)`,
  '',
  `Extractor: ${a.model}; selection: ${a.strategy}; refinement: ${a.minutes ? `${a.minutes} min` : a.steps ? `${a.steps} steps a round` : 'default steps'}${a.config ? `, config ${a.config}` : ''}.`,
  '',
  '| labels | method | MRE mm | SDR 2 mm | 2.5 mm | 3 mm | 4 mm | change |',
  '|---:|---|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const change = (100 * (r.refined.mre - r.matching.mre)) / r.matching.mre;
  lines.push(
    `| ${r.labels} | template matching | ${r.matching.mre.toFixed(3)} ± ${r.matching.std.toFixed(2)} | ${sdrCells(r.matching)} | |`,
    `| ${r.labels} | refined (${r.rounds.length} x ${r.refined.steps} steps, ${(r.refined.trainSeconds / 60).toFixed(1)} min) | ${r.refined.mre.toFixed(3)} ± ${r.refined.std.toFixed(2)} | ${sdrCells(r.refined)} | ${signed(change)} |`,
    `| ${r.labels} | refined, whole image searched | ${r.anywhere.mre.toFixed(3)} ± ${r.anywhere.std.toFixed(2)} | ${sdrCells(r.anywhere)} | ${signed((100 * (r.anywhere.mre - r.matching.mre)) / r.matching.mre)} |`,
  );
}
lines.push(
  '',
  'Templates, and validation on the other training images (template matching = the pseudo-labels):',
  '',
);
for (const r of rows)
  lines.push(
    `- ${r.labels}: ${r.templates.join(', ')}; pseudo-labels MRE ${r.pseudo.mre.toFixed(3)} mm, refined on the same images ${r.onTrain.mre.toFixed(3)} mm`,
  );
lines.push('', 'Self-training rounds (Test1 / the pseudo-labeled training images, MRE mm):', '');
for (const r of rows)
  lines.push(
    `- ${r.labels}: ${r.rounds.map((x) => `round ${x.round} ${x.test1.mre.toFixed(3)} / ${x.train.mre.toFixed(3)}`).join('; ')}`,
  );
lines.push(
  '',
  'refined: each landmark is looked for inside its plausible region (the box of the training labels, 2%-98% quantiles, plus 8% of the working size); "whole image searched": the same network without it.',
  '',
  'Seed paper (Table 2): 2.74 mm (1 label), 2.33 (5), 2.24 (10).',
);
const report = lines.join('\n');
console.log(report);
await writeFileAtomic(join(out, 'results.md'), `${report}\n`);
await writeFileAtomic(join(out, 'results.json'), JSON.stringify(rows, null, 1));
