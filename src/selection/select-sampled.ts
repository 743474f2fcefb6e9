// Selection for pools too large to score every image against every other
// (pool-sample.ts): k-medoids with C estimated on a sample of the pool, or
// the SCP with R estimated on the key points of a sample of images and the
// most central images by embedding as candidates. One feature pyramid is in
// memory at a time; the embeddings (N x 512 floats) are what grows with N.
import type { Tensor } from '../engine/index.js';
import type { FeatureCache } from '../features/cache.js';
import type { FeatureExtractor } from '../features/model.js';
import type { ProposalOptions } from '../keypoints/propose.js';
import { pyramidOf } from '../matching/detect.js';
import { type ImageKeypoints, keypointsOf } from './image-keypoints.js';
import { poolEmbeddings } from './pool-embeddings.js';
import {
  centralImages,
  type Estimate,
  kMedoidsSampled,
  ratioEstimate,
  SAMPLE_DEFAULTS,
  samplePool,
} from './pool-sample.js';
import { columnsOnQueue, type SelectionQueue } from './queue-columns.js';
import { prefixScores } from './ranking.js';
import { type ScpStrategy, searchScp } from './scp-search.js';
import type { SimilarityMatrix } from './search.js';
import { streamedSimilarity } from './similarity.js';

export type SampleSizes = { -readonly [K in keyof typeof SAMPLE_DEFAULTS]: number };

export interface SampledInput {
  files: string[];
  budget: number;
  strategy: 'medoids' | ScpStrategy;
  model: FeatureExtractor;
  inputSize: number;
  cache?: FeatureCache;
  labeled: readonly number[];
  seed: number;
  keypoints: ProposalOptions;
  gridStride?: number;
  randomSets: number;
  sample?: Partial<SampleSizes>;
  /** The similarity columns on a queue's workers. */
  queue?: SelectionQueue;
  onProgress?: (phase: 'features' | 'similarity', done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SampledChoice {
  /** The new images (pool indices), in greedy order. */
  order: number[];
  /** SCP: R estimated after each image of `order` and its gain; null for k-medoids. */
  prefix: { score: number; gain: number }[] | null;
  /** The set score estimated on the sample: C (k-medoids, lower is better) or R (SCP). */
  estimate: Estimate;
  score: 'C' | 'R';
  /** How many images the score was estimated on, and how many were candidates. */
  represented: number;
  candidates: number;
  /** SCP: the sampled matrix's size. */
  matrix: { rows: number; candidates: number } | null;
  /** Key points of the row images already proposed (pool index -> key points). */
  keypoints: Map<number, ImageKeypoints>;
  evaluated?: number;
  seconds: { features: number; keypoints: number; similarity: number; search: number };
}

const since = (t: number) => (performance.now() - t) / 1000;

export async function selectSampled(input: SampledInput): Promise<SampledChoice> {
  const sizes: SampleSizes = { ...SAMPLE_DEFAULTS, ...input.sample };
  const n = input.files.length;
  const seconds = { features: 0, keypoints: 0, similarity: 0, search: 0 };
  let t = performance.now();
  // Pyramids of large pools are not kept on disk (60 GB at 10,000 images); the embeddings are.
  const points = await poolEmbeddings(input.files, {
    model: input.model,
    inputSize: input.inputSize,
    cache: input.cache,
    keepPyramids: false,
    signal: input.signal,
    onProgress: (done, total) => input.onProgress?.('features', done, total),
  });
  seconds.features = since(t);

  if (input.strategy === 'medoids') {
    t = performance.now();
    const found = kMedoidsSampled(points, input.budget, input.labeled, sizes.medoidCandidates, input.seed);
    seconds.search = since(t);
    return {
      order: found.order,
      prefix: null,
      estimate: found.estimate,
      score: 'C',
      represented: found.estimate.sample,
      candidates: n,
      matrix: null,
      keypoints: new Map(),
      seconds,
    };
  }

  // SCP: rows from a sample of images, columns for the most central images (labeled ones always in).
  const rowImages = samplePool(n, sizes.scpImages, input.seed);
  const candidates = centralImages(
    points,
    rowImages,
    sizes.scpCandidates + input.labeled.length,
    input.labeled,
  );
  if (input.budget + input.labeled.length > candidates.length)
    throw new RangeError(
      `select: budget ${input.budget} is more than the ${candidates.length - input.labeled.length} candidates of the sampled SCP; raise the candidates or use --scale exact`,
    );
  t = performance.now();
  const keypoints = new Map<number, ImageKeypoints>();
  for (const i of rowImages) {
    input.signal?.throwIfAborted();
    keypoints.set(i, await keypointsOf(input.files[i]!, input.inputSize, input.keypoints));
  }
  seconds.keypoints = since(t);
  if ([...keypoints.values()].every((k) => k.points.length === 0))
    throw new Error(
      `select: no ${input.keypoints.method} key points in any sampled image; lower the contrast threshold or use grid key points`,
    );
  t = performance.now();
  const pyramid = async (i: number): Promise<Tensor[]> =>
    (await pyramidOf(input.files[i]!, { model: input.model, inputSize: input.inputSize, cache: input.cache }))
      .pyramid;
  const matrix: SimilarityMatrix = await streamedSimilarity({
    rowImages: rowImages.length,
    candidates: candidates.length,
    rowPyramid: (r) => pyramid(rowImages[r]!),
    candidatePyramid: (c) => {
      input.signal?.throwIfAborted();
      return pyramid(candidates[c]!);
    },
    keypoints: rowImages.map((i) => keypoints.get(i)!.points),
    inputSize: input.inputSize,
    gridStride: input.gridStride,
    onProgress: (done, total) => input.onProgress?.('similarity', done, total),
    columnsElsewhere:
      input.queue &&
      columnsOnQueue(
        input.queue,
        candidates.map((i) => input.files[i]!),
        input.inputSize,
        input.gridStride,
        (done, total) => input.onProgress?.('similarity', done, total),
      ),
  });
  seconds.similarity = since(t);

  t = performance.now();
  const column = new Map(candidates.map((i, c) => [i, c]));
  const labeledColumns = input.labeled.map((i) => column.get(i)!);
  const found = searchScp(matrix, input.strategy, input.budget, {
    labeled: labeledColumns,
    randomSets: input.randomSets,
    seed: input.seed,
  });
  const prefix = prefixScores(matrix, found.order, labeledColumns);
  const estimate = rEstimate(
    matrix,
    rowImages.map((i) => keypoints.get(i)!.points.length),
    [...labeledColumns, ...found.order],
    n,
  );
  seconds.search = since(t);
  return {
    order: found.order.map((c) => candidates[c]!),
    prefix,
    estimate,
    score: 'R',
    represented: rowImages.length,
    candidates: candidates.length,
    matrix: { rows: matrix.rows, candidates: matrix.candidates },
    keypoints,
    ...(found.evaluated !== undefined ? { evaluated: found.evaluated } : {}),
    seconds,
  };
}

/** R of `set` on the sampled rows, with an interval over the sampled images (rows come in per-image blocks). */
function rEstimate(r: SimilarityMatrix, rowsPerImage: number[], set: readonly number[], population: number) {
  const sums: number[] = [];
  let row = 0;
  for (const count of rowsPerImage) {
    let sum = 0;
    for (let k = 0; k < count; k++, row++) {
      let best = 0;
      for (const j of set) best = Math.max(best, r.values[row * r.candidates + j]!);
      sum += best;
    }
    sums.push(sum);
  }
  return ratioEstimate(sums, rowsPerImage, population);
}
