// Extractor weights and training checkpoints on disk (safetensors). The
// weights file carries the model config, so `detect` needs nothing else;
// the checkpoint adds optimiser state, the sampler's RNG state and
// progress, so `--resume` continues exactly where the run stopped.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { RngState } from '../util/random.js';
import { type ExtractorConfig, FeatureExtractor } from './model.js';

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
  const model = new FeatureExtractor(meta.config);
  const weights = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith('optim.')));
  model.loadStateDict(weights, path);
  for (const t of Object.values(tensors)) t.dispose();
  model.eval();
  return { model, meta };
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Seconds of training so far, over all resumed runs. */
  elapsed: number;
  rng: RngState;
  lr: number;
}

export async function saveCheckpoint(
  path: string,
  model: FeatureExtractor,
  optimizer: E.Optimizer,
  meta: ExtractorMeta,
  progress: TrainProgress,
  trainConfig: unknown,
): Promise<void> {
  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  for (const [k, t] of Object.entries(optimizer.stateTensors())) tensors[`optim.${k}`] = t;
  await E.saveSafetensors(path, tensors, {
    format: 'fewmark-extractor/1',
    meta: JSON.stringify(meta),
    progress: JSON.stringify({ ...progress, optimizerSteps: optimizer.stepCount }),
    train: JSON.stringify(trainConfig),
  });
}

export interface LoadedCheckpoint {
  progress: TrainProgress & { optimizerSteps: number };
  trainConfig: unknown;
  restore(model: FeatureExtractor, optimizer: E.Optimizer): void;
}

export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await E.loadSafetensors(path);
  if (!metadata.progress || !metadata.train) throw new Error(`${path}: not a fewmark training checkpoint`);
  const progress = JSON.parse(metadata.progress) as LoadedCheckpoint['progress'];
  return {
    progress,
    trainConfig: JSON.parse(metadata.train),
    restore(model, optimizer) {
      const weights: Record<string, Tensor> = {};
      const optim: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(tensors)) {
        if (k.startsWith('optim.')) optim[k.slice(6)] = t;
        else weights[k] = t;
      }
      model.loadStateDict(weights, path);
      optimizer.loadStateDict({ tensors: optim, stepCount: progress.optimizerSteps, lr: progress.lr });
      for (const t of Object.values(tensors)) t.dispose();
    },
  };
}
