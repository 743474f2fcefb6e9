// `fewmark refine`: trains the refinement network on template matching's
// pseudo-labels of the unlabeled images plus the labeled templates, with
// progress, checkpoints, --resume and a time budget. Pseudo-labels come
// from --pseudo, or from a template-matching run kept in the output folder
// (so a resumed run trains on the same ones).
//
// Self-training rounds: each round but the last relabels the unlabeled
// images with its network (ROUND/relabeled.csv) and the next round trains
// a fresh network, from the extractor again, on those better labels. Rounds
// before the last live in OUT/round-K; the last one's model is OUT itself.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Module } from '../../engine/index.js';
import { loadExtractor } from '../../features/checkpoint.js';
import { DataError, readInput } from '../../io/errors.js';
import { imageId, listImages } from '../../io/folder.js';
import { readAnnotations } from '../../io/formats/index.js';
import { parseJson } from '../../io/formats/shared.js';
import { findImage } from '../../io/image-ids.js';
import { checkOutput } from '../../io/output-check.js';
import { pairTemplates } from '../../matching/templates.js';
import { REFINE_CHECKPOINT_FILE, type RefinedMeta, readRefinedMeta } from '../../refine/checkpoint.js';
import { type RefineConfig, resolveRefineConfig } from '../../refine/config.js';
import { type LabeledImage, loadRefineData, type PseudoLabels, readPseudoLabels } from '../../refine/load.js';
import { type RefineResult, trainRefiner } from '../../refine/train.js';
import { configFromFlags, UsageError } from '../errors.js';
import { startProgress } from '../progress.js';
import { startTrainingRun } from '../training-run.js';
import { detect, extractorPath } from './detect.js';

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
  /** Predictions to train on (with PRED.detections.json for confidences); default: run template matching. */
  pseudo?: string;
  confidenceWeighting?: boolean;
  resume?: boolean;
  seed?: number;
  size?: number;
  batch?: number;
  /** JSON file of config overrides (see src/refine/config.ts). */
  config?: string;
  /** Allow --out inside the images folder. */
  allowInsideImages?: boolean;
}

export interface RefineCommandResult extends RefineResult {
  /** The signal that stopped training, if one did. */
  signal?: NodeJS.Signals;
  out: string;
  pseudoLabeled: number;
  templates: number;
  /** The first round's pseudo-labels (template matching's, or --pseudo). */
  pseudoFile: string;
  rounds: number;
  /** Training seconds of all rounds, earlier runs' included (elapsed is the last round's). */
  totalElapsed: number;
}

/** Where refine keeps the template-matching pseudo-labels it made. */
export const PSEUDO_FILE = 'pseudo-labels.csv';
/** Where a round's network writes its labels of the unlabeled images (the next round's pseudo-labels). */
export const RELABELED_FILE = 'relabeled.csv';

/** The folder of round k (1-based) of `rounds`: the last one is the output itself. */
export function roundFolder(out: string, k: number, rounds: number): string {
  return k === rounds ? out : join(out, `round-${k}`);
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
  if (o.confidenceWeighting) flags.confidenceWeighting = true;
  if (o.steps !== undefined) {
    flags.steps = o.steps;
    flags.minutes = o.minutes ?? null;
  } else if (o.minutes !== undefined) {
    flags.minutes = o.minutes;
    flags.steps = null; // a time budget alone: no step count
  }
  let config = configFromFlags(
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
  const started = [o.out, join(o.out, 'round-1')].some((d) => existsSync(join(d, REFINE_CHECKPOINT_FILE)));
  if (o.resume && !started && !existsSync(join(o.out, PSEUDO_FILE)))
    throw new UsageError(
      `nothing to resume: ${o.out} holds no refinement checkpoint or pseudo-labels (run without --resume to start)`,
    );
  if (started && !o.resume)
    throw new UsageError(
      `${o.out} already holds a refinement checkpoint: pass --resume to continue it, or choose another --out`,
    );

  const modelFile = extractorPath(o.model);
  const { model: extractor, meta } = await loadExtractor(modelFile);
  try {
    config = withExtractor(config, meta.inputSize, meta.config);
    const labels = await readAnnotations(o.templates);
    const files = await listImages(o.images);
    const byId = new Map(files.map((f) => [imageId(f), f]));
    const labeled = await pairTemplates(labels, o.templates, files, o.images);

    await mkdir(o.out, { recursive: true });
    const firstPseudo = o.pseudo ?? join(o.out, PSEUDO_FILE);
    if (!o.pseudo && !(o.resume && existsSync(firstPseudo))) {
      // Template matching on every image that is not a template.
      process.stderr.write(`making pseudo-labels by template matching: ${firstPseudo}\n`);
      await detect({
        model: o.model,
        templates: o.templates,
        images: o.images,
        out: firstPseudo,
        allowInsideImages: o.allowInsideImages,
      });
    }
    const source = {
      landmarks: labels.names,
      extractor: {
        path: resolve(modelFile),
        sha256: createHash('sha256')
          .update(await readFile(modelFile))
          .digest('hex'),
      },
    };
    // A time budget is shared evenly by the rounds.
    const perRound =
      config.minutes === null ? config : { ...config, minutes: config.minutes / config.rounds };
    let pseudoFile = firstPseudo;
    let totalElapsed = 0;
    for (let k = 1; ; k++) {
      const out = roundFolder(o.out, k, config.rounds);
      const relabeled = join(out, RELABELED_FILE);
      if (config.rounds > 1)
        process.stderr.write(`\nround ${k} of ${config.rounds}: training on ${pseudoFile}\n`);
      if (k < config.rounds && existsSync(relabeled) && o.resume) {
        process.stderr.write(`round ${k} is done (${relabeled}); going on\n`);
        totalElapsed += (await readRefinedMeta(out)).trainSeconds ?? 0;
        pseudoFile = relabeled;
        continue;
      }
      const result = await trainRound({
        config: perRound,
        out,
        labeled,
        pseudoFile,
        byId,
        images: o.images,
        source,
        init: extractor,
        resume: o.resume,
      });
      totalElapsed += result.elapsed;
      if (k === config.rounds || result.stoppedBy === 'signal')
        return {
          ...result,
          out: o.out,
          templates: labeled.length,
          pseudoFile: firstPseudo,
          rounds: k,
          totalElapsed,
        };
      process.stderr.write(`relabeling the unlabeled images with round ${k}'s network: ${relabeled}\n`);
      await detect({
        model: out,
        templates: o.templates,
        images: o.images,
        out: relabeled,
        allowInsideImages: o.allowInsideImages,
      });
      pseudoFile = relabeled;
    }
  } finally {
    extractor.dispose();
  }
}

interface Round {
  config: RefineConfig;
  out: string;
  labeled: LabeledImage[];
  pseudoFile: string;
  byId: Map<string, string>;
  images: string;
  source: Pick<RefinedMeta, 'landmarks' | 'extractor'>;
  init: Module;
  resume?: boolean;
}

/** One network trained on one set of pseudo-labels, with progress and Ctrl-C. */
async function trainRound(
  r: Round,
): Promise<RefineResult & { pseudoLabeled: number; signal?: NodeJS.Signals }> {
  const { config } = r;
  const pseudo = await readPseudoLabels(r.pseudoFile);
  checkPseudo(pseudo, r.pseudoFile, r.source.landmarks.length, config);
  const templateFiles = new Set(r.labeled.map((t) => t.file));
  const pseudoImages = pseudo.images
    .map((p) => {
      const file = findImage(p.id, r.byId);
      if (!file) throw new DataError(r.pseudoFile, `image '${p.id}' is not in ${r.images}`);
      return { ...p, file };
    })
    .filter((p) => !templateFiles.has(p.file));

  const loading = startProgress('loading images', r.labeled.length + pseudoImages.length, 5);
  const data = await loadRefineData(r.labeled, pseudoImages, {
    inputSize: config.inputSize!,
    labeledWeight: config.labeledWeight,
    confidenceWeighting: config.confidenceWeighting,
    onProgress: (done) => loading.update(done),
  });
  loading.stop();

  const run = startTrainingRun('refining', config);
  try {
    const result = await trainRefiner({
      data,
      out: r.out,
      config,
      source: r.source,
      init: r.init,
      resume: r.resume,
      shouldStop: run.shouldStop,
      onStep: (s) =>
        run.step(
          s,
          `loss ${s.loss.toFixed(3)} [heatmap ${s.heatmapLoss.toFixed(3)} offset ${s.offsetLoss.toFixed(3)}]`,
        ),
      onCheckpoint: run.onCheckpoint,
    });
    return { ...result, pseudoLabeled: pseudoImages.length, signal: run.stopSignal() };
  } finally {
    run.end();
    data.images.dispose();
  }
}

/** The working size defaults to the extractor's, scaled; a trunk started from it takes its widths. */
function withExtractor(
  c: RefineConfig,
  inputSize: number,
  net: Pick<RefineConfig['model'], 'inChannels' | 'widths' | 'norm' | 'stem'>,
): RefineConfig {
  const { inChannels, widths, norm, stem = 'strided' } = net;
  const model = c.initFromExtractor ? { ...c.model, inChannels, widths, norm, stem } : c.model;
  const scaled = Math.max(64, Math.round((inputSize * c.inputScale) / 32) * 32);
  return { ...c, inputSize: c.inputSize ?? scaled, model };
}

function checkPseudo(p: PseudoLabels, file: string, landmarks: number, c: RefineConfig): void {
  if (p.names.length !== landmarks)
    throw new DataError(file, `has ${p.names.length} landmarks, the templates have ${landmarks}`);
  if (c.confidenceWeighting && !p.hasConfidence)
    throw new DataError(
      `${file}.detections.json`,
      'confidence weighting needs the detections file that fewmark detect writes beside the predictions',
    );
}
