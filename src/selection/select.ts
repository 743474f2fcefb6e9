// Choosing which images of a pool to annotate (issue 5): the SCP of
// DESIGN.md steps 3-5 (key points, similarity tensor, search over template
// sets) or one of the embedding baselines, with the time of each phase.
// Reads images and the feature cache; writes only to the cache (the
// `select` command writes the outputs).
import type { Tensor } from '../engine/index.js';
import type { FeatureCache } from '../features/cache.js';
import type { FeatureExtractor } from '../features/model.js';
import { imageId } from '../io/folder.js';
import type { ProposalOptions } from '../keypoints/propose.js';
import { pyramidOf } from '../matching/detect.js';
import { Rng } from '../util/random.js';
import { kCenterGreedy, kMeansMedoids, type PointSet, randomSelection, typiClust } from './baselines.js';
import { globalEmbedding, stackEmbeddings } from './embeddings.js';
import { type ImageKeypoints, keypointsOf } from './image-keypoints.js';
import { kMedoids } from './medoids.js';
import { embeddingOf } from './pool-embeddings.js';
import { type Estimate, EXACT_LIMIT } from './pool-sample.js';
import { columnsOnQueue, type SelectionQueue } from './queue-columns.js';
import { prefixScores } from './ranking.js';
import { type ScpStrategy, searchScp } from './scp-search.js';
import type { SimilarityMatrix } from './search.js';
import { type SampleSizes, selectSampled } from './select-sampled.js';
import { DEFAULT_GRID_STRIDE, type Direction, similarityMatrix, streamedSimilarity } from './similarity.js';
import { loadMatrix, matrixKey, saveMatrix } from './similarity-cache.js';

export { type ImageKeypoints, keypointsOf } from './image-keypoints.js';
export type { SelectionQueue } from './queue-columns.js';

export const STRATEGIES = [
  'medoids',
  'scp',
  'scp-greedy',
  'scp-random',
  'random',
  'kcenter',
  'typiclust',
  'kmeans',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const isScpStrategy = (s: Strategy): s is ScpStrategy =>
  s === 'scp' || s === 'scp-greedy' || s === 'scp-random';

/** What `fewmark select` uses unless told otherwise (docs/selection.md: chosen on validation). */
export const DEFAULT_STRATEGY: Strategy = 'medoids';

/** Strategies that can choose around images labeled already (labeling in rounds). */
export const ROUND_STRATEGIES: readonly Strategy[] = ['medoids', 'scp', 'scp-greedy'];

/**
 * The strategy that actually runs: 'medoids' for a single image with none
 * labeled is the SCP's pick, which measured better than any medoid there.
 */
const effectiveStrategy = (s: Strategy, budget: number, labeled: number): Strategy =>
  s === 'medoids' && budget === 1 && labeled === 0 ? 'scp' : s;

const DEFAULT_RANDOM_SETS = 10_000;

export interface SelectionInput {
  /** The pool; every image is a candidate and every image is represented. */
  files: string[];
  budget: number;
  model: FeatureExtractor;
  inputSize: number;
  cache?: FeatureCache;
  /**
   * Default 'medoids': k-medoids on the global embeddings (one image: the
   * SCP's pick); 'scp': greedy then swaps on R (one image: all singles scored).
   */
  strategy?: Strategy;
  /** Default SIFT, at most 100 per image (propose.ts defaults otherwise). */
  keypoints?: ProposalOptions;
  direction?: Direction;
  gridStride?: number;
  /** scp-random: how many random sets to score (default 10,000). */
  randomSets?: number;
  seed?: number;
  /** Baselines: also compute the SCP matrix, to report R of their picks. */
  scoreBaselines?: boolean;
  /**
   * Pool indices of images annotated already (labeling in rounds): they
   * count as chosen, and `budget` more are picked by their gain over them.
   * Strategies 'medoids', 'scp' and 'scp-greedy' only.
   */
  labeled?: number[];
  /**
   * 'auto' (default): exact up to EXACT_LIMIT images (pool-sample.ts), then
   * sampled; 'sampled': k-medoids' C or the SCP's R estimated on a sample
   * of the pool (medoids and SCP strategies only).
   */
  scale?: Scale;
  /** Sample sizes of the sampled search (SAMPLE_DEFAULTS otherwise). */
  sample?: Partial<SampleSizes>;
  /**
   * The SCP's similarity columns (one job per candidate) on the workers of a
   * Redis queue (docs/workers.md); the model file and the pool on shared storage.
   */
  queue?: SelectionQueue;
  onProgress?: (phase: 'features' | 'similarity', done: number, total: number) => void;
  /** Stops the work between images (and between templates of the similarity tensor). */
  signal?: AbortSignal;
}

export interface RankedImage {
  rank: number;
  /** Index into the pool. */
  index: number;
  image: string;
  file: string;
  /** R of the first `rank` images; null when no SCP matrix was computed. */
  score: number | null;
  /** How much this image added to R; null likewise. */
  gain: number | null;
}

export interface PhaseTimings {
  keypoints: number;
  features: number;
  similarity: number;
  search: number;
  total: number;
}

export interface Selection {
  /** The strategy asked for ('medoids' for one image runs the SCP; see effectiveStrategy). */
  strategy: Strategy;
  budget: number;
  pool: number;
  ranked: RankedImage[];
  /** R of the whole chosen set; null when no SCP matrix was computed. */
  R: number | null;
  /** Seconds. */
  timings: PhaseTimings;
  /** Key points of the chosen images, in rank order. */
  keypoints: ImageKeypoints[];
  /** Mean key points per pool image, when the whole pool's were proposed. */
  meanKeypoints: number | null;
  /** The SCP matrix's size, when computed; cached: read back from the feature cache. */
  matrix: { rows: number; candidates: number; cached: boolean } | null;
  /** The SCP matrix itself (columns: pool images), for callers that score other sets. */
  similarity: SimilarityMatrix | null;
  /** scp-random: how many sets were scored. */
  evaluated?: number;
  /** Images annotated already that the choice was built around (ids), if any. */
  labeled: string[];
  /** Whether the whole pool was scored, or a sample of it (large pools). */
  scale: 'exact' | 'sampled';
  /** Sampled: the set score estimated on the sample, with its 95% interval. */
  estimate: SampledEstimate | null;
}

export type Scale = 'auto' | 'exact' | 'sampled';

export const SCALES: readonly Scale[] = ['auto', 'exact', 'sampled'];

export interface SampledEstimate extends Estimate {
  /** C: k-medoids' mean embedding distance to the nearest chosen image (lower is better); R: the SCP's. */
  score: 'C' | 'R';
  /** How many pool images were candidates (the SCP: screened). */
  candidates: number;
}

/** Exact or sampled, for a strategy that runs on a pool of n images. */
export function resolveScale(scale: Scale, runs: Strategy, n: number): 'exact' | 'sampled' {
  const sampleable = runs === 'medoids' || isScpStrategy(runs);
  if (scale === 'sampled' && !sampleable)
    throw new RangeError(
      `select: the sampled search works with medoids and the SCP strategies, not '${runs}'`,
    );
  if (scale !== 'auto') return scale;
  if (runs === 'medoids') return n > EXACT_LIMIT.medoids ? 'sampled' : 'exact';
  return isScpStrategy(runs) && n > EXACT_LIMIT.scp ? 'sampled' : 'exact';
}

/** The embedding strategies; the baselines each with its own random stream of the seed. */
function searchEmbeddings(
  points: PointSet,
  strategy: Strategy,
  m: number,
  seed: number,
  labeled: number[],
): number[] {
  switch (strategy) {
    case 'medoids':
      return kMedoids(points, m, labeled).order;
    case 'random':
      return randomSelection(points.count, m, new Rng(seed, 0xba5e, 1));
    case 'kcenter':
      return kCenterGreedy(points, m);
    case 'typiclust':
      return typiClust(points, m, new Rng(seed, 0xba5e, 2));
    case 'kmeans':
      return kMeansMedoids(points, m, new Rng(seed, 0xba5e, 3));
    default:
      throw new RangeError(`select: '${strategy}' is not an embedding strategy`);
  }
}

export async function selectImages(input: SelectionInput): Promise<Selection> {
  const { files, budget: m, inputSize } = input;
  const strategy = input.strategy ?? DEFAULT_STRATEGY;
  if (!STRATEGIES.includes(strategy))
    throw new RangeError(`select: strategy must be one of ${STRATEGIES.join(', ')}, got '${strategy}'`);
  const labeled = input.labeled ?? [];
  const runs = effectiveStrategy(strategy, m, labeled.length);
  if (!Number.isInteger(m) || m < 1 || m + labeled.length > files.length)
    throw new RangeError(
      `select: budget must be an integer in 1..${files.length - labeled.length} (the images not labeled yet), got ${m}`,
    );
  if (labeled.length > 0 && !ROUND_STRATEGIES.includes(strategy))
    throw new RangeError(
      `select: labeling in rounds works with the ${ROUND_STRATEGIES.join(', ')} strategies, not '${strategy}'`,
    );
  if (resolveScale(input.scale ?? 'auto', runs, files.length) === 'sampled')
    return selectLarge(input, strategy, runs as 'medoids' | ScpStrategy, labeled);
  const scp = isScpStrategy(runs);
  const needMatrix = scp || input.scoreBaselines === true;
  const keypointOptions: ProposalOptions = { method: 'sift', maxPoints: 100, ...input.keypoints };
  const timings: PhaseTimings = { keypoints: 0, features: 0, similarity: 0, search: 0, total: 0 };
  const started = performance.now();

  const poolKeypoints: ImageKeypoints[] = [];
  const embeddings: Float32Array[] = [];
  const pyramids: Tensor[][] = [];
  let matrix: SimilarityMatrix | undefined;
  // A matrix computed before for the same pool, model and options.
  const key =
    needMatrix && input.cache
      ? await matrixKey(input.cache, {
          files,
          inputSize,
          keypoints: keypointOptions,
          direction: input.direction ?? 'image-in-template',
          gridStride: input.gridStride ?? DEFAULT_GRID_STRIDE,
        })
      : undefined;
  if (key) matrix = await loadMatrix(input.cache!, key);
  const cached = matrix !== undefined;
  // The paper direction streams (one pyramid in memory, read back from the
  // cache); the reference code's direction keeps every pyramid in memory.
  const paperDirection = (input.direction ?? 'image-in-template') === 'image-in-template';
  const pyramidOptions = { model: input.model, inputSize, cache: input.cache };
  try {
    for (const [i, file] of files.entries()) {
      input.signal?.throwIfAborted();
      let t = performance.now();
      if (needMatrix) poolKeypoints.push(await keypointsOf(file, inputSize, keypointOptions));
      timings.keypoints += since(t);
      t = performance.now();
      if (needMatrix && !matrix && !paperDirection) {
        const { pyramid } = await pyramidOf(file, pyramidOptions);
        if (!scp) embeddings.push(globalEmbedding(pyramid));
        pyramids.push(pyramid.map((layer) => layer.keep()));
      } else if (!scp) {
        // One pyramid at a time; the embedding is cached beside it.
        embeddings.push(await embeddingOf(file, pyramidOptions));
      }
      timings.features += since(t);
      input.onProgress?.('features', i + 1, files.length);
    }
    if (needMatrix && poolKeypoints.every((k) => k.points.length === 0))
      throw new Error(
        `select: no ${keypointOptions.method} key points in any image; lower the contrast threshold (0.01 for hands) or use grid key points`,
      );
    if (needMatrix && !matrix) {
      const t = performance.now();
      const onProgress = (done: number, total: number) => {
        input.signal?.throwIfAborted();
        input.onProgress?.('similarity', done, total);
      };
      const pyramid = async (i: number) => (await pyramidOf(files[i]!, pyramidOptions)).pyramid;
      matrix = paperDirection
        ? await streamedSimilarity({
            rowImages: files.length,
            candidates: files.length,
            rowPyramid: pyramid,
            candidatePyramid: pyramid,
            keypoints: poolKeypoints.map((k) => k.points),
            inputSize,
            gridStride: input.gridStride,
            onProgress,
            columnsElsewhere:
              input.queue &&
              ((stacked) =>
                columnsOnQueue(input.queue!, inputSize, input.gridStride, onProgress)(stacked, files)),
          })
        : similarityMatrix({
            pyramids,
            keypoints: poolKeypoints.map((k) => k.points),
            inputSize,
            gridStride: input.gridStride,
            direction: input.direction,
            onProgress,
          });
      timings.similarity = since(t);
      if (key) await saveMatrix(input.cache!, key, matrix);
    }
  } finally {
    for (const pyramid of pyramids) for (const layer of pyramid) layer.dispose();
  }

  let t = performance.now();
  const found = scp
    ? searchScp(matrix!, runs, m, {
        labeled,
        randomSets: input.randomSets ?? DEFAULT_RANDOM_SETS,
        seed: input.seed ?? 0,
      })
    : { order: searchEmbeddings(stackEmbeddings(embeddings), runs, m, input.seed ?? 0, labeled) };
  const scores = matrix ? prefixScores(matrix, found.order, labeled) : null;
  timings.search = since(t);

  t = performance.now();
  const keypoints: ImageKeypoints[] = [];
  for (const i of found.order)
    keypoints.push(poolKeypoints[i] ?? (await keypointsOf(files[i]!, inputSize, keypointOptions)));
  timings.keypoints += since(t);
  timings.total = since(started);

  return {
    strategy,
    budget: m,
    pool: files.length,
    ranked: rankedOf(files, found.order, scores),
    R: scores ? scores[scores.length - 1]!.score : null,
    timings,
    keypoints,
    meanKeypoints: needMatrix
      ? poolKeypoints.reduce((s, k) => s + k.points.length, 0) / poolKeypoints.length
      : null,
    matrix: matrix ? { rows: matrix.rows, candidates: matrix.candidates, cached } : null,
    similarity: matrix ?? null,
    ...('evaluated' in found ? { evaluated: found.evaluated } : {}),
    labeled: labeled.map((i) => imageId(files[i]!)),
    scale: 'exact',
    estimate: null,
  };
}

/** The sampled search (select-sampled.ts), as a Selection. */
async function selectLarge(
  input: SelectionInput,
  strategy: Strategy,
  runs: 'medoids' | ScpStrategy,
  labeled: number[],
): Promise<Selection> {
  const started = performance.now();
  const keypointOptions: ProposalOptions = { method: 'sift', maxPoints: 100, ...input.keypoints };
  if ((input.direction ?? 'image-in-template') !== 'image-in-template')
    throw new RangeError(
      'select: the sampled SCP searches image key points in templates (the paper direction) only',
    );
  const found = await selectSampled({
    files: input.files,
    budget: input.budget,
    strategy: runs,
    model: input.model,
    inputSize: input.inputSize,
    cache: input.cache,
    labeled,
    seed: input.seed ?? 0,
    keypoints: keypointOptions,
    gridStride: input.gridStride,
    randomSets: input.randomSets ?? DEFAULT_RANDOM_SETS,
    sample: input.sample,
    queue: input.queue,
    onProgress: input.onProgress,
    signal: input.signal,
  });
  const t = performance.now();
  const keypoints: ImageKeypoints[] = [];
  for (const i of found.order)
    keypoints.push(
      found.keypoints.get(i) ?? (await keypointsOf(input.files[i]!, input.inputSize, keypointOptions)),
    );
  const { files } = input;
  const timings: PhaseTimings = {
    ...found.seconds,
    keypoints: found.seconds.keypoints + since(t),
    total: 0,
  };
  timings.total = since(started);
  return {
    strategy,
    budget: input.budget,
    pool: files.length,
    ranked: rankedOf(files, found.order, found.prefix),
    R: found.score === 'R' ? found.estimate.value : null,
    timings,
    keypoints,
    meanKeypoints: null,
    matrix: found.matrix ? { ...found.matrix, cached: false } : null,
    similarity: null,
    ...(found.evaluated !== undefined ? { evaluated: found.evaluated } : {}),
    labeled: labeled.map((i) => imageId(files[i]!)),
    scale: 'sampled',
    estimate: { ...found.estimate, score: found.score, candidates: found.candidates },
  };
}

const since = (t: number) => (performance.now() - t) / 1000;

/** The chosen images as a ranked list, with each prefix's R and gain when there are any. */
function rankedOf(
  files: readonly string[],
  order: readonly number[],
  prefix: readonly { score: number; gain: number }[] | null,
): RankedImage[] {
  return order.map((index, k) => ({
    rank: k + 1,
    index,
    image: imageId(files[index]!),
    file: files[index]!,
    score: prefix ? prefix[k]!.score : null,
    gain: prefix ? prefix[k]!.gain : null,
  }));
}
