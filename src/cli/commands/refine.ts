// `fewmark refine`: trains the refinement network on template matching's
// pseudo-labels of the unlabeled images plus the labeled templates, in
// self-training rounds (src/refine/rounds.ts), with a progress line,
// checkpoints, --resume, Ctrl-C and a time budget. Pseudo-labels come from
// --pseudo, or from a template-matching run kept in the output folder (so
// a resumed run trains on the same ones).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readInput } from '../../io/errors.js';
import { listImages } from '../../io/folder.js';
import { readAnnotations } from '../../io/formats/index.js';
import { parseJson } from '../../io/formats/shared.js';
import { checkOutput } from '../../io/output-check.js';
import { REFINE_CHECKPOINT_FILE } from '../../refine/checkpoint.js';
import { resolveRefineConfig } from '../../refine/config.js';
import { firstTrainingFolders, PSEUDO_FILE, type RoundsResult, refineRounds } from '../../refine/rounds.js';
import { budgetOverrides } from '../../util/config.js';
import { configFromFlags, UsageError } from '../errors.js';
import { startProgress } from '../progress.js';
import { startTrainingRun } from '../training-run.js';
import { extractorPath } from './detect.js';

export interface RefineOptions {
  model: string;
  templates: string;
  images: string;
  out: string;
  /** Training time budget of all rounds together. */
  minutes?: number;
  /** Training steps of each round. */
  steps?: number;
  /** Self-training rounds (see above). */
  rounds?: number;
  /** Self-training cycles with the fine stage in the loop (src/refine/rounds.ts). */
  cycles?: number;
  /** Predictions to train on (with PRED.detections.json for confidences); default: run template matching. */
  pseudo?: string;
  confidenceWeighting?: boolean;
  /** false: no fine stage after the rounds. */
  fine?: boolean;
  /** Training steps of the fine stage. */
  fineSteps?: number;
  resume?: boolean;
  seed?: number;
  size?: number;
  batch?: number;
  /** JSON file of config overrides (see src/refine/config.ts). */
  config?: string;
  /** Allow --out inside the images folder. */
  allowInsideImages?: boolean;
}

export interface RefineCommandResult extends RoundsResult {
  /** The signal that stopped training, if one did. */
  signal?: NodeJS.Signals;
}

export async function refine(o: RefineOptions): Promise<RefineCommandResult> {
  const fromFile = o.config
    ? (parseJson((await readInput(o.config, 'config')).toString('utf8'), o.config) as Record<string, unknown>)
    : {};
  const flags: Record<string, unknown> = {};
  if (o.size !== undefined) flags.inputSize = o.size;
  if (o.batch !== undefined) flags.batchSize = o.batch;
  if (o.seed !== undefined) flags.seed = o.seed;
  if (o.rounds !== undefined) flags.rounds = o.rounds;
  if (o.cycles !== undefined) flags.cycles = o.cycles;
  if (o.confidenceWeighting) flags.confidenceWeighting = true;
  if (o.fine === false || o.fineSteps !== undefined)
    flags.fine = {
      ...(fromFile.fine as object | undefined),
      ...(o.fine === false ? { enabled: false } : {}),
      ...(o.fineSteps !== undefined ? { steps: o.fineSteps } : {}),
    };
  Object.assign(flags, budgetOverrides(o.steps, o.minutes, true)); // a time budget alone: no step count
  const config = configFromFlags(
    () => resolveRefineConfig({ ...fromFile, ...flags }, o.config ?? 'options'),
    o.config,
  );
  checkOutput({
    path: o.out,
    kind: 'folder',
    inputs: [o.model, o.templates, o.images, o.pseudo, o.config],
    imageFolders: [o.images],
    allowInsideImages: o.allowInsideImages,
  });
  const started = firstTrainingFolders(o.out).some((d) => existsSync(join(d, REFINE_CHECKPOINT_FILE)));
  if (o.resume && !started && !existsSync(join(o.out, PSEUDO_FILE)))
    throw new UsageError(
      `nothing to resume: ${o.out} holds no refinement checkpoint or pseudo-labels (run without --resume to start)`,
    );
  if (started && !o.resume)
    throw new UsageError(
      `${o.out} already holds a refinement checkpoint: pass --resume to continue it, or choose another --out`,
    );

  const extractorFile = extractorPath(o.model);
  const labels = await readAnnotations(o.templates);
  const files = await listImages(o.images);
  let stopSignal: NodeJS.Signals | undefined;
  let bar: ReturnType<typeof startProgress> | undefined;
  const result = await refineRounds(
    {
      extractorFile,
      labels,
      labelsName: o.templates,
      files,
      imagesName: o.images,
      out: o.out,
      config,
      pseudo: o.pseudo,
      resume: o.resume,
    },
    {
      log: (line) => process.stderr.write(`${line.startsWith('round ') ? '\n' : ''}${line}\n`),
      progress: (phase, done, total) => {
        bar ??= startProgress(phase, total, 5);
        bar.update(done);
        if (done === total) {
          bar.stop();
          bar = undefined;
        }
      },
      training: (budget, what) => {
        const run = startTrainingRun(what, budget);
        return {
          shouldStop: run.shouldStop,
          step: (s) =>
            run.step(
              s,
              `loss ${s.loss.toFixed(3)} [heatmap ${s.heatmapLoss.toFixed(3)} offset ${s.offsetLoss.toFixed(3)}]`,
            ),
          onCheckpoint: run.onCheckpoint,
          end: () => {
            stopSignal ??= run.stopSignal();
            run.end();
          },
        };
      },
    },
  );
  return { ...result, signal: stopSignal };
}
