// Selection for pools too large to score every image against every other
// (pool-sample.ts): k-medoids over a random sample of candidates with C
// exact, or the SCP with R estimated on the key points of a sample of
// images and the best of a screened random sample as candidates. One feature pyramid is in
// memory at a time; the embeddings (N x 512 floats) are what grows with N.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { FeatureCache } from '../features/cache.js';
import type { FeatureExtractor } from '../features/model.js';
import type { ProposalOptions } from '../keypoints/propose.js';
import { pyramidOf } from '../matching/detect.js';
import { type ImageKeypoints, keypointsOf } from './image-keypoints.js';
import { poolEmbeddings } from './pool-embeddings.js';
import { type Estimate, kMedoidsSampled, ratioEstimate, SAMPLE_DEFAULTS, samplePool } from './pool-sample.js';
import { columnsOnQueue, type SelectionQueue } from './queue-columns.js';
import { prefixScores } from './ranking.js';
import { type ScpStrategy, searchScp } from './scp-search.js';
import type { SimilarityMatrix } from './search.js';
import { DEFAULT_GRID_STRIDE, describeRows, similarityColumn } from './similarity.js';

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
  /** How many images the score was estimated on, and how many were candidates (SCP: screened). */
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
      candidates: found.candidates,
      matrix: null,
      keypoints: new Map(),
      seconds,
    };
  }

  // The SCP: R on the key points of a sample of images; a random sample of
  // candidates screened on the first few of those images, and the best
  // screened ones scored on all of them (successive halving). Typical images
  // by embedding are not the SCP's best (measured: the best single of a
  // 200-image pool was 179th by centrality), so candidates are random.
  const rowImages = samplePool(n, sizes.scpImages, input.seed);
  const pinned = new Set(input.labeled);
  const screened = [
    ...input.labeled,
    ...samplePool(n, sizes.scpCandidates, input.seed + 1).filter((i) => !pinned.has(i)),
  ];
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
  const pyramidOptions = { model: input.model, inputSize: input.inputSize, cache: input.cache };
  const onQueue =
    input.queue &&
    columnsOnQueue(input.queue, input.inputSize, input.gridStride, (done, total) =>
      input.onProgress?.('similarity', done, total),
    );
  const stride = input.gridStride ?? DEFAULT_GRID_STRIDE;
  let progress = 0;
  const columnsOf = async (rows: Tensor, pool: number[]): Promise<Float32Array[]> => {
    if (onQueue)
      return onQueue(
        rows,
        pool.map((i) => input.files[i]!),
      );
    const out: Float32Array[] = [];
    for (const i of pool) {
      input.signal?.throwIfAborted();
      const { pyramid } = await pyramidOf(input.files[i]!, pyramidOptions);
      try {
        out.push(similarityColumn(rows, pyramid, input.inputSize, stride));
      } finally {
        for (const layer of pyramid) layer.dispose();
      }
      input.onProgress?.('similarity', ++progress, screened.length + sizes.scpFinalists);
    }
    return out;
  };
  const rowCounts = rowImages.map((i) => keypoints.get(i)!.points.length);
  const threads = E.threads();
  E.threads(1); // many small products (similarity.ts)
  let stacked: Tensor | undefined;
  let matrix: SimilarityMatrix;
  let candidates: number[];
  try {
    stacked = await describeRows({
      rowImages: rowImages.length,
      rowPyramid: async (r) => (await pyramidOf(input.files[rowImages[r]!]!, pyramidOptions)).pyramid,
      keypoints: rowImages.map((i) => keypoints.get(i)!.points),
      inputSize: input.inputSize,
    });
    const screenRows = rowCounts.slice(0, sizes.scpScreenImages).reduce((a, b) => a + b, 0);
    const screen = stacked.narrow(1, 0, Math.max(1, screenRows)).contiguous();
    let screenColumns: Float32Array[];
    try {
      screenColumns = await columnsOf(screen, screened);
    } finally {
      screen.dispose();
    }
    const meanOf = (c: Float32Array) => c.reduce((a, b) => a + b, 0) / c.length;
    const ranked = screened
      .map((i, c) => ({ i, score: meanOf(screenColumns[c]!) }))
      .filter(({ i }) => !pinned.has(i))
      .sort((a, b) => b.score - a.score || a.i - b.i);
    candidates = [...input.labeled, ...ranked.slice(0, sizes.scpFinalists).map((r) => r.i)];
    if (input.budget + input.labeled.length > candidates.length)
      throw new RangeError(
        `select: budget ${input.budget} is more than the ${candidates.length - input.labeled.length} finalists of the sampled SCP; use --scale exact`,
      );
    const columns = await columnsOf(stacked, candidates);
    const rows = stacked.shape[1]!;
    const values = new Float32Array(rows * candidates.length);
    for (const [c, column] of columns.entries())
      for (let r = 0; r < rows; r++) values[r * candidates.length + c] = column[r]!;
    matrix = { rows, candidates: candidates.length, values };
  } finally {
    stacked?.dispose();
    E.threads(threads);
  }
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
  const estimate = rEstimate(matrix, rowCounts, [...labeledColumns, ...found.order], n);
  seconds.search = since(t);
  return {
    order: found.order.map((c) => candidates[c]!),
    prefix,
    estimate,
    score: 'R',
    represented: rowImages.length,
    candidates: screened.length,
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
