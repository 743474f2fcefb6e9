// `refine` of the public API: the refinement network in self-training
// rounds (src/refine/rounds.ts) from the labeled templates and template
// matching's pseudo-labels of the other images; `detect` then uses the
// folder it writes. An AbortSignal stops it within one image or one
// training step, with a checkpoint that `resume: true` continues.
import { readAnnotations } from '../io/formats/index.js';
import type { Annotations } from '../io/types.js';
import { resolveRefineConfig } from '../refine/config.js';
import { type RoundsResult, refineRounds } from '../refine/rounds.js';
import { budgetOverrides } from '../util/config.js';
import { type ImageSource, imageFiles } from './images.js';
import { extractorFile } from './models.js';
import { checkAborted, type LongCall } from './progress.js';

export type { RoundsResult as RefineResult } from '../refine/rounds.js';

export interface RefineOptions extends LongCall {
  /** A model folder from training (the feature extractor). */
  model: string;
  /** The labeled images (landmarks, or a landmarks file). */
  templates: Annotations | string;
  images: ImageSource;
  /** The refined model's folder. */
  out: string;
  /** Budget: steps of each round and/or minutes of all training, the fine stage's included (default: src/refine/config.ts). */
  steps?: number;
  minutes?: number;
  rounds?: number;
  /** Cycles: each after the first trains on the labels both stages give the unlabeled images. */
  cycles?: number;
  /** false: the first stage alone, no fine stage after the rounds. */
  fine?: boolean;
  /** Training steps of the fine stage (default: src/refine/fine/config.ts). */
  fineSteps?: number;
  /** Any other setting of src/refine/config.ts. */
  config?: Record<string, unknown>;
  /** Predictions to train on in the first round instead of template matching's. */
  pseudo?: string;
  resume?: boolean;
}

export async function refine(o: RefineOptions): Promise<RoundsResult> {
  checkAborted(o.signal);
  const budget = {
    ...(o.rounds !== undefined ? { rounds: o.rounds } : {}),
    ...(o.cycles !== undefined ? { cycles: o.cycles } : {}),
    ...budgetOverrides(o.steps, o.minutes, true),
  };
  const fine =
    o.fine === false || o.fineSteps !== undefined
      ? {
          fine: {
            ...(o.config?.fine as object | undefined),
            ...(o.fine === false ? { enabled: false } : {}),
            ...(o.fineSteps !== undefined ? { steps: o.fineSteps } : {}),
          },
        }
      : {};
  const config = resolveRefineConfig({ ...o.config, ...budget, ...fine }, 'refine options');
  const { files, name } = await imageFiles(o.images);
  const labelsName = typeof o.templates === 'string' ? o.templates : 'the templates given';
  const labels = typeof o.templates === 'string' ? await readAnnotations(o.templates) : o.templates;
  return refineRounds(
    {
      extractorFile: extractorFile(o.model),
      labels,
      labelsName,
      files,
      imagesName: name,
      out: o.out,
      config,
      pseudo: o.pseudo,
      resume: o.resume,
    },
    {
      signal: o.signal,
      progress: (phase, done, total) => o.onProgress?.({ phase, done, total }),
      training: (_budget, what) => ({
        shouldStop: () => o.signal?.aborted === true,
        step: (s) =>
          o.onProgress?.({
            phase: what === 'refining' ? 'training' : `training (${what})`,
            done: s.step,
            total: s.totalSteps,
          }),
        onCheckpoint: () => {},
        end: () => {},
      }),
    },
  );
}
