// Which images to label at budgets of 1 to 25 (issue 14), on ISBI 2015:
// every strategy of `fewmark select` against 200 random sets per budget,
// by template matching with median fusion (as `fewmark detect`), and why
// the SCP's set score stops ranking sets: how well each candidate score
// predicts the fused MRE over the random sets.
//
// Pool: the 150 training images. Targets: --targets train (validation: the
// pool's own images, each set's templates left out; choose options here)
// or --targets test1 (report). Labels are used only to measure.
//
//   node dist/bench/selection-budgets.js --model runs/isbi-384w --targets train
//   node dist/bench/selection-budgets.js --model runs/isbi-384w --targets test1
import { parseArgs } from 'node:util';
import { setMre } from '../src/experiment/oneshot-table.js';
import { rankAmong, spearman } from '../src/experiment/stats.js';
import { ISBI_SPACING_MM } from '../src/io/datasets/isbi2015.js';
import { kCenterGreedy, kMeansMedoids, typiClust } from '../src/selection/baselines.js';
import { coverageCost, kMedoids } from '../src/selection/medoids.js';
import { exhaustiveSingle, greedySwap, score } from '../src/selection/search.js';
import { Rng } from '../src/util/random.js';
import { loadSelectionPool, oneShotPairErrors } from './selection-pool.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: '../shared/data/isbi2015' },
    targets: { type: 'string', default: 'train' },
    out: { type: 'string', default: 'runs/selection-budgets' },
    budgets: { type: 'string', default: '1,5,10,15,20,25' },
    'random-sets': { type: 'string', default: '200' },
    'score-sets': { type: 'string', default: '600' },
    seeds: { type: 'string', default: '8' },
  },
});
if (!a.model) throw new Error('pass --model (a folder from fewmark train)');
if (a.targets !== 'train' && a.targets !== 'test1') throw new Error('--targets must be train or test1');
const budgets = a.budgets!.split(',').map(Number);
const seeds = Number(a.seeds);

const { steps, pool, targets, truth, table, matrix, keypointCounts, embeddings, distances } =
  await loadSelectionPool({ model: a.model, data: a.data!, targets: a.targets, out: a.out! });
const N = pool.length;
const mreOf = (set: readonly number[]) => setMre(table, set, truth, ISBI_SPACING_MM, 'median');

// ---- 1. Strategies at each budget ----
type Strategy = { name: string; seeded: boolean; pick: (m: number, seed: number) => number[] };
const strategies: Strategy[] = [
  {
    name: 'medoids (default)',
    seeded: false,
    pick: (m) => (m === 1 ? exhaustiveSingle(matrix).selected : kMedoids(embeddings, m).order),
  },
  {
    name: 'SCP (R, greedy + swap)',
    seeded: false,
    pick: (m) => (m === 1 ? exhaustiveSingle(matrix).selected : greedySwap(matrix, m).selected),
  },
  { name: 'k-center', seeded: false, pick: (m) => kCenterGreedy(embeddings, m) },
  { name: 'TypiClust', seeded: true, pick: (m, s) => typiClust(embeddings, m, new Rng(s, 0xba5e, 2)) },
  {
    name: 'k-means medoids',
    seeded: true,
    pick: (m, s) => kMeansMedoids(embeddings, m, new Rng(s, 0xba5e, 3)),
  },
];
const randomSetsOf = (m: number, count: number, stream: number) => {
  if (m === 1) return pool.map((_, j) => [j]);
  const rng = new Rng(0, stream, m);
  return Array.from({ length: count }, () => rng.permutation(N).slice(0, m));
};
const pct = (rank: number, of: number) => `${((100 * rank) / of).toFixed(0)}%`;

console.log(
  `\n## Strategies at each budget: ISBI 2015 ${a.targets === 'train' ? "validation (the 150 training images as targets, each set's own left out)" : 'Test1 (150 images)'}, template matching, median fusion; model ${a.model} (${steps} steps)\n`,
);
console.log(
  `MRE mm of each strategy's set and its rank among random sets of the same size (1 = best). Seeded strategies: seed 0 (the CLI's default), and in brackets the mean rank over seeds 0-${seeds - 1}.\n`,
);
const several = budgets.filter((m) => m > 1);
console.log(`| strategy | ${budgets.map((m) => `M=${m}`).join(' | ')} | mean percentile, M > 1 |`);
console.log(`|---|${budgets.map(() => '---:').join('|')}|---:|`);
const randomByM = new Map(
  budgets.map((m) => [m, randomSetsOf(m, Number(a['random-sets']), 0x5e75).map(mreOf)]),
);
for (const s of strategies) {
  // Percentile of each budget's set (seeded: averaged over the seeds), for the mean column.
  const percentiles: number[] = [];
  const cells = budgets.map((m) => {
    const random = randomByM.get(m)!;
    const of = random.length + 1;
    const mre = mreOf(s.pick(m, 0));
    let cell = `${mre.toFixed(3)} (${rankAmong(mre, random)}, ${pct(rankAmong(mre, random), of)})`;
    let rank = rankAmong(mre, random);
    if (s.seeded && m > 1) {
      const ranks = Array.from({ length: seeds }, (_, seed) => rankAmong(mreOf(s.pick(m, seed)), random));
      rank = ranks.reduce((x, y) => x + y, 0) / seeds;
      cell += ` [${pct(rank, of)}]`;
    }
    if (m > 1) percentiles.push(rank / of);
    return cell;
  });
  const meanPercentile = several.length
    ? `${((100 * percentiles.reduce((x, y) => x + y, 0)) / percentiles.length).toFixed(1)}%`
    : '-';
  console.log(`| ${s.name} | ${cells.join(' | ')} | ${meanPercentile} |`);
}
const spread = budgets.map((m) => {
  const r = randomByM.get(m)!;
  const mean = r.reduce((x, y) => x + y, 0) / r.length;
  const std = Math.sqrt(r.reduce((x, y) => x + (y - mean) ** 2, 0) / r.length);
  return `${mean.toFixed(3)} ± ${std.toFixed(3)} (${r.length})`;
});
console.log(`| random sets: mean ± std (count) | ${spread.join(' | ')} | |`);

// ---- 2. Which set score predicts the fused MRE? ----
const owner = new Int32Array(matrix.rows);
{
  let p = 0;
  keypointCounts.forEach((c, n) => {
    for (let k = 0; k < c; k++) owner[p++] = n;
  });
}
if (owner.length !== matrix.rows || keypointCounts.reduce((x, y) => x + y, 0) !== matrix.rows)
  throw new Error('key point counts do not match the SCP matrix rows');
const J = matrix.candidates;
const v = (p: number, j: number) => matrix.values[p * J + j]!;
// How landmark-like a key point is: its mean best match over the other images.
const stability = Float64Array.from({ length: matrix.rows }, (_, p) => {
  let s = 0;
  for (let j = 0; j < J; j++) if (j !== owner[p]) s += v(p, j);
  return s / (J - 1);
});
const singleR = Array.from({ length: J }, (_, j) => score(matrix, [j]));
const pairError = oneShotPairErrors(table, truth, a.targets === 'train' ? pool.map((p) => p.id) : []);

/** Mean over the pool's key points (optionally leaving the set's own images out, optionally weighted) of a per-row statistic. */
function overRows(
  set: readonly number[],
  stat: (values: number[]) => number,
  o: { leaveOut?: boolean; weighted?: boolean } = {},
) {
  const inSet = new Set(set);
  let total = 0;
  let weight = 0;
  for (let p = 0; p < matrix.rows; p++) {
    if (o.leaveOut && inSet.has(owner[p]!)) continue;
    const w = o.weighted ? stability[p]! : 1;
    total += w * stat(set.map((j) => v(p, j)));
    weight += w;
  }
  return total / weight;
}
const kthBest = (values: number[], k: number) => [...values].sort((x, y) => y - x)[k]!;
const median = (values: number[]) => {
  const s = [...values].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
// Higher = predicted better, so a useful score has a negative Spearman with MRE.
const scores: { name: string; why: string; of: (set: number[]) => number }[] = [
  { name: 'R (the paper)', why: 'max over the set', of: (s) => score(matrix, s) },
  {
    name: 'R, own key points left out',
    why: 'self-coverage',
    of: (s) => overRows(s, (x) => Math.max(...x), { leaveOut: true }),
  },
  {
    name: 'R, key points weighted by stability',
    why: 'background / soft tissue',
    of: (s) => overRows(s, (x) => Math.max(...x), { leaveOut: true, weighted: true }),
  },
  {
    name: 'fusion-aware coverage (ceil(M/2)-th best)',
    why: 'median fusion',
    of: (s) => overRows(s, (x) => kthBest(x, Math.ceil(x.length / 2) - 1), { leaveOut: true }),
  },
  {
    name: 'mean single R of the members',
    why: 'template quality only',
    of: (s) => s.reduce((t, j) => t + singleR[j]!, 0) / s.length,
  },
  { name: 'embedding diversity (mean pairwise distance)', why: 'diversity', of: (s) => meanPairDistance(s) },
  {
    name: 'medoids: -C (mean distance to the nearest chosen)',
    why: 'the new default',
    of: (s) => -coverageCost(distances, N, s),
  },
  {
    name: 'oracle: -mean one-shot MRE of the members',
    why: 'ceiling (uses labels)',
    of: (s) => -s.reduce((t, j) => t + pairError.template[j]!, 0) / s.length,
  },
  {
    name: 'oracle: -mean over targets of the median pair error',
    why: 'ceiling (uses labels)',
    of: (s) => -oracleMedianPairError(s),
  },
];
function meanPairDistance(s: readonly number[]) {
  let t = 0;
  let c = 0;
  for (const i of s)
    for (const j of s)
      if (i < j) {
        t += distances[i * N + j]!;
        c++;
      }
  return t / c;
}
function oracleMedianPairError(s: readonly number[]) {
  const inSet = new Set(s.map((j) => pool[j]!.id));
  let t = 0;
  let c = 0;
  targets.images.forEach((target, i) => {
    if (inSet.has(target.id)) return;
    t += median(s.map((j) => pairError.pair[j]![i]!));
    c++;
  });
  return t / c;
}

const scoreBudgets = budgets.filter((m) => m === 5 || m === 10);
console.log(
  `\n## Which set score predicts the fused MRE: Spearman over ${a['score-sets']} random sets (negative = higher score, lower error)\n`,
);
console.log(`| score | what it tests | ${scoreBudgets.map((m) => `M=${m}`).join(' | ')} |`);
console.log(`|---|---|${scoreBudgets.map(() => '---:').join('|')}|`);
const scoreSets = new Map(scoreBudgets.map((m) => [m, randomSetsOf(m, Number(a['score-sets']), 0xfeed)]));
const scoreMres = new Map(scoreBudgets.map((m) => [m, scoreSets.get(m)!.map(mreOf)]));
for (const s of scores)
  console.log(
    `| ${s.name} | ${s.why} | ${scoreBudgets.map((m) => spearman(scoreSets.get(m)!.map(s.of), scoreMres.get(m)!).toFixed(3)).join(' | ')} |`,
  );
for (const m of scoreBudgets) {
  const r = scoreSets.get(m)!.map((s) => score(matrix, s));
  const mean = r.reduce((x, y) => x + y, 0) / r.length;
  const std = Math.sqrt(r.reduce((x, y) => x + (y - mean) ** 2, 0) / r.length);
  console.log(
    `\nM=${m}: R over the random sets ${mean.toFixed(4)} ± ${std.toFixed(4)}; the SCP set's R ${score(matrix, greedySwap(matrix, m).selected).toFixed(4)}`,
  );
}

// ---- 3. What the chosen sets are made of ----
const atypicality = Array.from({ length: N }, (_, j) => {
  let s = 0;
  for (let i = 0; i < N; i++) s += distances[j * N + i]!;
  return s / (N - 1);
});
const meanOver = (s: readonly number[], f: (j: number) => number) =>
  s.reduce((t, j) => t + f(j), 0) / s.length;
console.log(
  '\n## What the chosen sets are made of: R, the medoids cost C, how atypical the members are (mean embedding distance to the pool) and how good each member is alone (its one-shot MRE, mm; uses labels)\n',
);
console.log('| M | set | R | C | atypicality | members alone, mm | fused MRE mm |');
console.log('|---:|---|---:|---:|---:|---:|---:|');
for (const m of scoreBudgets) {
  const row = (name: string, s: number[]) =>
    `| ${m} | ${name} | ${score(matrix, s).toFixed(4)} | ${coverageCost(distances, N, s).toFixed(4)} | ${meanOver(s, (j) => atypicality[j]!).toFixed(4)} | ${meanOver(s, (j) => pairError.template[j]!).toFixed(3)} | ${mreOf(s).toFixed(3)} |`;
  for (const s of strategies) console.log(row(s.name, s.pick(m, 0)));
  const sets = scoreSets.get(m)!;
  const avg = (f: (s: number[]) => number) => sets.reduce((t, s) => t + f(s), 0) / sets.length;
  console.log(
    `| ${m} | random sets (mean) | ${avg((s) => score(matrix, s)).toFixed(4)} | ${avg((s) => coverageCost(distances, N, s)).toFixed(4)} | ${avg((s) => meanOver(s, (j) => atypicality[j]!)).toFixed(4)} | ${avg((s) => meanOver(s, (j) => pairError.template[j]!)).toFixed(3)} | ${(scoreMres.get(m)!.reduce((x, y) => x + y, 0) / sets.length).toFixed(3)} |`,
  );
}
