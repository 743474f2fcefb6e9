// `fewmark demo` (npm run demo): the main job end to end on built-in
// phantoms, in a few minutes: make phantoms, train the feature extractor,
// choose which images to annotate (fewmark select's default), annotate them (their phantom
// ground truth stands in for a person), detect on the rest, evaluate, and
// write a report. Ten random choices of as many templates are detected and
// evaluated the same way, and the report says where the chosen set ranks among
// them, plainly also when it did not help.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { landmarkBars } from '../../eval/plots.js';
import type { EvaluationResult } from '../../eval/report.js';
import { readAnnotations, writeAnnotations } from '../../io/formats/index.js';
import type { Annotations } from '../../io/types.js';
import { phantomSpacing } from '../../phantom/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { Rng } from '../../util/random.js';
import { detect } from './detect.js';
import { evaluate } from './evaluate.js';
import { phantom } from './phantom.js';
import { select } from './select.js';
import { train } from './train.js';

export interface DemoOptions {
  out: string;
  images?: number;
  size?: number;
  minutes?: number;
  budget?: number;
  seed?: number;
}

/** How many random template sets the chosen set is compared with. */
const RANDOM_SETS = 10;

export interface DemoResult {
  out: string;
  templates: string[];
  evaluation: EvaluationResult;
  /** Random template sets of the same size, each detected and evaluated like the chosen one. */
  randomSets: { templates: string[]; evaluation: EvaluationResult }[];
  /** The chosen set against the random ones, in one sentence. */
  verdict: string;
  seconds: number;
}

/** Where the chosen set's MRE stands among the random sets': rank 1 is the best of all. */
export function compareWithRandom(chosen: number, random: number[]) {
  const mean = random.reduce((a, b) => a + b, 0) / random.length;
  const std = Math.sqrt(random.reduce((a, b) => a + (b - mean) ** 2, 0) / random.length);
  const rank = 1 + random.filter((m) => m < chosen).length;
  const change = ((chosen - mean) / mean) * 100;
  const of = `rank ${rank} of ${random.length + 1} (random sets: ${mean.toFixed(3)} ± ${std.toFixed(3)} mm)`;
  const verdict =
    chosen < mean
      ? `The chosen set helped: MRE ${chosen.toFixed(3)} mm, ${(-change).toFixed(1)}% below the mean of ${random.length} random sets, ${of}`
      : `The chosen set did not help here: MRE ${chosen.toFixed(3)} mm, ${change.toFixed(1)}% above the mean of ${random.length} random sets, ${of}`;
  return { mean, std, rank, verdict };
}

/** Detects from `chosen` (their ground truth as the annotation) and evaluates on every other phantom. */
async function detectAndEvaluate(
  truth: Annotations,
  chosen: string[],
  dir: string,
  model: string,
  images: string,
  spacing: number,
): Promise<EvaluationResult> {
  const templates = join(dir, 'templates.csv');
  await writeAnnotations(templates, {
    names: truth.names,
    images: truth.images.filter((img) => chosen.includes(img.image)),
  });
  const predictions = join(dir, 'predictions.csv');
  await detect({ model, templates, images, out: predictions });
  const targets = join(dir, 'ground-truth.csv');
  await writeAnnotations(targets, {
    names: truth.names,
    images: truth.images.filter((img) => !chosen.includes(img.image)),
  });
  return evaluate({ pred: predictions, gt: targets, out: join(dir, 'evaluation'), spacing });
}

export async function demo(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const out = resolve(o.out);
  const seed = o.seed ?? 1;
  const size = o.size ?? 256;
  const budget = o.budget ?? 3;
  const data = join(out, 'phantoms');
  const images = join(data, 'images');
  const model = join(out, 'model');
  const spacing = phantomSpacing(size).x;
  const say = (s: string) => process.stderr.write(`\n== ${s}\n`);

  if (existsSync(out)) await rm(out, { recursive: true, force: true });
  say(`1/5 phantoms: ${o.images ?? 40} synthetic hand X-rays with 17 known landmarks`);
  await phantom({ out: data, n: o.images ?? 40, seed, size, quiet: true });

  say(`2/5 self-supervised training of the feature extractor (${o.minutes ?? 2} min)`);
  // The lighter 16-32-64-128-128 net: in two minutes it takes three times
  // the steps of the default one, which is what small phantoms need.
  const overrides = { model: { widths: [16, 32, 64, 128, 128] } };
  await train({ images, out: model, minutes: o.minutes ?? 2, size, batch: 4, seed, overrides });

  say(
    `3/5 which ${budget} images to annotate (fewmark select's default: k-medoids on the extractor's embeddings)`,
  );
  const picked = await select({
    images,
    model,
    budget,
    out: join(out, 'selection'),
    contrastThreshold: 0.01, // hands: low-contrast bone edges (DESIGN.md, step 3)
    seed,
    quiet: true,
  });
  const chosen = picked.selection.ranked.map((r) => r.image);
  process.stderr.write(`chosen: ${chosen.join(', ')}\n`);

  say(
    '4/5 detection from the chosen images (their phantom ground truth as the annotation), and from random ones',
  );
  const truth = await readAnnotations(join(data, 'landmarks.csv'));
  const evaluation = await detectAndEvaluate(truth, chosen, join(out, 'chosen'), model, images, spacing);
  const ids = truth.images.map((img) => img.image);
  const randomSets: DemoResult['randomSets'] = [];
  for (let k = 0; k < RANDOM_SETS; k++) {
    const templates = new Rng(seed, 0xde70 + k)
      .permutation(ids.length)
      .slice(0, budget)
      .map((i) => ids[i]!);
    process.stderr.write(`random set ${k + 1}/${RANDOM_SETS}: ${templates.join(', ')}\n`);
    const dir = join(out, 'random', `set-${k + 1}`);
    randomSets.push({
      templates,
      evaluation: await detectAndEvaluate(truth, templates, dir, model, images, spacing),
    });
  }
  const { verdict } = compareWithRandom(
    evaluation.overall.mre,
    randomSets.map((r) => r.evaluation.overall.mre),
  );

  say('5/5 report');
  const seconds = (performance.now() - started) / 1000;
  const randomMean = (k: number) =>
    randomSets.reduce((a, r) => a + r.evaluation.perLandmark[k]!.mre, 0) / randomSets.length;
  await landmarkBars(
    join(out, 'landmark-mre.svg'),
    `MRE per landmark, ${budget} templates`,
    evaluation.perLandmark.flatMap((l, k) => [
      { landmark: l.name, set: 'chosen', mre: l.mre },
      { landmark: l.name, set: `mean of ${RANDOM_SETS} random sets`, mre: randomMean(k) },
    ]),
  );
  const result = { out, templates: chosen, evaluation, randomSets, verdict, seconds };
  await writeFileAtomic(join(out, 'report.md'), renderDemoReport(result, picked.selection.strategy));
  return result;
}

function renderDemoReport(r: DemoResult, strategy: string): string {
  const row = (name: string, set: string[], e: EvaluationResult) =>
    `| ${name} | ${set.join(', ')} | ${e.overall.mre.toFixed(3)} ± ${e.overall.std.toFixed(3)} | ${e.overall.sdr.map((s) => `${s.percent.toFixed(1)}%`).join(' | ')} |`;
  return [
    '# fewmark demo',
    '',
    `Synthetic hand phantoms: an extractor trained without labels, ${r.templates.length} images chosen to annotate, their ground truth used as the annotation, landmarks detected on every other phantom; the same with ${r.randomSets.length} random sets of ${r.templates.length} for comparison. Finished in ${(r.seconds / 60).toFixed(1)} minutes.`,
    '',
    `**${r.verdict}.**`,
    '',
    'A two-minute extractor on 40 phantoms is a smoke test of the pipeline, not a measure of selection: see docs/selection.md for ISBI 2015.',
    '',
    `| templates | images | MRE mm | ${r.evaluation.overall.sdr.map((s) => `SDR ${s.radius} mm`).join(' | ')} |`,
    `|---|---|---:|${r.evaluation.overall.sdr.map(() => '---:').join('|')}|`,
    row(`chosen (${strategy})`, r.templates, r.evaluation),
    ...r.randomSets.map((s, k) => row(`random set ${k + 1}`, s.templates, s.evaluation)),
    '',
    '![MRE per landmark](landmark-mre.svg)',
    '',
    'Files: `selection/` (selection.json, report.html with thumbnails), `chosen/` and `random/set-N/` (templates, predictions, evaluation), `model/`.',
    '',
  ].join('\n');
}
