// What the selection benchmarks measure sets with, on ISBI 2015: the pool
// (the 150 training images), the one-shot table of every template on every
// target (resumable, kept in `out`), the SCP's similarity matrix as
// `fewmark select` builds it with each image's key point count, and the
// global embeddings k-medoids and the baselines use. Labels are used only
// to measure.
import { join, resolve } from 'node:path';
import { radialErrorMm } from '../src/eval/metrics.js';
import { buildOneShotTable, type OneShotTable } from '../src/experiment/oneshot-table.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import type { Dataset, Point } from '../src/io/types.js';
import { pyramidOf } from '../src/matching/detect.js';
import { type PointSet, pairwiseDistances } from '../src/selection/baselines.js';
import { globalEmbedding, stackEmbeddings } from '../src/selection/embeddings.js';
import type { SimilarityMatrix } from '../src/selection/search.js';
import { keypointsOf, selectImages } from '../src/selection/select.js';

export interface SelectionPool {
  /** The extractor's training steps, for the report. */
  steps: number;
  pool: { id: string; file: string; points: Point[] }[];
  targets: Dataset;
  truth: Point[][];
  table: OneShotTable;
  /** r[p, j]: the pool's key points (grouped by image, in pool order) x the pool's images. */
  matrix: SimilarityMatrix;
  keypointCounts: number[];
  embeddings: PointSet;
  /** Embedding distances, pool x pool. */
  distances: Float64Array;
}

export async function loadSelectionPool(o: {
  model: string;
  data: string;
  targets: 'train' | 'test1';
  out: string;
}): Promise<SelectionPool> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const modelFile = join(resolve(o.model), EXTRACTOR_FILE);
  const { model, meta } = await loadExtractor(modelFile);
  try {
    const cache = await FeatureCache.open(join(resolve(o.model), 'cache'), modelFile);
    const train = await loadIsbi2015(resolve(o.data), { split: 'train', groundTruth: 'mean' });
    const targets =
      o.targets === 'train'
        ? train
        : await loadIsbi2015(resolve(o.data), { split: 'test1', groundTruth: 'mean' });
    const pool = train.images.map((i) => ({ id: i.id, file: i.file, points: i.landmarks! }));

    log(
      `one-shot table: ${pool.length} templates x ${targets.images.length} ${o.targets} images (resumable)`,
    );
    const table = await buildOneShotTable(pool, targets.images, {
      model,
      inputSize: meta.inputSize,
      cache,
      file: join(resolve(o.out), `oneshot-table-${o.targets}.safetensors`),
      onProgress: (done, n) => process.stderr.write(`\r  ${done}/${n} templates`),
    });
    log('');

    log('pool: SCP matrix (as fewmark select), key points, embeddings');
    const files = pool.map((p) => p.file);
    const matrix = (
      await selectImages({ files, budget: 1, model, inputSize: meta.inputSize, cache, strategy: 'scp' })
    ).similarity!;
    const keypointCounts: number[] = [];
    const rows: Float32Array[] = [];
    for (const file of files) {
      keypointCounts.push(
        (await keypointsOf(file, meta.inputSize, { method: 'sift', maxPoints: 100 })).points.length,
      );
      const { pyramid } = await pyramidOf(file, { model, inputSize: meta.inputSize, cache });
      rows.push(globalEmbedding(pyramid));
      for (const t of pyramid) t.dispose();
    }
    if (keypointCounts.reduce((x, y) => x + y, 0) !== matrix.rows)
      throw new Error('key point counts do not match the SCP matrix rows');
    const embeddings = stackEmbeddings(rows);
    return {
      steps: meta.steps,
      pool,
      targets,
      truth: targets.images.map((i) => i.landmarks!),
      table,
      matrix,
      keypointCounts,
      embeddings,
      distances: pairwiseDistances(embeddings),
    };
  } finally {
    model.dispose();
  }
}

/** Per template and target: mean radial error (mm) of one-shot matching; per template: its mean over targets (own image left out). */
export function oneShotPairErrors(t: OneShotTable, gt: Point[][], poolIds: string[]) {
  const I = t.targets.length;
  const pair = t.templates.map((_, j) =>
    Float64Array.from({ length: I }, (_, i) => {
      let s = 0;
      for (let l = 0; l < t.landmarks; l++) {
        const k = (j * I + i) * t.landmarks + l;
        s += radialErrorMm({ x: t.x[k]!, y: t.y[k]! }, gt[i]![l]!, ISBI_SPACING_MM);
      }
      return s / t.landmarks;
    }),
  );
  const template = pair.map((row, j) => {
    let s = 0;
    let c = 0;
    row.forEach((e, i) => {
      if (poolIds[j] !== undefined && t.targets[i] === poolIds[j]) return;
      s += e;
      c++;
    });
    return s / c;
  });
  return { pair, template };
}
