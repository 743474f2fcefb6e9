// A training checkpoint on disk (safetensors), for the extractor and the
// refiner alike: the model's weights, the optimiser's state under `optim.`,
// and in the metadata the progress (step, time, the sampler's RNG state,
// the learning rate, the optimiser's step count) and the training config,
// so a resumed run continues exactly where the stopped one was. Each model
// adds its own metadata (a format tag; the extractor its config too).
import { createHash } from 'node:crypto';
import type { Module, Optimizer, Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { RngState } from './random.js';
import type { LoopState } from './training-loop.js';

export interface CheckpointProgress extends LoopState {
  rng: RngState;
  lr: number;
}

export interface LoadedCheckpoint<P extends CheckpointProgress> {
  progress: P & { optimizerSteps: number };
  trainConfig: unknown;
  /** The raw metadata, for a caller's own checks. */
  metadata: Record<string, string>;
  /** Loads the weights into `model` and the state into `optimizer`, and frees the file's tensors. */
  restore(model: Module, optimizer: Optimizer): void;
}

export async function saveTrainingCheckpoint(
  path: string,
  model: Module,
  optimizer: Optimizer,
  progress: CheckpointProgress,
  trainConfig: unknown,
  metadata: Record<string, string>,
): Promise<void> {
  const tensors: Record<string, Tensor> = { ...model.stateDict() };
  for (const [k, t] of Object.entries(optimizer.stateTensors())) tensors[`optim.${k}`] = t;
  await E.saveSafetensors(path, tensors, {
    ...metadata,
    progress: JSON.stringify({ ...progress, optimizerSteps: optimizer.stepCount }),
    train: JSON.stringify(trainConfig),
  });
}

/** Reads a checkpoint; `accept` checks its metadata, `what` names the kind in the error otherwise. */
export async function loadTrainingCheckpoint<P extends CheckpointProgress>(
  path: string,
  what: string,
  accept: (metadata: Record<string, string>) => boolean = () => true,
): Promise<LoadedCheckpoint<P>> {
  const { tensors, metadata } = await E.loadSafetensors(path);
  if (!metadata.progress || !metadata.train || !accept(metadata)) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new Error(`${path}: not a fewmark ${what}`);
  }
  const progress = JSON.parse(metadata.progress) as LoadedCheckpoint<P>['progress'];
  return {
    progress,
    trainConfig: JSON.parse(metadata.train),
    metadata,
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

/** A short hash of what a run trains on: kept in its checkpoint, so resuming on other data is refused. */
export const dataKeyOf = (data: unknown): string =>
  createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 24);

/**
 * Refuses to resume a checkpoint whose settings differ from this run's in
 * any key but the `resumable` ones; `prefix` names nested settings
 * ('fine.') in the message.
 */
export function checkResumeSettings(
  stored: Record<string, unknown>,
  current: object,
  resumable: ReadonlySet<string>,
  path: string,
  prefix = '',
): void {
  const now = current as Record<string, unknown>;
  for (const k of new Set([...Object.keys(stored), ...Object.keys(now)])) {
    if (resumable.has(k) || JSON.stringify(stored[k]) === JSON.stringify(now[k])) continue;
    throw new Error(
      `${path}: the checkpoint was trained with ${prefix}${k} = ${JSON.stringify(stored[k])}, this run asks for ${JSON.stringify(now[k])}; resume with the same settings or train into another folder`,
    );
  }
}
