// Extractor weights and training checkpoints on disk (safetensors). The
// weights file carries the model config, so `detect` needs nothing else;
// the checkpoint (util/training-checkpoint.ts) adds optimiser state, the
// sampler's RNG state and progress, so a resumed run continues exactly
// where the stopped one was.

import * as E from '../engine/index.js';
import {
  type CheckpointProgress,
  type LoadedCheckpoint,
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
} from '../util/training-checkpoint.js';
import { type ExtractorConfig, FeatureExtractor } from './model.js';
import { checkSavedTrunk } from './unet.js';

export const EXTRACTOR_FILE = 'extractor.safetensors';
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export interface ExtractorMeta {
  config: ExtractorConfig;
  inputSize: number;
  steps: number;
}

export async function saveExtractor(
  path: string,
  model: FeatureExtractor,
  meta: ExtractorMeta,
): Promise<void> {
  await E.saveSafetensors(path, model.stateDict(), {
    format: 'fewmark-extractor/1',
    meta: JSON.stringify(meta),
  });
}

export async function loadExtractor(path: string): Promise<{ model: FeatureExtractor; meta: ExtractorMeta }> {
  const { tensors, metadata } = await E.loadSafetensors(path);
  if (metadata.format !== 'fewmark-extractor/1' || !metadata.meta)
    throw new Error(`${path}: not a fewmark feature extractor (format '${metadata.format ?? 'none'}')`);
  const meta = JSON.parse(metadata.meta) as ExtractorMeta;
  checkSavedTrunk(meta.config, path);
  const model = new FeatureExtractor(meta.config);
  const weights = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('optim.')));
  model.loadStateDict(weights, path);
  for (const t of Object.values(tensors)) t.dispose();
  model.eval();
  return { model, meta };
}

export type TrainProgress = CheckpointProgress;

export async function saveCheckpoint(
  path: string,
  model: FeatureExtractor,
  optimizer: E.Optimizer,
  meta: ExtractorMeta,
  progress: TrainProgress,
  trainConfig: unknown,
): Promise<void> {
  await saveTrainingCheckpoint(path, model, optimizer, progress, trainConfig, {
    format: 'fewmark-extractor/1',
    meta: JSON.stringify(meta),
  });
}

export const loadCheckpoint = (path: string): Promise<LoadedCheckpoint<TrainProgress>> =>
  loadTrainingCheckpoint<TrainProgress>(path, 'training checkpoint');
