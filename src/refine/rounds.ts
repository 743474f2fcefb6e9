// Refinement in self-training rounds: the first round trains on template
// matching's pseudo-labels of the unlabeled images (or on given ones) plus
// the labeled templates; each round but the last relabels the unlabeled
// images with its network (ROUND/relabeled.csv), and the next round trains
// a fresh network, from the extractor again, on those better labels.
// Rounds before the last live in OUT/round-K; the last one's model is OUT
// itself, and the fine stage (fine/run.ts) trains into OUT after it.
// Everything is kept on disk, so a stopped run resumes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Module } from '../engine/index.js';
import { FeatureCache } from '../features/cache.js';
import { loadExtractor } from '../features/checkpoint.js';
import { DataError } from '../io/errors.js';
import { imageId } from '../io/folder.js';
import { findImage } from '../io/image-ids.js';
import type { Annotations } from '../io/types.js';
import { type Detection, TemplateMatcher } from '../matching/detect.js';
import { detectAll } from '../matching/detect-all.js';
import { writeDetections } from '../matching/detections-file.js';
import { pairTemplates, type Template } from '../matching/templates.js';
import { type RefinedMeta, readRefinedMeta } from './checkpoint.js';
import type { RefineConfig } from './config.js';
import { trainFineAfterRounds } from './fine/run.js';
import type { RoundHooks } from './hooks.js';
import { RefinedDetector } from './infer.js';
import { type LabeledImage, loadRefineData, type PseudoLabels, readPseudoLabels } from './load.js';
import { type RefineResult, trainRefiner } from './train.js';

export type { RoundHooks, RoundTraining } from './hooks.js';

/** Where the template-matching pseudo-labels are kept. */
export const PSEUDO_FILE = 'pseudo-labels.csv';
/**
 * The fine stage's share of a time budget: with the default step counts it
 * took 3.0 of 7.9 training minutes on ISBI with 5 labels (bench/label-curve).
 */
const FINE_TIME_SHARE = 0.4;

/** Where a round's network writes its labels of the unlabeled images (the next round's pseudo-labels). */
const RELABELED_FILE = 'relabeled.csv';

/** The folder of round k (1-based) of `rounds`: the last one is the output itself. */
export function roundFolder(out: string, k: number, rounds: number): string {
  return k === rounds ? out : join(out, `round-${k}`);
}

export interface RoundsInput {
  /** The extractor's weights file: its template matching makes the first pseudo-labels, its weights start each round. */
  extractorFile: string;
  /** The labeled templates, and how to name them in messages. */
  labels: Annotations;
  labelsName: string;
  /** The images (templates among them), and how to name them in messages. */
  files: string[];
  imagesName: string;
  out: string;
  /** Resolved refinement settings (the extractor fills in the working size and trunk). */
  config: RefineConfig;
  /** Predictions to train on in the first round (with PRED.detections.json for confidences). */
  pseudo?: string;
  resume?: boolean;
}

export interface RoundsResult extends RefineResult {
  out: string;
  pseudoLabeled: number;
  templates: number;
  /** The first round's pseudo-labels (template matching's, or the given ones). */
  pseudoFile: string;
  rounds: number;
  /** Training seconds of all rounds and the fine stage, earlier runs' included (elapsed is the last round's). */
  totalElapsed: number;
  /** The fine stage's training, when it ran. */
  fine?: RefineResult;
}

export async function refineRounds(input: RoundsInput, hooks: RoundHooks = {}): Promise<RoundsResult> {
  const log = (line: string) => hooks.log?.(line);
  const { model: extractor, meta } = await loadExtractor(input.extractorFile);
  try {
    const config = withExtractor(input.config, meta.inputSize, meta.config);
    const byId = new Map(input.files.map((f) => [imageId(f), f]));
    const labeled = await pairTemplates(input.labels, input.labelsName, input.files, input.imagesName);
    const unlabeled = input.files.filter((f) => !labeled.some((t) => t.file === f));
    const names = input.labels.names;

    await mkdir(input.out, { recursive: true });
    const firstPseudo = input.pseudo ?? join(input.out, PSEUDO_FILE);
    if (!input.pseudo && !(input.resume && existsSync(firstPseudo))) {
      log(`making pseudo-labels by template matching: ${firstPseudo}`);
      await templateMatching(
        input.extractorFile,
        extractor,
        meta.inputSize,
        labeled,
        unlabeled,
        names,
        firstPseudo,
        hooks,
      );
    }
    const source = {
      landmarks: names,
      extractor: {
        path: resolve(input.extractorFile),
        sha256: createHash('sha256')
          .update(await readFile(input.extractorFile))
          .digest('hex'),
      },
    };
    // A time budget covers the rounds and the fine stage: the fine stage takes
    // its share, the rounds the rest, evenly.
    const fineShare = config.minutes !== null && config.fine.enabled ? FINE_TIME_SHARE : 0;
    const perRound =
      config.minutes === null
        ? config
        : { ...config, minutes: (config.minutes * (1 - fineShare)) / config.rounds };
    const fineConfig =
      config.minutes === null
        ? config
        : { ...config, fine: { ...config.fine, steps: null, minutes: config.minutes * fineShare } };
    let pseudoFile = firstPseudo;
    let totalElapsed = 0;
    for (let k = 1; ; k++) {
      const out = roundFolder(input.out, k, config.rounds);
      const relabeled = join(out, RELABELED_FILE);
      if (config.rounds > 1) log(`round ${k} of ${config.rounds}: training on ${pseudoFile}`);
      if (k < config.rounds && existsSync(relabeled) && input.resume) {
        log(`round ${k} is done (${relabeled}); going on`);
        totalElapsed += (await readRefinedMeta(out)).trainSeconds ?? 0;
        pseudoFile = relabeled;
        continue;
      }
      const result = await trainRound(
        {
          config: perRound,
          out,
          labeled,
          pseudoFile,
          byId,
          imagesName: input.imagesName,
          source,
          init: extractor,
          resume: input.resume,
        },
        hooks,
      );
      totalElapsed += result.elapsed;
      const done = {
        ...result,
        out: input.out,
        templates: labeled.length,
        pseudoFile: firstPseudo,
        rounds: k,
        totalElapsed,
      };
      if (result.stoppedBy === 'signal') return done;
      if (k === config.rounds) {
        if (!config.fine.enabled) return done;
        log(`the fine stage: a local network at ${config.fine.longSide} px on ${config.fine.crop} px crops`);
        const fine = await trainFineAfterRounds(
          { out: input.out, config: fineConfig, labeled, unlabeled, landmarks: names, resume: input.resume },
          hooks,
        );
        return {
          ...done,
          fine,
          stoppedBy: fine.stoppedBy === 'signal' ? 'signal' : done.stoppedBy,
          totalElapsed: totalElapsed + fine.elapsed,
        };
      }
      log(`relabeling the unlabeled images with round ${k}'s network: ${relabeled}`);
      const detector = await RefinedDetector.load(out);
      try {
        const found = await detectAll((id, file) => detector.detect(id, file), unlabeled, {
          signal: hooks.signal,
          onProgress: (done, total) => hooks.progress?.('detecting (refined)', done, total),
        });
        await writeDetections(relabeled, detector.landmarks, detector.meta.templates, found);
      } finally {
        detector.dispose();
      }
      pseudoFile = relabeled;
    }
  } finally {
    extractor.dispose();
  }
}

/** The first pseudo-labels: template matching from the labeled images on every other one. */
async function templateMatching(
  extractorFile: string,
  extractor: Awaited<ReturnType<typeof loadExtractor>>['model'],
  inputSize: number,
  templates: Template[],
  targets: string[],
  names: string[],
  out: string,
  hooks: RoundHooks,
): Promise<void> {
  const cache = await FeatureCache.open(join(resolve(extractorFile, '..'), 'cache'), extractorFile);
  const matcher = await TemplateMatcher.create(templates, {
    model: extractor,
    inputSize,
    cache,
    fusion: 'median',
  });
  let found: Detection[];
  try {
    found = await detectAll((id, file) => matcher.detect(id, file), targets, {
      signal: hooks.signal,
      onProgress: (done, total) => hooks.progress?.('detecting', done, total),
    });
  } finally {
    matcher.dispose();
  }
  await writeDetections(
    out,
    names,
    templates.map((t) => t.id),
    found,
  );
}

interface Round {
  config: RefineConfig;
  out: string;
  labeled: LabeledImage[];
  pseudoFile: string;
  byId: Map<string, string>;
  imagesName: string;
  source: Pick<RefinedMeta, 'landmarks' | 'extractor'>;
  init: Module;
  resume?: boolean;
}

/** One network trained on one set of pseudo-labels. */
async function trainRound(r: Round, hooks: RoundHooks): Promise<RefineResult & { pseudoLabeled: number }> {
  const { config } = r;
  const pseudo = await readPseudoLabels(r.pseudoFile);
  checkPseudo(pseudo, r.pseudoFile, r.source.landmarks.length, config);
  const templateFiles = new Set(r.labeled.map((t) => t.file));
  const pseudoImages = pseudo.images
    .map((p) => {
      const file = findImage(p.id, r.byId);
      if (!file) throw new DataError(r.pseudoFile, `image '${p.id}' is not in ${r.imagesName}`);
      return { ...p, file };
    })
    .filter((p) => !templateFiles.has(p.file));

  const total = r.labeled.length + pseudoImages.length;
  const data = await loadRefineData(r.labeled, pseudoImages, {
    inputSize: config.inputSize!,
    labeledWeight: config.labeledWeight,
    confidenceWeighting: config.confidenceWeighting,
    onProgress: (done) => hooks.progress?.('loading images', done, total),
  });
  const run = hooks.training?.(config, 'refining');
  try {
    const result = await trainRefiner({
      data,
      out: r.out,
      config,
      source: r.source,
      init: r.init,
      resume: r.resume,
      shouldStop: () => (run?.shouldStop() ?? false) || hooks.signal?.aborted === true,
      onStep: run ? (s) => run.step(s) : undefined,
      onCheckpoint: run ? (path, step) => run.onCheckpoint(path, step) : undefined,
    });
    return { ...result, pseudoLabeled: pseudoImages.length };
  } finally {
    run?.end();
    data.images.dispose();
  }
}

/** The working size defaults to the extractor's, scaled; a trunk started from it takes its widths. */
function withExtractor(
  c: RefineConfig,
  inputSize: number,
  net: Pick<RefineConfig['model'], 'inChannels' | 'widths' | 'norm'>,
): RefineConfig {
  const { inChannels, widths, norm } = net;
  const model = c.initFromExtractor ? { ...c.model, inChannels, widths, norm } : c.model;
  const scaled = Math.max(64, Math.round((inputSize * c.inputScale) / 32) * 32);
  return { ...c, inputSize: c.inputSize ?? scaled, model };
}

function checkPseudo(p: PseudoLabels, file: string, landmarks: number, c: RefineConfig): void {
  if (p.names.length !== landmarks)
    throw new DataError(file, `has ${p.names.length} landmarks, the templates have ${landmarks}`);
  if (c.confidenceWeighting && !p.hasConfidence)
    throw new DataError(
      `${file}.detections.json`,
      'confidence weighting needs the detections file that template matching writes beside the predictions',
    );
}
