// Labeling in rounds on ISBI 2015: SCP's 10 templates chosen at once
// against 5 chosen first and 5 more chosen around them (`fewmark select
// --labeled`), and 200 random sets of 10, by template matching (median
// fusion, as `fewmark detect`) on the 150 Test1 images against the mean of
// the two doctors. The one-shot table (every training image matched on
// every Test1 image) is kept in --out, so a rerun is quick.
//
//   node dist/bench/selection-rounds.js --model runs/isbi-384w [--first 5] [--more 5] [--out runs/selection-rounds]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mean, median, populationStd } from '../src/eval/metrics.js';
import { buildOneShotTable, setMre } from '../src/experiment/oneshot-table.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { greedySwap, score } from '../src/selection/search.js';
import { selectImages } from '../src/selection/select.js';
import { Rng } from '../src/util/random.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/isbi2015' },
    out: { type: 'string', default: 'runs/selection-rounds' },
    first: { type: 'string', default: '5' },
    more: { type: 'string', default: '5' },
    'random-sets': { type: 'string', default: '200' },
    seed: { type: 'string', default: '0' },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
const first = Number(a.first);
const then = Number(a.more);
const total = first + then;
const log = (s: string) => process.stderr.write(`${s}\n`);

const modelFile = join(resolve(a.model), EXTRACTOR_FILE);
const { model, meta } = await loadExtractor(modelFile);
const cache = await FeatureCache.open(join(resolve(a.model), 'cache'), modelFile);
const train = await loadIsbi2015(resolve(a.data!), { split: 'train', groundTruth: 'mean' });
const test = await loadIsbi2015(resolve(a.data!), { split: 'test1', groundTruth: 'mean' });
const pool = train.images.map((i) => ({ id: i.id, file: i.file, points: i.landmarks! }));
const truth = test.images.map((i) => i.landmarks!);

log(`one-shot table: ${pool.length} templates x ${test.images.length} Test1 images (resumable)`);
const table = await buildOneShotTable(pool, test.images, {
  model,
  inputSize: meta.inputSize,
  cache,
  file: join(resolve(a.out!), 'oneshot-table-test1.safetensors'),
  onProgress: (done, n) => process.stderr.write(`\r  ${done}/${n} templates`),
});
log('');
const mreOf = (set: readonly number[]) => setMre(table, set, truth, ISBI_SPACING_MM, 'median');

log(`selection over the ${pool.length} training images (SCP, SIFT, as fewmark select)`);
const firstRound = await selectImages({
  files: pool.map((p) => p.file),
  budget: first,
  model,
  inputSize: meta.inputSize,
  cache,
});
model.dispose();
const matrix = firstRound.similarity!;
const firstSet = firstRound.ranked.map((r) => r.index);
const secondSet = greedySwap(matrix, then, 8, firstSet).selected; // what select --labeled picks
const rounds = [...firstSet, ...secondSet];
const atOnce = greedySwap(matrix, total).selected;

const rng = new Rng(Number(a.seed), 0x70d5);
const randomMres = Array.from({ length: Number(a['random-sets']) }, () =>
  mreOf(rng.permutation(pool.length).slice(0, total)),
);
const rankOf = (m: number) => 1 + randomMres.filter((r) => r < m).length;
const ids = (set: number[]) => set.map((j) => pool[j]!.id).join(' ');
const row = (name: string, set: number[]) => {
  const m = mreOf(set);
  const rank = set.length === total ? `${rankOf(m)} of ${randomMres.length + 1}` : '(fewer templates)';
  return `| ${name} | ${ids(set)} | ${score(matrix, set).toFixed(4)} | ${m.toFixed(3)} | ${rank} |`;
};
console.log(
  `\nLabeling in rounds, ISBI 2015 Test1 (150 images, mean of the doctors), template matching with median fusion; model ${a.model} (${meta.steps} steps)\n`,
);
console.log(`| ${total} templates | images | R | MRE mm | rank among random sets |`);
console.log('|---|---|---:|---:|---:|');
console.log(row(`SCP, ${first} then ${then} (select --labeled)`, rounds));
console.log(row(`SCP, ${total} at once`, atOnce));
console.log(row(`SCP, the first ${first} alone`, firstSet));
console.log(
  `| ${randomMres.length} random sets of ${total} | | | ${mean(randomMres).toFixed(3)} ± ${populationStd(randomMres).toFixed(3)} (median ${median(randomMres).toFixed(3)}) | |`,
);
