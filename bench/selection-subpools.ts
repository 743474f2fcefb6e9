// Selection strategies compared over many random sub-pools (issue 14): one
// set per budget is a single draw whose rank among random sets moves by
// +-30 points between neighbouring budgets, too noisy to choose a strategy
// by. Here each trial draws a sub-pool of the 150 ISBI training images;
// every strategy chooses from it, and its set's fused MRE (template
// matching, median fusion) on the sub-pool's other images is ranked among
// random sets from the same sub-pool. The mean over trials says how good a
// strategy is, the share of trials in the best 10% how often one set of it
// reaches that. An oracle that knows every one-shot pair error (it uses the
// labels) shows what the best 10% asks of a score.
//
// Validation only (the pool's own images are the targets). Sub-pools
// overlap, so the standard errors are optimistic.
//
//   node dist/bench/selection-subpools.js --model runs/isbi-384-spin
import { parseArgs } from 'node:util';
import { setMre } from '../src/experiment/oneshot-table.js';
import { spearman } from '../src/experiment/stats.js';
import { ISBI_SPACING_MM } from '../src/io/datasets/isbi2015.js';
import { kCenterGreedy, kMeansMedoids, typiClust } from '../src/selection/baselines.js';
import { stackEmbeddings } from '../src/selection/embeddings.js';
import { type CoverageMatrix, coverageOf, kMedoidsOn } from '../src/selection/medoids.js';
import { greedy, type SimilarityMatrix } from '../src/selection/search.js';
import { Rng } from '../src/util/random.js';
import { loadSelectionPool, oneShotPairErrors } from './selection-pool.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/isbi2015' },
    /** Where bench/selection-budgets keeps the one-shot table (reused). */
    out: { type: 'string', default: 'runs/selection-budgets' },
    trials: { type: 'string', default: '100' },
    size: { type: 'string', default: '100' },
    budgets: { type: 'string', default: '5,10,15,25' },
    'random-sets': { type: 'string', default: '100' },
    /** Weight of template quality in "medoids + quality" (in standard deviations of the single-image cost). */
    quality: { type: 'string', default: '0.5' },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
const trials = Number(a.trials);
const size = Number(a.size);
const budgets = a.budgets!.split(',').map(Number);
const randomSets = Number(a['random-sets']);
const qualityWeight = Number(a.quality);

const { pool, truth, table, matrix, keypointCounts, embeddings, distances } = await loadSelectionPool({
  model: a.model,
  data: a.data!,
  targets: 'train',
  out: a.out!,
});
const N = pool.length;
if (!(size > Math.max(...budgets) && size <= N))
  throw new Error(`--size must be in ${Math.max(...budgets) + 1}..${N}`);
const mreOn = (set: readonly number[], targets: readonly number[]) =>
  setMre(table, set, truth, ISBI_SPACING_MM, 'median', targets);

// Image-level key point similarity: s[n][j] = mean over image n's key points of their best match in image j.
const firstRow: number[] = [];
for (let n = 0, p = 0; n < N; p += keypointCounts[n++]!) firstRow.push(p);
const keypointSimilarity = Array.from({ length: N }, (_, n) =>
  Float64Array.from({ length: N }, (_, j) => {
    let s = 0;
    for (let k = 0; k < keypointCounts[n]!; k++) s += matrix.values[(firstRow[n]! + k) * N + j]!;
    return s / keypointCounts[n]!;
  }),
);
const symmetric = (i: number, j: number) => (keypointSimilarity[i]![j]! + keypointSimilarity[j]![i]!) / 2;
const pairError = oneShotPairErrors(
  table,
  truth,
  pool.map((p) => p.id),
);

/** A pool x pool distance, as a function, restricted to sub-pool P (candidate rows, represented columns). */
const coverage = (P: readonly number[], d: (candidate: number, image: number) => number): CoverageMatrix => {
  const n = P.length;
  const values = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) values[r * n + c] = r === c ? 0 : d(P[r]!, P[c]!);
  return { candidates: n, represented: n, values };
};
const medoidsBy = (P: readonly number[], m: number, d: (candidate: number, image: number) => number) =>
  kMedoidsOn(coverage(P, d), m).order.map((k) => P[k]!);
const embeddingDistance = (i: number, j: number) => distances[i * N + j]!;
const pointsOf = (P: readonly number[]) =>
  stackEmbeddings(P.map((i) => embeddings.values.subarray(i * embeddings.dim, (i + 1) * embeddings.dim)));
function scpMatrix(P: readonly number[]): SimilarityMatrix {
  const rows = P.flatMap((n) => Array.from({ length: keypointCounts[n]! }, (_, k) => firstRow[n]! + k));
  const values = new Float32Array(rows.length * P.length);
  rows.forEach((p, r) => {
    P.forEach((j, c) => {
      values[r * P.length + c] = matrix.values[p * N + j]!;
    });
  });
  return { rows: rows.length, candidates: P.length, values };
}

/**
 * k-medoids with a reward for templates whose key points match the rest of
 * the sub-pool well (the best label-free estimate of a template's one-shot
 * quality we found): C(S) - w * std(C of single images) * mean z-quality(S).
 * Greedy, then first-improvement swaps.
 */
function medoidsWithQuality(P: readonly number[], m: number): number[] {
  const d = coverage(P, embeddingDistance);
  const n = P.length;
  const quality = P.map((j) => P.reduce((t, i) => t + (i === j ? 0 : symmetric(i, j)), 0) / (n - 1));
  const z = standardized(quality);
  const singleCostSpread = spread(P.map((_, k) => coverageOf(d, [k])));
  const cost = (s: number[]) =>
    coverageOf(d, s) - (qualityWeight * singleCostSpread * s.reduce((t, k) => t + z[k]!, 0)) / s.length;
  const set: number[] = [];
  while (set.length < m) {
    let best = -1;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      if (set.includes(k)) continue;
      const c = cost([...set, k]);
      if (c < bestCost) [best, bestCost] = [k, c];
    }
    set.push(best);
  }
  for (let improved = true, current = cost(set); improved; ) {
    improved = false;
    for (let s = 0; s < m && !improved; s++)
      for (let k = 0; k < n && !improved; k++) {
        if (set.includes(k)) continue;
        const trial = set.map((x, t) => (t === s ? k : x));
        const c = cost(trial);
        if (c < current - 1e-12) [set[s], current, improved] = [k, c, true];
      }
  }
  return set.map((k) => P[k]!);
}
function spread(v: readonly number[]) {
  const mean = v.reduce((x, y) => x + y, 0) / v.length;
  return Math.sqrt(v.reduce((x, y) => x + (y - mean) ** 2, 0) / v.length);
}
function standardized(v: readonly number[]) {
  const mean = v.reduce((x, y) => x + y, 0) / v.length;
  const s = spread(v) || 1;
  return v.map((x) => (x - mean) / s);
}

type Pick = (P: readonly number[], m: number, trial: number) => number[];
const strategies: { name: string; pick: Pick }[] = [
  { name: 'medoids (default)', pick: (P, m) => medoidsBy(P, m, embeddingDistance) },
  {
    name: 'k-means medoids',
    pick: (P, m, t) => kMeansMedoids(pointsOf(P), m, new Rng(t, 0xba5e, 3)).map((k) => P[k]!),
  },
  {
    name: 'TypiClust',
    pick: (P, m, t) => typiClust(pointsOf(P), m, new Rng(t, 0xba5e, 2)).map((k) => P[k]!),
  },
  { name: 'k-center', pick: (P, m) => kCenterGreedy(pointsOf(P), m).map((k) => P[k]!) },
  { name: 'SCP (R, greedy)', pick: (P, m) => greedy(scpMatrix(P), m).selected.map((k) => P[k]!) },
  { name: 'medoids on key point similarity', pick: (P, m) => medoidsBy(P, m, (i, j) => 1 - symmetric(i, j)) },
  { name: `medoids + quality (w = ${qualityWeight})`, pick: medoidsWithQuality },
  {
    name: 'oracle: medoids on the true pair errors (labels)',
    pick: (P, m) => medoidsBy(P, m, (j, i) => pairError.pair[j]![i]!),
  },
];

// How well each distance predicts the one-shot error of a template on a target: what limits the choice.
const pairs: { distance: number[]; keypoint: number[]; error: number[] } = {
  distance: [],
  keypoint: [],
  error: [],
};
for (let j = 0; j < N; j++)
  for (let i = 0; i < N; i++)
    if (i !== j) {
      pairs.distance.push(embeddingDistance(j, i));
      pairs.keypoint.push(1 - symmetric(j, i));
      pairs.error.push(pairError.pair[j]![i]!);
    }
const pairCorrelations = [
  ['embedding distance (the default)', spearman(pairs.distance, pairs.error)],
  ['1 - key point similarity (symmetric)', spearman(pairs.keypoint, pairs.error)],
] as const;

interface Tally {
  percentile: number[];
  z: number[];
  mm: number[];
}
const tallies = strategies.map(
  () => new Map(budgets.map((m): [number, Tally] => [m, { percentile: [], z: [], mm: [] }])),
);
const started = performance.now();
for (let t = 0; t < trials; t++) {
  const P = new Rng(t, 0x5b9, 1)
    .permutation(N)
    .slice(0, size)
    .sort((x, y) => x - y);
  for (const m of budgets) {
    const rng = new Rng(t, 0x7a, m);
    const random = Array.from({ length: randomSets }, () =>
      mreOn(
        rng
          .permutation(size)
          .slice(0, m)
          .map((k) => P[k]!),
        P,
      ),
    );
    const mean = random.reduce((x, y) => x + y, 0) / random.length;
    const std = spread(random);
    strategies.forEach((s, k) => {
      const mre = mreOn(s.pick(P, m, t), P);
      const tally = tallies[k]!.get(m)!;
      tally.percentile.push((1 + random.filter((r) => r < mre).length) / (random.length + 1));
      tally.z.push((mre - mean) / std);
      tally.mm.push(mre - mean);
    });
  }
  const s = (performance.now() - started) / 1000;
  process.stderr.write(
    `\rtrial ${t + 1}/${trials}, ${s.toFixed(0)} s, ETA ${((s / (t + 1)) * (trials - t - 1)).toFixed(0)} s`,
  );
}
process.stderr.write('\n');

const meanAndError = (v: readonly number[]) => {
  const mean = v.reduce((x, y) => x + y, 0) / v.length;
  const se =
    v.length > 1 ? Math.sqrt(v.reduce((x, y) => x + (y - mean) ** 2, 0) / (v.length - 1) / v.length) : 0;
  return { mean, se };
};
console.log(
  `\n## Strategies over ${trials} random sub-pools of ${size} ISBI training images (validation; model ${a.model})\n`,
);
console.log(
  `Per budget: the chosen set's mean percentile among ${randomSets} random sets of the same sub-pool (± standard error; lower is better), the share of sub-pools where it is in the best 10%, and its mean MRE minus the random sets' mean (mm). Last column: the mean over budgets of z = (MRE - random mean) / random std.\n`,
);
console.log(`| strategy | ${budgets.map((m) => `M=${m}: percentile, best 10%, mm`).join(' | ')} | mean z |`);
console.log(`|---|${budgets.map(() => '---:').join('|')}|---:|`);
strategies.forEach((s, k) => {
  let zTotal = 0;
  const cells = budgets.map((m) => {
    const tally = tallies[k]!.get(m)!;
    const p = meanAndError(tally.percentile);
    zTotal += meanAndError(tally.z).mean;
    const best = tally.percentile.filter((x) => x <= 0.1).length / tally.percentile.length;
    return `${(100 * p.mean).toFixed(0)} ± ${(100 * p.se).toFixed(0)}%, ${(100 * best).toFixed(0)}%, ${meanAndError(tally.mm).mean.toFixed(3)}`;
  });
  console.log(`| ${s.name} | ${cells.join(' | ')} | ${(zTotal / budgets.length).toFixed(2)} |`);
});
console.log(
  `\n## What limits it: Spearman of a label-free distance with the one-shot error of template j on target i (all ${pairs.error.length} ordered pairs; the oracle's distance is the error itself)\n`,
);
console.log('| distance | Spearman |');
console.log('|---|---:|');
for (const [name, r] of pairCorrelations) console.log(`| ${name} | ${r.toFixed(3)} |`);
