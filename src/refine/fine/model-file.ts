// The fine stage on disk, beside the first stage in a refined model's
// folder: fine.safetensors (weights, with its metadata inside) and, while
// training, fine-checkpoint.safetensors (optimiser state and progress,
// util/training-checkpoint.ts) so a stopped run resumes exactly.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from '../../engine/index.js';
import { checkSavedTrunk } from '../../features/unet.js';
import {
  type CheckpointProgress,
  type LoadedCheckpoint,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
} from '../../util/training-checkpoint.js';
import { RefineNet, type RefineNetConfig } from '../model.js';
import type { VoteOptions } from '../vote.js';

export const FINE_FILE = 'fine.safetensors';
export const FINE_CHECKPOINT_FILE = 'fine-checkpoint.safetensors';
const FORMAT = 'fewmark-fine/1';

export interface FineMeta {
  format: typeof FORMAT;
  net: RefineNetConfig;
  longSide: number;
  crop: number;
  radius: number;
  minConfidence: number;
  vote: Omit<VoteOptions, 'stride' | 'radius'>;
  landmarks: string[];
  steps: number;
  trainSeconds: number;
}

export const hasFineStage = (dir: string) => existsSync(join(dir, FINE_FILE));

export async function saveFine(dir: string, model: RefineNet, meta: FineMeta): Promise<void> {
  await E.saveSafetensors(join(dir, FINE_FILE), model.stateDict(), {
    format: FORMAT,
    meta: JSON.stringify(meta),
  });
}

export async function loadFine(dir: string): Promise<{ model: RefineNet; meta: FineMeta }> {
  const path = join(dir, FINE_FILE);
  const { tensors, metadata } = await E.loadSafetensors(path);
  if (metadata.format !== FORMAT || !metadata.meta) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new Error(`${path}: not a fewmark fine stage (format '${metadata.format ?? 'none'}')`);
  }
  const meta = JSON.parse(metadata.meta) as FineMeta;
  checkSavedTrunk(meta.net, path);
  const model = new RefineNet(meta.net);
  model.loadStateDict(tensors, path);
  for (const t of Object.values(tensors)) t.dispose();
  model.eval();
  return { model, meta };
}

export interface FineProgress extends CheckpointProgress {
  /** What the run trains on, to refuse resuming on other data. */
  dataKey: string;
}

export async function saveFineCheckpoint(
  path: string,
  model: RefineNet,
  optimizer: E.Optimizer,
  progress: FineProgress,
  trainConfig: unknown,
): Promise<void> {
  await saveTrainingCheckpoint(path, model, optimizer, progress, trainConfig, {
    format: `${FORMAT}-checkpoint`,
  });
}

export const loadFineCheckpoint = (path: string): Promise<LoadedCheckpoint<FineProgress>> =>
  loadTrainingCheckpoint<FineProgress>(
    path,
    'fine-stage checkpoint',
    (m) => m.format === `${FORMAT}-checkpoint`,
  );
