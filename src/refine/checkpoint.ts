// A refined model on disk is a folder: refined.safetensors (weights, with
// the metadata inside too) and refined.json (the same metadata, for people
// and for `fewmark detect` to recognise the folder). The training
// checkpoint beside them adds optimiser state, the sampler's RNG state and
// progress (util/training-checkpoint.ts), so a resumed run continues
// exactly where the stopped one was.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from '../engine/index.js';
import { checkSavedTrunk } from '../features/unet.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import {
  type CheckpointProgress,
  type LoadedCheckpoint,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
} from '../util/training-checkpoint.js';
import { RefineNet, type RefineNetConfig } from './model.js';
import type { Box } from './region.js';
import type { VoteOptions } from './vote.js';

export const REFINED_FILE = 'refined.safetensors';
const REFINED_META_FILE = 'refined.json';
export const REFINE_CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'fewmark-refined/1';

export interface RefinedMeta {
  format: typeof FORMAT;
  net: RefineNetConfig;
  inputSize: number;
  /** Target disk radius in working pixels. */
  radius: number;
  landmarks: string[];
  vote: Omit<VoteOptions, 'stride' | 'radius'>;
  /** The extractor whose template matching made the pseudo-labels. */
  extractor: { path: string; sha256: string };
  templates: string[];
  pseudoLabeled: number;
  steps: number;
  /** Seconds of training so far; absent in older models. */
  trainSeconds?: number;
  /** Per landmark, where inference looks (region.ts); absent in older models. */
  regions?: (Box | null)[];
}

export const isRefinedModel = (path: string) =>
  existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, REFINED_META_FILE));

export async function saveRefined(dir: string, model: RefineNet, meta: RefinedMeta): Promise<void> {
  await E.saveSafetensors(join(dir, REFINED_FILE), model.stateDict(), {
    format: FORMAT,
    meta: JSON.stringify(meta),
  });
  await writeFileAtomic(join(dir, REFINED_META_FILE), `${JSON.stringify(meta, null, 1)}\n`);
}

export async function loadRefined(dir: string): Promise<{ model: RefineNet; meta: RefinedMeta }> {
  const path = join(dir, REFINED_FILE);
  if (!existsSync(path))
    throw new Error(`${dir}: no refined model (${REFINED_FILE}); train one by refinement first`);
  const { tensors, metadata } = await E.loadSafetensors(path);
  if (metadata.format !== FORMAT || !metadata.meta)
    throw new Error(`${path}: not a fewmark refined model (format '${metadata.format ?? 'none'}')`);
  const meta = JSON.parse(metadata.meta) as RefinedMeta;
  checkSavedTrunk(meta.net, path);
  const model = new RefineNet(meta.net);
  model.loadStateDict(tensors, path);
  for (const t of Object.values(tensors)) t.dispose();
  model.eval();
  return { model, meta };
}

/** A refined.json, for tools that only need the landmark names and sizes. */
export async function readRefinedMeta(dir: string): Promise<RefinedMeta> {
  return JSON.parse(await readFile(join(dir, REFINED_META_FILE), 'utf8')) as RefinedMeta;
}

export interface RefineProgress extends CheckpointProgress {
  /** What the run trains on (sample ids and labeled flags), to refuse resuming on other data. */
  dataKey: string;
}

export async function saveRefineCheckpoint(
  path: string,
  model: RefineNet,
  optimizer: E.Optimizer,
  progress: RefineProgress,
  trainConfig: unknown,
): Promise<void> {
  await saveTrainingCheckpoint(path, model, optimizer, progress, trainConfig, {
    format: `${FORMAT}-checkpoint`,
  });
}

export const loadRefineCheckpoint = (path: string): Promise<LoadedCheckpoint<RefineProgress>> =>
  loadTrainingCheckpoint<RefineProgress>(
    path,
    'refinement checkpoint',
    (m) => m.format === `${FORMAT}-checkpoint`,
  );
