// `fewmark experiment selection` (issue 5, item 6): does the SCP choose
// better templates than chance and than the embedding baselines, on ISBI
// 2015? The pool is the 150 training images (their labels are used only
// as the chosen templates' annotation), the targets the 150 Test1 images.
// Every candidate's one-shot peaks on every target are computed once
// (oneshot-table.ts); any template set's few-shot MRE is then a lookup.
import { join } from 'node:path';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { FeatureCache } from '../features/cache.js';
import { loadWorkingImage } from '../features/load.js';
import type { FeatureExtractor } from '../features/model.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../io/datasets/isbi2015.js';
import type { Point } from '../io/types.js';
import { type ProposalMethod, type ProposalOptions, proposeKeypoints } from '../keypoints/propose.js';
import { pyramidOf } from '../matching/detect.js';
import { kCenterGreedy, kMeansMedoids, typiClust } from '../selection/baselines.js';
import { globalEmbedding, stackEmbeddings } from '../selection/embeddings.js';
import {
  exhaustiveSingle,
  greedy,
  greedySwap,
  randomSearch,
  rankSingles,
  type SimilarityMatrix,
  score,
} from '../selection/search.js';
import { type Direction, similarityMatrix } from '../selection/similarity.js';
import { Rng } from '../util/random.js';
import { buildOneShotTable, type Fusion, type OneShotTable, setMre } from './oneshot-table.js';
import { type Distribution, distribution, pearson, rankAmong, spearman } from './stats.js';

export interface SelectionExperimentOptions {
  data: string;
  model: FeatureExtractor;
  inputSize: number;
  cache?: FeatureCache;
  out: string;
  budgets: number[];
  /** Random sets per budget above 1 (M = 1 uses every candidate). */
  randomSets: number;
  /** Sets the paper's random search scores, to compare greedy + swap against. */
  searchSets: number;
  keypoints: ProposalOptions;
  gridStride: number;
  ablation: boolean;
  /** The ablation's 20 tensors use this (coarser) grid to stay affordable. */
  ablationGridStride: number;
  ablationMethods: ProposalMethod[];
  ablationCounts: number[];
  seed: number;
  /**
   * test1: the reported figures. train: the pool's own images are the
   * targets (each set's templates left out) — for choosing options without
   * looking at Test1.
   */
  targets: 'test1' | 'train';
  fusion: Fusion;
  /** Use only the first images of the pool / of the targets (quick checks). */
  poolLimit?: number;
  targetLimit?: number;
  log: (line: string) => void;
  progress: (label: string, done: number, total: number) => void;
}

export interface BudgetRow {
  m: number;
  pick: string[];
  score: number;
  mre: number;
  random: Distribution;
  randomScores: number[];
  randomMres: number[];
  rank: number;
  baselines: Record<string, { pick: string[]; mre: number; score: number }>;
  /** Mean MRE of the random sets under each fusion rule. */
  fusionMeans: Record<Fusion, number>;
}

export interface SearchRow {
  m: number;
  greedy: { score: number; seconds: number; gains: number[] };
  greedySwap: { score: number; seconds: number };
  random: { score: number; seconds: number; sets: number };
}

export interface DirectionRow {
  direction: Direction;
  seconds: number;
  pearson: number;
  spearman: number;
  picks: { m: number; pick: string[]; mre: number; rank: number; of: number }[];
}

export interface AblationRow {
  method: ProposalMethod;
  k: number;
  meanKeypoints: number;
  seconds: number;
  pick: string[];
  score: number;
  mre: number;
  rank: number;
  of: number;
}

export interface SelectionExperimentResult {
  pool: number;
  targets: number;
  targetSet: 'test1' | 'train';
  fusion: Fusion;
  singles: { id: string; score: number; mre: number }[];
  budgets: BudgetRow[];
  search: SearchRow[];
  directions: DirectionRow[];
  ablation: AblationRow[];
  timings: Record<string, number>;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** Sets of m distinct indices below n, seeded; distinct from each other when there are enough. */
function randomSets(n: number, m: number, count: number, rng: Rng): number[][] {
  const seen = new Set<string>();
  const sets: number[][] = [];
  for (let tries = 0; sets.length < count && tries < count * 20; tries++) {
    const set = rng
      .permutation(n)
      .slice(0, m)
      .sort((a, b) => a - b);
    const key = set.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    sets.push(set);
  }
  return sets;
}

export async function runSelectionExperiment(
  o: SelectionExperimentOptions,
): Promise<SelectionExperimentResult> {
  const timings: Record<string, number> = {};
  const train = await loadIsbi2015(o.data, { split: 'train', groundTruth: 'mean' });
  const test = await loadIsbi2015(o.data, { split: 'test1', groundTruth: 'mean' });
  const pool = train.images
    .slice(0, o.poolLimit)
    .map((i) => ({ id: i.id, file: i.file, points: i.landmarks! }));
  const targets = (o.targets === 'train' ? train : test).images.slice(0, o.targetLimit);
  const truth: Point[][] = targets.map((i) => i.landmarks!);
  const ids = pool.map((p) => p.id);
  const detector = { model: o.model, inputSize: o.inputSize, cache: o.cache };

  // 1. One-shot peaks of every candidate on every Test1 image.
  let t0 = performance.now();
  o.log(`one-shot matching: ${pool.length} templates x ${targets.length} ${o.targets} images (resumable)`);
  const table: OneShotTable = await buildOneShotTable(pool, targets, {
    ...detector,
    file: join(o.out, `oneshot-table-${o.targets}.safetensors`),
    onProgress: (done, total) => o.progress('one-shot table', done, total),
  });
  timings.oneShotTable = seconds(t0);
  const mreOf = (set: readonly number[], fusion = o.fusion) =>
    setMre(table, set, truth, ISBI_SPACING_MM, fusion);

  // 2. The pool's features, key points, embeddings.
  t0 = performance.now();
  const pyramids: Tensor[][] = [];
  const grey: Tensor[] = [];
  for (const p of pool) {
    pyramids.push((await pyramidOf(p.file, detector)).pyramid.map((t) => t.keep()));
    const w = await loadWorkingImage(p.file, o.inputSize);
    grey.push(E.tidy(() => w.input.reshape([o.inputSize, o.inputSize]).mul(255).to('uint8')).keep());
    w.input.dispose();
    o.progress('pool features', pyramids.length, pool.length);
  }
  timings.poolFeatures = seconds(t0);
  const embeddings = stackEmbeddings(pyramids.map((p) => globalEmbedding(p)));
  try {
    const propose = (options: ProposalOptions) => grey.map((g) => proposeKeypoints(g, options));
    const matrixFor = (keypoints: Point[][], direction: Direction, gridStride = o.gridStride) =>
      similarityMatrix({ pyramids, keypoints, inputSize: o.inputSize, gridStride, direction });

    t0 = performance.now();
    const keypoints = propose(o.keypoints);
    timings.keypoints = seconds(t0);
    t0 = performance.now();
    o.log('similarity tensor (paper direction)');
    const matrix = matrixFor(keypoints, 'image-in-template');
    timings.similarity = seconds(t0);

    // 3. Singles: the score of every candidate against its one-shot MRE.
    const singleScores = new Array<number>(pool.length);
    for (const s of rankSingles(matrix)) singleScores[s.candidate] = s.score;
    const singleMres = pool.map((_, j) => mreOf([j]));
    const singles = ids.map((id, j) => ({ id, score: singleScores[j]!, mre: singleMres[j]! }));

    // 4. Per budget: the SCP pick, random sets, baselines.
    const rng = new Rng(o.seed, 0xe1);
    const pickOf = (r: SimilarityMatrix, m: number) =>
      (m === 1 ? exhaustiveSingle(r) : greedySwap(r, m)).selected;
    const budgets: BudgetRow[] = o.budgets.map((m) => {
      const pick = pickOf(matrix, m);
      const sets = m === 1 ? pool.map((_, j) => [j]) : randomSets(pool.length, m, o.randomSets, rng);
      const randomMres = sets.map((x) => mreOf(x));
      const randomScores = sets.map((s) => score(matrix, s));
      const mre = mreOf(pick);
      const named = (set: number[]) => ({
        pick: set.map((j) => ids[j]!),
        mre: mreOf(set),
        score: score(matrix, set),
      });
      const baselineRng = new Rng(o.seed, 0xba5e + m);
      return {
        m,
        pick: pick.map((j) => ids[j]!),
        score: score(matrix, pick),
        mre,
        random: distribution(randomMres),
        randomScores,
        randomMres,
        rank: rankAmong(mre, randomMres),
        fusionMeans: {
          'max-peak': distribution(sets.map((x) => mreOf(x, 'max-peak'))).mean,
          median: distribution(sets.map((x) => mreOf(x, 'median'))).mean,
        },
        baselines: {
          'k-center': named(kCenterGreedy(embeddings, m)),
          typiclust: named(typiClust(embeddings, m, baselineRng)),
          'k-means medoids': named(kMeansMedoids(embeddings, m, baselineRng)),
        },
      };
    });
    for (const b of budgets)
      o.log(
        `M=${b.m}: SCP ${b.pick.join('+')} MRE ${b.mre.toFixed(3)} mm vs random ${b.random.mean.toFixed(3)} ± ${b.random.std.toFixed(3)} (rank ${b.rank} of ${b.random.count + 1})`,
      );

    // 5. Search: greedy and greedy + swap against the paper's random sampling.
    const search: SearchRow[] = o.budgets
      .filter((m) => m > 1)
      .map((m) => {
        o.log(`search M=${m}: ${o.searchSets} random sets`);
        const g = greedy(matrix, m);
        const gs = greedySwap(matrix, m);
        const r = randomSearch(matrix, m, o.searchSets, o.seed);
        return {
          m,
          greedy: { score: g.score, seconds: g.seconds, gains: g.gains ?? [] },
          greedySwap: { score: gs.score, seconds: gs.seconds },
          random: { score: r.score, seconds: r.seconds, sets: o.searchSets },
        };
      });

    // 6. Directions: which predicts MRE better?
    const directions: DirectionRow[] = [];
    for (const direction of ['image-in-template', 'template-in-image'] as Direction[]) {
      t0 = performance.now();
      const r = direction === 'image-in-template' ? matrix : matrixFor(keypoints, direction);
      const took = direction === 'image-in-template' ? timings.similarity : seconds(t0);
      const scores = new Array<number>(pool.length);
      for (const s of rankSingles(r)) scores[s.candidate] = s.score;
      directions.push({
        direction,
        seconds: took,
        pearson: pearson(scores, singleMres),
        spearman: spearman(scores, singleMres),
        picks: budgets.map((b) => {
          const pick = pickOf(r, b.m);
          const mre = mreOf(pick);
          return {
            m: b.m,
            pick: pick.map((j) => ids[j]!),
            mre,
            rank: rankAmong(mre, b.randomMres),
            of: b.randomMres.length + 1,
          };
        }),
      });
    }

    // 7. Key point ablation (paper Tables 4-5) at the largest budget.
    const ablation: AblationRow[] = [];
    const top = budgets.at(-1)!;
    if (o.ablation) {
      for (const method of o.ablationMethods)
        for (const k of o.ablationCounts) {
          o.log(`ablation: ${method}, K=${k}`);
          t0 = performance.now();
          const kp = propose({ ...o.keypoints, method, maxPoints: k, seed: o.seed });
          const r = matrixFor(kp, 'image-in-template', o.ablationGridStride);
          const pick = pickOf(r, top.m);
          const mre = mreOf(pick);
          ablation.push({
            method,
            k,
            meanKeypoints: kp.reduce((s, p) => s + p.length, 0) / kp.length,
            seconds: seconds(t0),
            pick: pick.map((j) => ids[j]!),
            score: score(r, pick),
            mre,
            rank: rankAmong(mre, top.randomMres),
            of: top.randomMres.length + 1,
          });
        }
    }
    return {
      pool: pool.length,
      targets: targets.length,
      targetSet: o.targets,
      fusion: o.fusion,
      singles,
      budgets,
      search,
      directions,
      ablation,
      timings,
    };
  } finally {
    for (const p of pyramids) for (const t of p) t.dispose();
    for (const g of grey) g.dispose();
  }
}
