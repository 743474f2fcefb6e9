// Choosing from large pools (issue 16): `fewmark select` and `fewmark
// detect` on 150 (the ISBI training images), 1,000 and 10,000 images
// (augmented ISBI made by bench/augmented-pool.ts), each command a child
// process with its peak RSS and wall time. At --compare images (default
// 1,000) also the sampled search against the exact one: the exact score of
// each chosen set, and its template-matching error on ISBI Test1 against
// random images of the same pool. Every stage is kept in --out; a rerun is
// quick and a stopped one resumes.
//
//   node dist/bench/selection-scale.js --model runs/isbi-384-spin [--sizes 150,1000,10000] [--compare 1000] [--detect-sizes 150,1000]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mean, populationStd } from '../src/eval/metrics.js';
import { buildOneShotTable, setMre } from '../src/experiment/oneshot-table.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { writeAnnotations } from '../src/io/formats/index.js';
import { pairwiseDistances } from '../src/selection/baselines.js';
import { coverageCost } from '../src/selection/medoids.js';
import { poolEmbeddings } from '../src/selection/pool-embeddings.js';
import { EXACT_LIMIT } from '../src/selection/pool-sample.js';
import { rankSingles, type SimilarityMatrix, score } from '../src/selection/search.js';
import { type Scale, selectImages } from '../src/selection/select.js';
import { Rng } from '../src/util/random.js';
import { type PoolImage, writeAugmentedPool } from './augmented-pool.js';
import { stage } from './stage.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/isbi2015' },
    out: { type: 'string', default: 'runs/selection-scale' },
    sizes: { type: 'string', default: '150,1000,10000' },
    compare: { type: 'string', default: '1000' },
    'detect-sizes': { type: 'string', default: '150,1000' },
    'random-templates': { type: 'string', default: '40' },
    seed: { type: 'string', default: '0' },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
const modelDir = resolve(a.model);
const out = resolve(a.out!);
const data = resolve(a.data!);
const seed = Number(a.seed);
const sizes = a.sizes!.split(',').map(Number);
const compareSize = Number(a.compare);
const detectSizes = new Set(a['detect-sizes']!.split(',').map(Number));
const log = (s: string) => process.stderr.write(`${s}\n`);
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../src/cli/main.js');
const reporter = join(here, 'rss-reporter.js');

const train = await loadIsbi2015(data, { split: 'train', groundTruth: 'mean' });
const sources = train.images.map((i) => ({ id: i.id, file: i.file, points: i.landmarks! }));

interface Run {
  name: string;
  seconds: number;
  rssMb: number;
  /** selection.json of a select run. */
  selection?: {
    ranked: { image: string }[];
    timings: Record<string, number>;
    scale: string;
    estimate?: unknown;
  };
}

/** One fewmark command as a child process: wall time and peak RSS; resumable. */
async function command(file: string, name: string, args: string[]): Promise<Run> {
  return stage(file, async () => {
    log(`  ${name}: fewmark ${args.join(' ')}`);
    const rssFile = `${file}.rss`;
    const t = performance.now();
    const r = spawnSync(process.execPath, ['--import', reporter, cli, ...args], {
      env: { ...process.env, FEWMARK_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    const seconds = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`fewmark ${args.join(' ')} failed (${r.status}): ${r.stdout}`);
    const rssMb = Number(readFileSync(rssFile, 'utf8'));
    await rm(rssFile, { force: true });
    const outDir = args[args.indexOf('--out') + 1]!;
    const selection =
      args[0] === 'select' ? JSON.parse(readFileSync(join(outDir, 'selection.json'), 'utf8')) : undefined;
    return { name, seconds, rssMb, ...(selection ? { selection } : {}) };
  });
}

interface Pool {
  images: string;
  files: string[];
  byId: Map<string, { points: { x: number; y: number }[] }>;
}

async function poolOf(n: number): Promise<Pool> {
  if (n === train.images.length)
    return {
      images: join(data, 'RawImage', 'TrainingData'),
      files: train.images.map((i) => i.file),
      byId: new Map(train.images.map((i) => [i.id, { points: i.landmarks! }])),
    };
  log(`pool of ${n}: augmented ISBI training images (made once)`);
  const pool: PoolImage[] = await writeAugmentedPool(
    sources,
    n,
    join(out, `pool-${n}`),
    seed,
    (done, total) => {
      if (done % 500 === 0 || done === total) process.stderr.write(`\r  ${done}/${total} images`);
    },
  );
  log('');
  return {
    images: join(out, `pool-${n}`, 'images'),
    files: pool.map((p) => p.file),
    byId: new Map(pool.map((p) => [p.id, p])),
  };
}

const rows: { size: number; run: Run }[] = [];
for (const n of sizes) {
  const pool = await poolOf(n);
  const dir = join(out, `n${n}`);
  await mkdir(dir, { recursive: true });
  const select = (name: string, budget: number, extra: string[] = []) =>
    command(join(dir, `${name}.json`), name, [
      'select',
      '--images',
      pool.images,
      '--model',
      modelDir,
      '--budget',
      String(budget),
      '--out',
      join(dir, name),
      '--allow-inside-images',
      ...extra,
    ]);
  // The first run extracts every image's features (embeddings cached); the others read them.
  const first = await select('select-5-first', 5);
  rows.push({ size: n, run: { ...first, name: 'select 5 (first run: extracts features)' } });
  for (const budget of [5, 25, 1]) rows.push({ size: n, run: await select(`select-${budget}`, budget) });
  if (n === compareSize)
    for (const budget of [5, 25])
      rows.push({ size: n, run: await select(`select-${budget}-sampled`, budget, ['--scale', 'sampled']) });
  // Above the exact limit: what the exact search would have cost (why the limit is where it is).
  if (n > EXACT_LIMIT.medoids)
    rows.push({ size: n, run: await select('select-5-exact', 5, ['--scale', 'exact']) });
  if (detectSizes.has(n)) {
    const chosen = first.selection!.ranked.map((r) => r.image);
    const templates = join(dir, 'templates.csv');
    await writeAnnotations(templates, {
      names: train.landmarkNames,
      images: chosen.map((id) => ({ image: id, points: pool.byId.get(id)!.points })),
    });
    rows.push({
      size: n,
      run: await command(join(dir, 'detect.json'), 'detect from the 5 chosen (no cache)', [
        'detect',
        '--model',
        modelDir,
        '--templates',
        templates,
        '--images',
        pool.images,
        '--out',
        join(dir, 'detect', 'pred.csv'),
        '--no-cache',
        '--allow-inside-images',
      ]),
    });
  }
}

console.log(`\nSelection at scale; model ${a.model}; this machine; each command a child process\n`);
console.log('| pool | command | wall s | peak RSS MB | search | features s | similarity s | search s |');
console.log('|---:|---|---:|---:|---|---:|---:|---:|');
for (const { size, run } of rows) {
  const t = run.selection?.timings;
  console.log(
    `| ${size} | ${run.name} | ${run.seconds.toFixed(1)} | ${run.rssMb.toFixed(0)} | ${run.selection?.scale ?? ''} | ${t ? t.features!.toFixed(1) : ''} | ${t ? t.similarity!.toFixed(1) : ''} | ${t ? t.search!.toFixed(2) : ''} |`,
  );
}
// The ISBI images' features were in the cache from earlier runs; the generated pools' were not.
for (const { size, run } of rows.filter(
  (r) => r.run.name.startsWith('select 5 (first') && r.size !== train.images.length,
))
  console.log(
    `\nFeature extraction at ${size} images: ${(size / run.selection!.timings.features!).toFixed(1)} images/s (embeddings${size > 2000 ? ' only' : ' and pyramids'} written to the cache)`,
  );

if (sizes.includes(compareSize)) await compare(compareSize);

/** The sampled search against the exact one on the same pool, in this process. */
async function compare(n: number) {
  const pool = await poolOf(n);
  const dir = join(out, `n${n}`);
  const modelFile = join(modelDir, EXTRACTOR_FILE);
  const { model, meta } = await loadExtractor(modelFile);
  const cache = await FeatureCache.open(join(modelDir, 'cache'), modelFile);
  const base = { files: pool.files, model, inputSize: meta.inputSize, cache, seed };
  const pick = (budget: number, strategy: 'medoids' | 'scp', scale: Scale) =>
    stage(join(dir, `compare-${strategy}-${budget}-${scale}.json`), async () => {
      log(`  ${strategy} ${budget} ${scale} (in process)`);
      const s = await selectImages({ ...base, budget, strategy, scale });
      // Exact SCP: every single image's R, to place the sampled pick.
      const singleScores = s.similarity ? singleScoresOf(s.similarity) : undefined;
      const matrixScore = s.similarity
        ? score(
            s.similarity,
            s.ranked.map((r) => r.index),
          )
        : null;
      return { set: s.ranked.map((r) => r.index), seconds: s.timings.total, R: matrixScore, singleScores };
    });
  const embeddings = await poolEmbeddings(pool.files, { model, inputSize: meta.inputSize, cache });
  const distances = pairwiseDistances(embeddings);
  const C = (set: number[]) => coverageCost(distances, n, set);
  const medoidRows = [];
  for (const budget of [5, 25]) {
    const exact = await pick(budget, 'medoids', 'exact');
    const sampled = await pick(budget, 'medoids', 'sampled');
    // A harder sample: candidates 10% of the pool, as 1,000 of 10,000 would be.
    const tenth = await stage(join(dir, `compare-medoids-${budget}-tenth.json`), async () => {
      const s = await selectImages({
        ...base,
        budget,
        strategy: 'medoids',
        scale: 'sampled',
        sample: { medoidCandidates: n / 10 },
      });
      return { set: s.ranked.map((r) => r.index), seconds: s.timings.total };
    });
    medoidRows.push({ budget, exact, sampled, tenth });
  }
  const scpExact = await pick(1, 'scp', 'exact');
  const scpSampled = await pick(1, 'scp', 'sampled');

  // One-shot error on Test1 from each chosen set and from random images of the pool.
  const test = await loadIsbi2015(data, { split: 'test1', groundTruth: 'mean' });
  const rng = new Rng(seed, 0x5ca1e);
  const randomImages = rng.permutation(n).slice(0, Number(a['random-templates']));
  const chosenSets = [
    scpExact.set,
    scpSampled.set,
    ...medoidRows.flatMap((r) => [r.exact.set, r.sampled.set, r.tenth.set]),
  ];
  const templateIndices = [...new Set([...chosenSets.flat(), ...randomImages])];
  const column = new Map(templateIndices.map((i, c) => [i, c]));
  log(
    `one-shot table: ${templateIndices.length} pool templates x ${test.images.length} Test1 images (resumable)`,
  );
  const table = await buildOneShotTable(
    templateIndices.map((i) => {
      const id = pool.files[i]!.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
      return { id, file: pool.files[i]!, points: pool.byId.get(id)!.points };
    }),
    test.images,
    {
      model,
      inputSize: meta.inputSize,
      cache,
      file: join(dir, 'oneshot-table-test1.safetensors'),
      onProgress: (done, total) => process.stderr.write(`\r  ${done}/${total} templates`),
    },
  );
  log('');
  model.dispose();
  const truth = test.images.map((i) => i.landmarks!);
  const mre = (set: number[]) =>
    setMre(
      table,
      set.map((i) => column.get(i)!),
      truth,
      ISBI_SPACING_MM,
      'median',
    );
  const randomSets = (m: number) =>
    Array.from({ length: 200 }, () =>
      mre(
        rng
          .permutation(randomImages.length)
          .slice(0, m)
          .map((k) => randomImages[k]!),
      ),
    );
  const spread = (values: number[]) => `${mean(values).toFixed(3)} ± ${populationStd(values).toFixed(3)}`;

  console.log(
    `\nSampled against exact search, ${n}-image pool (in process; Test1 MRE by template matching, median fusion, mean of the doctors)\n`,
  );
  console.log(
    '| budget | score | exact search | sampled search | sampled / exact | exact s | sampled s | Test1 MRE exact | Test1 MRE sampled | random images of the pool |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---|');
  const singles = randomImages.map((i) => mre([i]));
  const all = scpExact.singleScores!;
  const sampledR = all[scpSampled.set[0]!]!;
  const rankOfSampled = 1 + all.filter((v) => v > sampledR).length;
  console.log(
    `| 1 (SCP) | R (exact matrix) | ${scpExact.R!.toFixed(4)} | ${sampledR.toFixed(4)} (rank ${rankOfSampled} of ${n}) | ${(sampledR / scpExact.R!).toFixed(4)} | ${scpExact.seconds.toFixed(0)} | ${scpSampled.seconds.toFixed(1)} | ${mre(scpExact.set).toFixed(3)} | ${mre(scpSampled.set).toFixed(3)} | ${spread(singles)} (${singles.length} singles) |`,
  );
  for (const r of medoidRows) {
    const random = randomSets(r.budget);
    for (const [name, found] of [
      ['500 candidates', r.sampled],
      [`${n / 10} candidates`, r.tenth],
    ] as const)
      console.log(
        `| ${r.budget} (medoids, ${name}) | C (lower is better) | ${C(r.exact.set).toFixed(4)} | ${C(found.set).toFixed(4)} | ${(C(found.set) / C(r.exact.set)).toFixed(4)} | ${r.exact.seconds.toFixed(1)} | ${found.seconds.toFixed(1)} | ${mre(r.exact.set).toFixed(3)} | ${mre(found.set).toFixed(3)} | ${spread(random)} (200 sets from ${randomImages.length} random images) |`,
      );
  }
}

/** R of every single candidate, by candidate index. */
function singleScoresOf(m: SimilarityMatrix): number[] {
  const scores = new Array<number>(m.candidates).fill(0);
  for (const r of rankSingles(m)) scores[r.candidate] = r.score;
  return scores;
}
