// The label-count curve (issue 13): for M labeled ISBI training images chosen
// by selection (the default strategy; all 150 for the fully supervised
// ceiling) and, at some M, random draws of M, `fewmark refine` with its
// defaults, then on the targets: template matching from the M labels, the
// refined first stage alone, and first + fine stage (the table gives each
// refined model's self-training cycles, read from its folders). Each stage's
// predictions are kept on disk, so a stopped run resumes where it was; the
// report is rebuilt from them (MRE ± std, median, SDR 2 / 2.5 / 3 / 4 mm,
// per landmark, training minutes; mean-of-doctors and senior ground truth).
//
//   node dist/bench/label-curve.js --model runs/isbi-384w [--labels 1,5,10,25,50,150]
//     [--draws 3 --draws-at 5,25] [--targets test1|train] [--out runs/label-curve]
//
// --targets train measures on the training images that were not labeled
// (the validation protocol, where options are chosen); test1 on ISBI Test1.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { detect, refine, STRATEGIES, type Strategy, select } from '../src/api/index.js';
import { mean, median, populationStd, radialErrorMm, summarize } from '../src/eval/metrics.js';
import { labelCurve } from '../src/eval/plots.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { writeAnnotations } from '../src/io/formats/index.js';
import type { Dataset, ImageRecord, Point } from '../src/io/types.js';
import type { Detection } from '../src/matching/detect.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { stage } from './stage.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string' },
    out: { type: 'string', default: 'runs/label-curve' },
    labels: { type: 'string', default: '1,5,10,25,50,150' },
    draws: { type: 'string', default: '3' },
    'draws-at': { type: 'string', default: '5,25' },
    targets: { type: 'string', default: 'test1' },
    /** Further arms, e.g. kmeans@5,typiclust@25: a baseline's choice at that M. */
    also: { type: 'string', default: '' },
    /** The chosen labels at these M trained again with another seed (e.g. 5,25): how much training alone moves the result. */
    'retrain-at': { type: 'string', default: '' },
    'retrain-seed': { type: 'string', default: '1' },
    /** Skip template matching above this many labels (its cost grows with the templates). */
    'matching-max': { type: 'string', default: '150' },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
if (a.targets !== 'test1' && a.targets !== 'train') throw new Error('--targets is test1 or train');
const data = resolve(a.data!);
const out = resolve(a.out!);
const trainFolder = join(data, 'RawImage', 'TrainingData');
const load = (split: 'train' | 'test1', groundTruth: 'mean' | 'senior') =>
  loadIsbi2015(data, { split, groundTruth });
const train = await load('train', 'mean');
const targetSplit = a.targets === 'train' ? 'train' : 'test1';
const truths = { mean: await load(targetSplit, 'mean'), senior: await load(targetSplit, 'senior') };

/** Predictions as kept on disk: image id -> points (null for missing). */
type Predictions = Record<string, ([number, number] | null)[]>;
const asPredictions = (detections: Detection[]): Predictions =>
  Object.fromEntries(
    detections.map((d) => [d.id, d.points.map((p) => (Number.isFinite(p.x) ? [p.x, p.y] : null))]),
  );

/** Per landmark, the radial errors (mm) over the target images the predictions cover. */
function errorsByLandmark(pred: Predictions, truth: Dataset): number[][] {
  const l = truth.landmarkNames.length;
  const rows: number[][] = Array.from({ length: l }, () => []);
  for (const im of truth.images) {
    const p = pred[im.id];
    if (!p) continue;
    p.forEach((q, k) => {
      const point: Point = q ? { x: q[0], y: q[1] } : { x: Number.NaN, y: Number.NaN };
      rows[k]!.push(radialErrorMm(point, im.landmarks![k]!, ISBI_SPACING_MM));
    });
  }
  return rows;
}

interface Arm {
  m: number;
  name: string;
  strategy: Strategy | 'all';
  seed: number;
  /** Refinement's random seed (default 0); another one keeps the labels and changes only the training. */
  trainSeed?: number;
}
const arms: Arm[] = [];
const drawsAt = new Set(a['draws-at']!.split(',').map(Number));
for (const m of a.labels!.split(',').map(Number)) {
  if (m >= train.images.length) arms.push({ m, name: 'all labels', strategy: 'all', seed: 0 });
  else arms.push({ m, name: 'chosen (medoids)', strategy: 'medoids', seed: 0 });
  if (drawsAt.has(m) && m < train.images.length)
    for (let k = 1; k <= Number(a.draws); k++)
      arms.push({ m, name: `random draw ${k}`, strategy: 'random', seed: k });
}

for (const spec of a.also!.split(',').filter(Boolean)) {
  const [strategy, m] = spec.split('@');
  if (!strategy || !m || !STRATEGIES.includes(strategy as Strategy))
    throw new Error(`--also: expected STRATEGY@M with a strategy of ${STRATEGIES.join(', ')}, got '${spec}'`);
  arms.push({ m: Number(m), name: `baseline (${strategy})`, strategy: strategy as Strategy, seed: 0 });
}
const retrainSeed = Number(a['retrain-seed']);
if (!Number.isInteger(retrainSeed) || retrainSeed < 1)
  throw new Error(`--retrain-seed: expected a positive integer, got '${a['retrain-seed']}'`);
for (const m of a['retrain-at']!.split(',').filter(Boolean).map(Number))
  arms.push({
    m,
    name: `chosen (medoids), training seed ${retrainSeed}`,
    strategy: 'medoids',
    seed: 0,
    trainSeed: retrainSeed,
  });
arms.sort((x, y) => x.m - y.m);

interface ArmResult {
  arm: Arm;
  templates: string[];
  stages: Record<string, Predictions | null>;
  minutes: { total: number; fine: number };
  /** Self-training cycles of the refined model (its cycle-K folders plus the last, in the folder itself). */
  cycles: number;
}
const cyclesOf = (refined: string) => {
  let c = 1;
  while (existsSync(join(refined, `cycle-${c}`))) c++;
  return c;
};
const results: ArmResult[] = [];
for (const arm of arms) {
  const trainTag = arm.trainSeed === undefined ? '' : `-train${arm.trainSeed}`;
  const dir = join(out, `labels-${arm.m}`, `${arm.strategy}-${arm.seed}${trainTag}`);
  await mkdir(dir, { recursive: true });
  process.stderr.write(`\n== ${arm.m} labels: ${arm.name}\n`);
  const picked = await stage(join(dir, 'picked.json'), async () => {
    if (arm.strategy === 'all') return train.images.map((i) => i.id);
    const r = await select({
      images: trainFolder,
      model: a.model!,
      budget: arm.m,
      strategy: arm.strategy,
      seed: arm.seed,
    });
    return r.ranked.map((x) => x.image);
  });
  const chosen = picked.map((id) => train.images.find((i) => i.id === id)!);
  const templates = join(dir, 'templates.csv');
  await writeAnnotations(templates, {
    names: train.landmarkNames,
    images: chosen.map((i) => ({ image: i.id, points: i.landmarks!, width: i.width, height: i.height })),
  });
  const targets: ImageRecord[] = truths.mean.images.filter((i) => !picked.includes(i.id));
  if (targets.length === 0) {
    process.stderr.write('no target images left (every training image is labeled): skipped\n');
    continue;
  }
  const targetFiles = targets.map((i) => i.file);
  const tag = a.targets;
  const matching =
    arm.m > Number(a['matching-max']) || arm.trainSeed !== undefined // a training seed does not change matching
      ? null
      : await stage(
          join(dir, `matching-${tag}.json`),
          async () => {
            const labels = {
              names: train.landmarkNames,
              images: chosen.map((i) => ({ image: i.id, points: i.landmarks! })),
            };
            const images = [...new Set([...chosen.map((i) => i.file), ...targetFiles])];
            return asPredictions(await detect({ model: a.model!, templates: labels, images }));
          },
          0,
        );
  const refinedDir = join(dir, 'refined');
  const trained = await stage(join(dir, 'refine.json'), async () => {
    const r = await refine({
      model: a.model!,
      templates,
      images: trainFolder,
      out: refinedDir,
      resume: existsSync(refinedDir), // a stopped run continues
      ...(arm.trainSeed === undefined ? {} : { config: { seed: arm.trainSeed } }),
    });
    return { total: r.totalElapsed / 60, fine: (r.fine?.elapsed ?? 0) / 60 };
  });
  const stage1 = await stage(
    join(dir, `stage1-${tag}.json`),
    async () => asPredictions(await detect({ model: refinedDir, images: targetFiles, fine: false })),
    0,
  );
  const both = await stage(
    join(dir, `stage12-${tag}.json`),
    async () => asPredictions(await detect({ model: refinedDir, images: targetFiles })),
    0,
  );
  for (const [name, p] of [
    ['matching', matching],
    ['stage 1', stage1],
    ['stage 1+2', both],
  ] as const)
    if (p) {
      const s = summarize(errorsByLandmark(p, truths.mean).flat());
      process.stderr.write(
        `${name}: MRE ${s.mre.toFixed(3)} mm, SDR 2 mm ${s.sdr[0]!.percent.toFixed(1)}%\n`,
      );
    }
  results.push({
    arm,
    templates: picked,
    stages: { 'template matching': matching, 'stage 1': stage1, 'stage 1+2': both },
    minutes: trained,
    cycles: cyclesOf(refinedDir),
  });
}

results.sort((x, y) => x.arm.m - y.arm.m);
const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const lines = [
  `# Label-count curve: ISBI 2015 ${a.targets === 'train' ? 'training images not labeled (validation)' : 'Test1 (150 images)'}, \`fewmark refine\` defaults; extractor ${a.model}`,
  '',
];
for (const gt of ['mean', 'senior'] as const) {
  lines.push(
    `## ${gt === 'mean' ? 'Mean of the two doctors' : "Senior doctor's ground truth (the 2015 challenge's)"}`,
    '',
    '| labels | labels from | method | MRE mm | ± std | median | SDR 2 mm | 2.5 mm | 3 mm | 4 mm | training min | cycles |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results)
    for (const [method, p] of Object.entries(r.stages)) {
      if (!p) continue;
      const s = summarize(errorsByLandmark(p, truths[gt]).flat());
      const minutes =
        method === 'stage 1'
          ? fmt(r.minutes.total - r.minutes.fine, 1)
          : method === 'stage 1+2'
            ? fmt(r.minutes.total, 1)
            : '';
      lines.push(
        `| ${r.arm.m} | ${r.arm.name} | ${method} | ${fmt(s.mre)} | ${fmt(s.std, 2)} | ${fmt(s.median, 2)} | ${s.sdr.map((x) => `${x.percent.toFixed(1)}%`).join(' | ')} | ${minutes} | ${method === 'template matching' ? '' : r.cycles} |`,
      );
    }
  // Random draws: mean ± std of the MRE per M and method.
  const ms = [...new Set(results.map((r) => r.arm.m))];
  for (const m of ms) {
    const draws = results.filter((r) => r.arm.m === m && r.arm.strategy === 'random');
    if (draws.length < 2) continue;
    for (const method of ['template matching', 'stage 1', 'stage 1+2']) {
      const v = draws
        .map((r) => r.stages[method])
        .filter((p): p is Predictions => !!p)
        .map((p) => summarize(errorsByLandmark(p, truths[gt]).flat()).mre);
      if (v.length)
        lines.push(
          `| ${m} | random draws: mean ± std | ${method} | ${fmt(mean(v))} | ± ${fmt(populationStd(v))} | | | | | | | |`,
        );
    }
  }
  lines.push('');
}
lines.push('## Per landmark (mean of the doctors; MRE mm, stage 1+2)', '');
lines.push(`| landmark | ${results.map((r) => `${r.arm.m} ${r.arm.name}`).join(' | ')} |`);
lines.push(`|---|${results.map(() => '---:').join('|')}|`);
truths.mean.landmarkNames.forEach((name, k) => {
  const cells = results.map((r) => {
    const p = r.stages['stage 1+2'];
    const e = p ? errorsByLandmark(p, truths.mean)[k]!.filter(Number.isFinite) : [];
    return `${fmt(mean(e), 2)} (med ${fmt(median(e), 2)})`;
  });
  lines.push(`| ${name} | ${cells.join(' | ')} |`);
});
lines.push('', 'Labeled images:', '');
for (const r of results)
  lines.push(`- ${r.arm.m}, ${r.arm.name}: ${r.arm.strategy === 'all' ? 'all' : r.templates.join(', ')}`);
lines.push(
  '',
  `Figure: results-${a.targets}.svg (lines: labels chosen by selection; crosses: random draws; diamonds: baselines).`,
);
const report = lines.join('\n');
console.log(report);
await writeFileAtomic(join(out, `results-${a.targets}.md`), `${report}\n`);
await labelCurve(
  join(out, `results-${a.targets}.svg`),
  `MRE against labels, ISBI ${a.targets === 'train' ? 'validation' : 'Test1'} (mean of the doctors)`,
  results
    .filter((r) => r.arm.trainSeed === undefined) // the table has them; one line per strategy in the figure
    .flatMap((r) =>
      Object.entries(r.stages).flatMap(([method, p]) =>
        p
          ? [
              {
                labels: r.arm.m,
                mre: summarize(errorsByLandmark(p, truths.mean).flat()).mre,
                method,
                from:
                  r.arm.strategy === 'random'
                    ? ('random draw' as const)
                    : r.arm.strategy === 'medoids' || r.arm.strategy === 'all'
                      ? ('selection' as const)
                      : ('baseline' as const),
              },
            ]
          : [],
      ),
    ),
);
