// Refinement in self-training rounds: the first round trains on template
// matching's pseudo-labels of the unlabeled images (or on given ones) plus
// the labeled templates; each round but the last relabels the unlabeled
// images with its network (ROUND/relabeled.csv), and the next round trains
// a fresh network, from the extractor again, on those better labels.
// Rounds before the last live in OUT/round-K; the last one's model is OUT
// itself, and the fine stage (fine/run.ts) trains into OUT after it.
//
// Cycles repeat that with the fine stage in the loop: after a cycle's fine
// stage, both stages relabel the unlabeled images (CYCLE/both-labels.csv),
// and the next cycle trains one first-stage round on those labels, then the
// fine stage again. Both stages label better than the first alone, so each
// cycle trains on better labels (docs/fine-stage.md, "Cycles"). Cycles
// before the last live in OUT/cycle-K, laid out like OUT.
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
import { parseJson } from '../io/formats/shared.js';
import { findImage } from '../io/image-ids.js';
import type { Annotations } from '../io/types.js';
import { type Detection, TemplateMatcher } from '../matching/detect.js';
import { detectAll } from '../matching/detect-all.js';
import { writeDetections } from '../matching/detections-file.js';
import { pairTemplates, type Template } from '../matching/templates.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { type RefinedMeta, readRefinedMeta } from './checkpoint.js';
import type { RefineConfig } from './config.js';
import { trainFineAfterRounds } from './fine/run.js';
import type { RoundHooks } from './hooks.js';
import { type LabeledImage, loadRefineData, type PseudoLabels, readPseudoLabels } from './load.js';
import { relabel } from './relabel.js';
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
  /** Rounds of the first cycle (each later one trains one). */
  rounds: number;
  /** Cycles run (the last one's model is the output). */
  cycles: number;
  /** Training seconds of all cycles, rounds and fine stages, earlier runs' included (elapsed is the last round's). */
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
    // With every image labeled there is nothing to relabel: one cycle.
    const cycles = unlabeled.length > 0 ? config.cycles : 1;
    if (cycles < config.cycles) log('every image is labeled: one cycle (nothing to relabel)');
    const budgets = splitBudget(config, cycles);
    let pseudoFile = firstPseudo;
    let totalElapsed = 0;
    for (let c = 1; ; c++) {
      const out = cycleFolder(input.out, c, cycles);
      const done = join(out, CYCLE_DONE_FILE);
      if (c < cycles && input.resume && existsSync(done)) {
        log(`cycle ${c} is done (${done}); going on`);
        totalElapsed += (parseJson(await readFile(done, 'utf8'), done) as { seconds: number }).seconds;
        pseudoFile = join(out, BOTH_LABELS_FILE);
        continue;
      }
      if (cycles > 1) log(`cycle ${c} of ${cycles}: training on ${pseudoFile}`);
      const rounds = c === 1 ? config.rounds : 1;
      const result = await runCycle(
        {
          ...budgets,
          config: { ...config, rounds },
          out,
          labeled,
          unlabeled,
          pseudoFile,
          byId,
          imagesName: input.imagesName,
          source,
          init: extractor,
          resume: input.resume,
        },
        hooks,
      );
      totalElapsed += result.totalElapsed;
      if (result.stoppedBy === 'signal' || c === cycles)
        return {
          ...result,
          out: input.out,
          templates: labeled.length,
          pseudoFile: firstPseudo,
          rounds: c === 1 ? result.rounds : config.rounds,
          cycles: c,
          totalElapsed,
        };
      pseudoFile = join(out, BOTH_LABELS_FILE);
      log(`relabeling the unlabeled images with cycle ${c}'s two stages: ${pseudoFile}`);
      await relabel(out, unlabeled, pseudoFile, hooks);
      await writeFileAtomic(done, JSON.stringify({ seconds: result.totalElapsed }));
    }
  } finally {
    extractor.dispose();
  }
}

/** Where a run's first training writes its checkpoint, whatever its rounds and cycles. */
export function firstTrainingFolders(out: string): string[] {
  return [out, join(out, 'round-1'), join(out, 'cycle-1'), join(out, 'cycle-1', 'round-1')];
}

/** The folder of cycle c (1-based) of `cycles`: the last one is the output itself. */
function cycleFolder(out: string, c: number, cycles: number): string {
  return c === cycles ? out : join(out, `cycle-${c}`);
}

/** Where a cycle's two stages write their labels of the unlabeled images (the next cycle's pseudo-labels). */
const BOTH_LABELS_FILE = 'both-labels.csv';
/** Written once a cycle (not the last) is complete: its training seconds. */
const CYCLE_DONE_FILE = 'cycle.json';

interface CycleBudgets {
  /** Each round's settings (its share of a time budget). */
  perRound: (c: RefineConfig) => RefineConfig;
  /** The fine stage's settings (its share of a time budget). */
  perFine: (c: RefineConfig) => RefineConfig;
}

/**
 * A time budget covers every cycle: the fine stages take their share, split
 * evenly among the cycles, and the first-stage rounds (the first cycle's
 * `rounds`, one in each later cycle) the rest, evenly.
 */
function splitBudget(config: RefineConfig, cycles: number): CycleBudgets {
  const minutes = config.minutes;
  if (minutes === null) return { perRound: (c) => c, perFine: (c) => c };
  const fineShare = config.fine.enabled ? FINE_TIME_SHARE : 0;
  const rounds = config.rounds + cycles - 1;
  return {
    perRound: (c) => ({ ...c, minutes: (minutes * (1 - fineShare)) / rounds }),
    perFine: (c) => ({ ...c, fine: { ...c.fine, steps: null, minutes: (minutes * fineShare) / cycles } }),
  };
}

interface Cycle extends CycleBudgets {
  config: RefineConfig;
  out: string;
  labeled: LabeledImage[];
  unlabeled: string[];
  pseudoFile: string;
  byId: Map<string, string>;
  imagesName: string;
  source: Pick<RefinedMeta, 'landmarks' | 'extractor'>;
  init: Module;
  resume?: boolean;
}

/** One cycle: the first stage's rounds from `pseudoFile`, then the fine stage, all into `out`. */
async function runCycle(
  cycle: Cycle,
  hooks: RoundHooks,
): Promise<Omit<RoundsResult, 'out' | 'templates' | 'pseudoFile' | 'cycles'>> {
  const { config, out: cycleOut } = cycle;
  let pseudoFile = cycle.pseudoFile;
  let totalElapsed = 0;
  for (let k = 1; ; k++) {
    const out = roundFolder(cycleOut, k, config.rounds);
    const relabeled = join(out, RELABELED_FILE);
    if (config.rounds > 1) hooks.log?.(`round ${k} of ${config.rounds}: training on ${pseudoFile}`);
    if (k < config.rounds && existsSync(relabeled) && cycle.resume) {
      hooks.log?.(`round ${k} is done (${relabeled}); going on`);
      totalElapsed += (await readRefinedMeta(out)).trainSeconds ?? 0;
      pseudoFile = relabeled;
      continue;
    }
    const result = await trainRound({ ...cycle, config: cycle.perRound(config), out, pseudoFile }, hooks);
    totalElapsed += result.elapsed;
    const done = { ...result, rounds: k, totalElapsed };
    if (result.stoppedBy === 'signal') return done;
    if (k === config.rounds) {
      if (!config.fine.enabled) return done;
      hooks.log?.(
        `the fine stage: a local network at ${config.fine.longSide} px on ${config.fine.crop} px crops`,
      );
      const fine = await trainFineAfterRounds(
        {
          out: cycleOut,
          config: cycle.perFine(config),
          labeled: cycle.labeled,
          unlabeled: cycle.unlabeled,
          landmarks: cycle.source.landmarks,
          resume: cycle.resume,
        },
        hooks,
      );
      return {
        ...done,
        fine,
        stoppedBy: fine.stoppedBy === 'signal' ? 'signal' : done.stoppedBy,
        totalElapsed: totalElapsed + fine.elapsed,
      };
    }
    hooks.log?.(`relabeling the unlabeled images with round ${k}'s network: ${relabeled}`);
    await relabel(out, cycle.unlabeled, relabeled, hooks, { fine: false });
    pseudoFile = relabeled;
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

type Round = Pick<
  Cycle,
  'config' | 'out' | 'labeled' | 'pseudoFile' | 'byId' | 'imagesName' | 'source' | 'init' | 'resume'
>;

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
