// The `similarity` job: one candidate template's column of the SCP's
// similarity matrix (selection/similarity.ts): every pool key point's best
// match in that image. The coordinator writes the stacked key point
// descriptors once to the model's cache folder (shared storage); each job
// reads them (kept per worker), scores one candidate and writes the column
// as a Float32 result file keyed by the weights, the descriptors, the image
// and the grid, so a job done twice writes it once.
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileKey, hashOf } from '../api/content-key.js';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { FeatureCache } from '../features/cache.js';
import { pyramidOf } from '../matching/detect.js';
import { similarityColumn } from '../selection/similarity.js';
import { readFloat32Result, writeFloat32Result } from '../util/result-file.js';
import type { JobKind } from './kinds.js';
import { runOnQueue } from './run.js';

export interface SimilarityJob {
  /** The extractor file (absolute). */
  model: string;
  /** The stacked descriptors ([layers, rows, C] safetensors, absolute) and their content key. */
  descriptors: string;
  descriptorsKey: string;
  /** The candidate image (absolute). */
  file: string;
  gridStride: number;
  /** The column's result file (absolute). */
  out: string;
}

/** The last descriptors a worker read: one selection runs many jobs on the same. */
let held: { key: string; stacked: Tensor } | undefined;

async function descriptorsOf(path: string, key: string): Promise<Tensor> {
  if (held?.key === key) return held.stacked;
  const { tensors } = await E.loadSafetensors(path);
  held?.stacked.dispose();
  held = { key, stacked: tensors.stacked!.keep() };
  return held.stacked;
}

export const similarityJob: JobKind<SimilarityJob> = {
  async run(input, { models }) {
    const { model, key } = await models.model({ model: input.model });
    if (model.kind !== 'extractor') throw new Error(`${input.model}: not a trained extractor`);
    const resultKey = hashOf(key, input.descriptorsKey, await fileKey(input.file), String(input.gridStride));
    if (await readFloat32Result(input.out, resultKey)) return 'already done';
    const stacked = await descriptorsOf(input.descriptors, input.descriptorsKey);
    const { pyramid } = await pyramidOf(input.file, {
      model: model.network,
      inputSize: model.inputSize,
      cache: model.cache,
    });
    const threads = E.threads();
    E.threads(1); // many small products: faster on one thread (similarity.ts)
    try {
      await writeFloat32Result(
        input.out,
        resultKey,
        similarityColumn(stacked, pyramid, model.inputSize, input.gridStride),
      );
    } finally {
      E.threads(threads);
      for (const layer of pyramid) layer.dispose();
    }
    return 'scored';
  },
};

export interface SimilarityColumnsInput {
  /** The extractor file (absolute). */
  model: string;
  /** The candidate images (absolute), one column each. */
  candidates: readonly string[];
  inputSize: number;
  gridStride: number;
  /** The rows' descriptors, [layers, rows, C]. */
  stacked: Tensor;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Every candidate's column, computed by the queue's workers; the files they used are removed after. */
export async function similarityColumnsOnQueue(
  url: string,
  o: SimilarityColumnsInput,
): Promise<Float32Array[]> {
  const cache = await FeatureCache.open(join(dirname(o.model), 'cache'), o.model);
  const bytes = E.encodeSafetensors({ stacked: o.stacked });
  const hash = createHash('sha256');
  for (const part of bytes) hash.update(part);
  const descriptorsKey = hash.digest('hex').slice(0, 32);
  const descriptors = join(cache.dir, `descriptors-${descriptorsKey}.safetensors`);
  const columns = join(cache.dir, `columns-${descriptorsKey}`);
  await E.saveSafetensors(descriptors, { stacked: o.stacked });
  await mkdir(columns, { recursive: true });
  const outOf = (j: number) => join(columns, `${j}.f32`);
  try {
    await runOnQueue<SimilarityJob>(
      url,
      'similarity',
      o.candidates.map((file, j) => ({
        id: hashOf(descriptorsKey, file, String(o.gridStride)),
        data: { model: o.model, descriptors, descriptorsKey, file, gridStride: o.gridStride, out: outOf(j) },
        label: file,
      })),
      { onProgress: o.onProgress, signal: o.signal },
    );
    const rows = o.stacked.shape[1]!;
    const out: Float32Array[] = [];
    for (const [j, file] of o.candidates.entries()) {
      const column = await readFloat32Result(outOf(j));
      if (!column || column.length !== rows)
        throw new Error(`${file}: its similarity column is missing after the queue ran`);
      out.push(column);
    }
    return out;
  } finally {
    await rm(columns, { recursive: true, force: true });
    await rm(descriptors, { force: true });
  }
}
