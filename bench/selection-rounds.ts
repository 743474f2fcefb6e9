// Labeling in rounds on ISBI 2015 (issue 14, item 5): `fewmark select`'s
// default strategy choosing 10 images at once against 5 first and 5 more
// chosen around them (`fewmark select --labeled`), and 200 random sets of
// 10, by template matching (median fusion, as `fewmark detect`) on the 150
// Test1 images against the mean of the two doctors; with --refine also
// `fewmark refine` (defaults) from both sets of 10. Every stage is kept in
// --out, so a rerun is quick and a stopped one resumes.
//
//   node dist/bench/selection-rounds.js --model runs/isbi-384w [--first 5] [--more 5] [--strategy medoids] [--refine]
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { detect, refine } from '../src/api/index.js';
import { mean, median, populationStd, radialErrorMm, summarize } from '../src/eval/metrics.js';
import { buildOneShotTable, setMre } from '../src/experiment/oneshot-table.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { writeAnnotations } from '../src/io/formats/index.js';
import { DEFAULT_STRATEGY, STRATEGIES, type Strategy, selectImages } from '../src/selection/select.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { Rng } from '../src/util/random.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/isbi2015' },
    out: { type: 'string', default: 'runs/selection-rounds' },
    first: { type: 'string', default: '5' },
    more: { type: 'string', default: '5' },
    strategy: { type: 'string', default: DEFAULT_STRATEGY },
    'random-sets': { type: 'string', default: '200' },
    seed: { type: 'string', default: '0' },
    refine: { type: 'boolean', default: false },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
const strategy = a.strategy as Strategy;
if (!STRATEGIES.includes(strategy)) throw new Error(`--strategy must be one of ${STRATEGIES.join(', ')}`);
const first = Number(a.first);
const then = Number(a.more);
const total = first + then;
const out = resolve(a.out!);
const log = (s: string) => process.stderr.write(`${s}\n`);

const modelFile = join(resolve(a.model), EXTRACTOR_FILE);
const { model, meta } = await loadExtractor(modelFile);
const cache = await FeatureCache.open(join(resolve(a.model), 'cache'), modelFile);
const data = resolve(a.data!);
const train = await loadIsbi2015(data, { split: 'train', groundTruth: 'mean' });
const test = await loadIsbi2015(data, { split: 'test1', groundTruth: 'mean' });
const pool = train.images.map((i) => ({ id: i.id, file: i.file, points: i.landmarks! }));
const truth = test.images.map((i) => i.landmarks!);

log(`one-shot table: ${pool.length} templates x ${test.images.length} Test1 images (resumable)`);
const table = await buildOneShotTable(pool, test.images, {
  model,
  inputSize: meta.inputSize,
  cache,
  file: join(out, 'oneshot-table-test1.safetensors'),
  onProgress: (done, n) => process.stderr.write(`\r  ${done}/${n} templates`),
});
log('');
const mreOf = (set: readonly number[]) => setMre(table, set, truth, ISBI_SPACING_MM, 'median');

log(`selection over the ${pool.length} training images (${strategy}, as fewmark select)`);
const files = pool.map((p) => p.file);
const choose = async (budget: number, labeled: number[] = []) =>
  (
    await selectImages({ files, budget, model, inputSize: meta.inputSize, cache, strategy, labeled })
  ).ranked.map((r) => r.index);
const firstSet = await choose(first);
const rounds = [...firstSet, ...(await choose(then, firstSet))]; // what select --labeled picks
const atOnce = await choose(total);
model.dispose();

const rng = new Rng(Number(a.seed), 0x70d5);
const randomMres = Array.from({ length: Number(a['random-sets']) }, () =>
  mreOf(rng.permutation(pool.length).slice(0, total)),
);
const rankOf = (m: number) => 1 + randomMres.filter((r) => r < m).length;
const ids = (set: number[]) => set.map((j) => pool[j]!.id).join(' ');

/** Refined Test1 MRE (mm) and SDR 2 mm from a set of labels; resumable. */
async function refined(name: string, set: number[]): Promise<{ mre: number; sdr2: number }> {
  const dir = join(out, `refined-${name}`);
  const result = join(dir, 'refined-test1.json');
  if (existsSync(result)) return JSON.parse(await readFile(result, 'utf8'));
  await mkdir(dir, { recursive: true });
  const templates = join(dir, 'templates.csv');
  await writeAnnotations(templates, {
    names: train.landmarkNames,
    images: set.map((j) => {
      const i = train.images[j]!;
      return { image: i.id, points: i.landmarks!, width: i.width, height: i.height };
    }),
  });
  const refinedDir = join(dir, 'refined');
  log(`refining from ${name}`);
  await refine({
    model: a.model!,
    templates,
    images: join(data, 'RawImage', 'TrainingData'),
    out: refinedDir,
    resume: existsSync(refinedDir),
  });
  const found = await detect({ model: refinedDir, images: test.images.map((i) => i.file) });
  const errors = found.flatMap((d, i) =>
    d.points.map((p, k) => radialErrorMm(p, truth[i]![k]!, ISBI_SPACING_MM)),
  );
  const s = summarize(errors);
  const value = { mre: s.mre, sdr2: s.sdr[0]!.percent };
  await writeFileAtomic(result, JSON.stringify(value));
  return value;
}

const rows: [string, number[], string][] = [
  [`${first} then ${then} (select --labeled)`, rounds, 'rounds'],
  [`${total} at once`, atOnce, 'at-once'],
];
console.log(
  `\nLabeling in rounds, ISBI 2015 Test1 (150 images, mean of the doctors), strategy ${strategy}; model ${a.model} (${meta.steps} steps)\n`,
);
console.log(
  `| ${total} labels | images | template matching MRE mm | rank among ${randomMres.length} random sets | refined MRE mm | refined SDR 2 mm |`,
);
console.log('|---|---|---:|---:|---:|---:|');
for (const [name, set, folder] of rows) {
  const m = mreOf(set);
  const r = a.refine ? await refined(folder, set) : undefined;
  console.log(
    `| ${name} | ${ids(set)} | ${m.toFixed(3)} | ${rankOf(m)} of ${randomMres.length + 1} | ${r ? r.mre.toFixed(3) : '-'} | ${r ? `${r.sdr2.toFixed(1)}%` : '-'} |`,
  );
}
console.log(
  `| the first ${first} alone | ${ids(firstSet)} | ${mreOf(firstSet).toFixed(3)} | (${first} labels) | | |`,
);
console.log(
  `| ${randomMres.length} random sets of ${total} | | ${mean(randomMres).toFixed(3)} ± ${populationStd(randomMres).toFixed(3)} (median ${median(randomMres).toFixed(3)}) | | | |`,
);
