// What the user finally gets from the chosen labels (issue 14, item 4):
// `fewmark refine` with its defaults from the default strategy's M labels,
// from the best baseline's (the one that measured best on validation at that
// M: docs/selection.md) and from three random draws of M, each measured on
// ISBI Test1 (template matching, then the refined network). Every stage is
// kept on disk, so a stopped run resumes.
//
//   node dist/bench/selection-refined.js --model runs/isbi-384w [--labels 5,25] [--out runs/selection-refined]
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { detect, refine, type Strategy, select } from '../src/api/index.js';
import { mean, populationStd, radialErrorMm, summarize } from '../src/eval/metrics.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { writeAnnotations } from '../src/io/formats/index.js';
import type { Dataset } from '../src/io/types.js';
import type { Detection } from '../src/matching/detect.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { stage } from './stage.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string' },
    out: { type: 'string', default: 'runs/selection-refined' },
    labels: { type: 'string', default: '5,25' },
    draws: { type: 'string', default: '3' },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
const data = resolve(a.data!);
const out = resolve(a.out!);
const train = await loadIsbi2015(data, { split: 'train', groundTruth: 'mean' });
const test = await loadIsbi2015(data, { split: 'test1', groundTruth: 'mean' });
const trainFolder = join(data, 'RawImage', 'TrainingData');

/** The baseline that measured best on validation at each budget (bench/selection-budgets --targets train). */
const bestBaseline = (m: number) => (m <= 10 ? 'kmeans' : 'typiclust');

interface Stage {
  mre: number;
  sdr2: number;
}
function scoreOf(detections: Detection[], set: Dataset): Stage {
  const byId = new Map(set.images.map((i) => [i.id, i]));
  const errors = detections.flatMap((d) =>
    d.points.map((p, k) => {
      return radialErrorMm(p, byId.get(d.id)!.landmarks![k]!, ISBI_SPACING_MM);
    }),
  );
  const s = summarize(errors);
  return { mre: s.mre, sdr2: s.sdr[0]!.percent };
}
interface Run {
  name: string;
  templates: string[];
  matching: Stage;
  refined: Stage;
  minutes: number;
}
const results: { m: number; runs: Run[] }[] = [];
for (const m of a.labels!.split(',').map(Number)) {
  const arms = [
    { name: 'medoids (default)', strategy: 'medoids', seed: 0 },
    { name: `best baseline (${bestBaseline(m)})`, strategy: bestBaseline(m), seed: 0 },
    ...Array.from({ length: Number(a.draws) }, (_, k) => ({
      name: `random draw ${k + 1}`,
      strategy: 'random',
      seed: k + 1,
    })),
  ];
  const runs: Run[] = [];
  for (const arm of arms) {
    const dir = join(out, `labels-${m}`, `${arm.strategy}-${arm.seed}`);
    await mkdir(dir, { recursive: true });
    process.stderr.write(`\n== ${m} labels: ${arm.name}\n`);
    const picked = await stage(join(dir, 'picked.json'), async () => {
      const r = await select({
        images: trainFolder,
        model: a.model!,
        budget: m,
        strategy: arm.strategy as Strategy,
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
    // Template matching from the chosen images on Test1 (which holds none of them).
    const testFiles = test.images.map((i) => i.file);
    const matching = await stage(join(dir, 'matching-test1.json'), async () => {
      const labels = {
        names: train.landmarkNames,
        images: chosen.map((i) => ({ image: i.id, points: i.landmarks! })),
      };
      const withTemplates = [...chosen.map((i) => i.file), ...testFiles];
      return scoreOf(await detect({ model: a.model!, templates: labels, images: withTemplates }), test);
    });
    const trained = await stage(join(dir, 'refine.json'), async () => {
      const refinedDir = join(dir, 'refined');
      const r = await refine({
        model: a.model!,
        templates,
        images: trainFolder,
        out: refinedDir,
        resume: existsSync(refinedDir), // a stopped run continues
      });
      return { minutes: r.totalElapsed / 60 };
    });
    const refined = await stage(join(dir, 'refined-test1.json'), async () =>
      scoreOf(await detect({ model: join(dir, 'refined'), images: testFiles }), test),
    );
    process.stderr.write(`matching ${matching.mre.toFixed(3)} mm, refined ${refined.mre.toFixed(3)} mm\n`);
    runs.push({ name: arm.name, templates: picked, matching, refined, minutes: trained.minutes });
  }
  results.push({ m, runs });
}

const lines = [
  `# Refined from chosen and random labels: ISBI 2015 Test1 (150 images), \`fewmark refine\` defaults; extractor ${a.model}`,
  '',
  '| labels | labels from | template matching MRE mm | refined MRE mm | refined SDR 2 mm | refine min | vs mean of random draws |',
  '|---:|---|---:|---:|---:|---:|---:|',
];
for (const { m, runs } of results) {
  const random = runs.filter((r) => r.name.startsWith('random'));
  const randomMean = mean(random.map((r) => r.refined.mre));
  for (const r of runs)
    lines.push(
      `| ${m} | ${r.name} | ${r.matching.mre.toFixed(3)} | ${r.refined.mre.toFixed(3)} | ${r.refined.sdr2.toFixed(1)}% | ${r.minutes.toFixed(1)} | ${(((r.refined.mre - randomMean) / randomMean) * 100).toFixed(1)}% |`,
    );
  lines.push(
    `| ${m} | random draws: mean ± std | ${mean(random.map((r) => r.matching.mre)).toFixed(3)} | ${randomMean.toFixed(3)} ± ${populationStd(random.map((r) => r.refined.mre)).toFixed(3)} | | | |`,
  );
}
lines.push('', 'Templates:', '');
for (const { m, runs } of results)
  for (const r of runs) lines.push(`- ${m}, ${r.name}: ${r.templates.join(', ')}`);
const report = lines.join('\n');
console.log(report);
await writeFileAtomic(join(out, 'results.md'), `${report}\n`);
