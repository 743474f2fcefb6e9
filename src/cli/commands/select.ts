// `fewmark select`: which images of a folder to annotate. Runs the SCP or a
// baseline on the pool and writes, in --out, selection.json (read by the
// web annotator), selection.csv and report.html with thumbnails/. Options
// and inputs are checked before any work, so a bad flag or folder writes
// nothing; each file is written atomically, thumbnails first and
// selection.json last, so a reader that sees selection.json sees the rest.
import { dirname, join, resolve } from 'node:path';
import { poolFeaturesOnQueue } from '../../api/features.js';
import { FeatureCache } from '../../features/cache.js';
import { loadExtractor } from '../../features/checkpoint.js';
import { DataError } from '../../io/errors.js';
import { imageId, listImages } from '../../io/folder.js';
import { readAnnotations } from '../../io/formats/index.js';
import { findImage } from '../../io/image-ids.js';
import { checkOutput } from '../../io/output-check.js';
import { defaultProposals, type ProposalMethod } from '../../keypoints/propose.js';
import {
  renderSelectionCsv,
  renderSelectionHtml,
  renderSelectionJson,
  type SelectionMeta,
  selectionRecord,
} from '../../selection/report.js';
import {
  DEFAULT_STRATEGY,
  isScpStrategy,
  ROUND_STRATEGIES,
  resolveScale,
  SCALES,
  type Scale,
  type Selection,
  STRATEGIES,
  type Strategy,
  selectImages,
} from '../../selection/select.js';
import { DEFAULT_GRID_STRIDE, type Direction } from '../../selection/similarity.js';
import { makeThumbnail } from '../../selection/thumbnail.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { UsageError } from '../errors.js';
import { type Progress, startProgress } from '../progress.js';
import { extractorPath } from './detect.js';

const KEYPOINT_METHODS: readonly ProposalMethod[] = ['sift', 'orb', 'akaze', 'random', 'grid'];
const DIRECTIONS: readonly Direction[] = ['image-in-template', 'template-in-image'];

export interface SelectOptions {
  /** Allow --out inside the images folder. */
  allowInsideImages?: boolean;
  images: string;
  model: string;
  budget: number;
  out: string;
  strategy?: string;
  keypoints?: string;
  maxKeypoints?: number;
  contrastThreshold?: number;
  direction?: string;
  randomSets?: number;
  gridStride?: number;
  seed?: number;
  /** Baselines: also compute the SCP matrix to report R. */
  score?: boolean;
  /** false: do not cache feature pyramids. */
  cache?: boolean;
  /** No progress on stderr. */
  quiet?: boolean;
  /** A landmarks file of images annotated already: they count as chosen, `budget` more are picked. */
  labeled?: string;
  /** auto (default) | exact | sampled: whether large pools are scored on a sample. */
  scale?: string;
  /** redis://HOST[:PORT]: the SCP's similarity columns on the queue's workers. */
  queue?: string;
}

export interface SelectResult {
  selection: Selection;
  /** Absolute output folder. */
  out: string;
}

function oneOf<T extends string>(
  flag: string,
  allowed: readonly T[],
  value: string | undefined,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new UsageError(`Expected one of ${allowed.join(', ')} for ${flag} but received '${value}'`);
  return value as T;
}

function positiveInteger(flag: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`Expected a positive integer for ${flag} but received ${value}`);
  return value;
}

/** One progress bar per phase, on stderr. */
function phaseProgress() {
  let phase = '';
  let bar: Progress | undefined;
  return {
    update(name: string, done: number, total: number) {
      if (name !== phase) {
        bar?.stop();
        phase = name;
        bar = startProgress(name, total, 5);
      }
      bar!.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** Flags with their defaults filled in; UsageError naming the flag otherwise. */
function checkFlags(o: SelectOptions) {
  const maxPoints = o.maxKeypoints ?? 100; // 0 keeps them all
  if (!Number.isInteger(maxPoints) || maxPoints < 0)
    throw new UsageError(`Expected a non-negative integer for --max-keypoints but received ${maxPoints}`);
  const contrastThreshold = o.contrastThreshold ?? defaultProposals.contrastThreshold;
  if (!(contrastThreshold > 0))
    throw new UsageError(
      `Expected a positive number for --contrast-threshold but received ${contrastThreshold}`,
    );
  const out = resolve(o.out);
  checkOutput({
    path: o.out,
    kind: 'folder',
    inputs: [o.images, o.model],
    imageFolders: [o.images],
    allowInsideImages: o.allowInsideImages,
  });
  return {
    out,
    strategy: oneOf<Strategy>('--strategy', STRATEGIES, o.strategy, DEFAULT_STRATEGY),
    method: oneOf('--keypoints', KEYPOINT_METHODS, o.keypoints, 'sift'),
    direction: oneOf('--direction', DIRECTIONS, o.direction, 'image-in-template'),
    maxPoints,
    contrastThreshold,
    randomSets: positiveInteger('--random-sets', o.randomSets, 10_000),
    gridStride: positiveInteger('--grid-stride', o.gridStride, DEFAULT_GRID_STRIDE),
    seed: o.seed ?? 0,
    scale: oneOf<Scale>('--scale', SCALES, o.scale, 'auto'),
  };
}

export async function select(o: SelectOptions): Promise<SelectResult> {
  const {
    out,
    strategy,
    method,
    direction,
    maxPoints,
    contrastThreshold,
    randomSets,
    gridStride,
    seed,
    scale,
  } = checkFlags(o);
  const files = await listImages(o.images);
  const labeled = o.labeled ? await labeledIndices(o.labeled, files, o.images) : [];
  if (labeled.length > 0 && !ROUND_STRATEGIES.includes(strategy))
    throw new UsageError(`--labeled works with --strategy ${ROUND_STRATEGIES.join(', ')}, not ${strategy}`);
  const free = files.length - labeled.length;
  if (!Number.isInteger(o.budget) || o.budget < 1 || o.budget > free)
    throw new UsageError(
      `Expected a budget from 1 to ${free} (the images in ${o.images}${labeled.length ? ' not labeled yet' : ''}) for --budget but received ${o.budget}`,
    );
  try {
    resolveScale(scale, strategy, files.length);
  } catch (err) {
    throw new UsageError(`--scale ${scale}: ${(err as Error).message.replace(/^select: /, '')}`);
  }
  const modelFile = extractorPath(o.model);
  if (o.queue) {
    if (o.cache === false)
      throw new UsageError(
        '--queue needs the feature cache (the workers write the features there); drop --no-cache',
      );
    await featuresOnWorkers(modelFile, files, o.queue, o.quiet === true);
  }

  const { model, meta } = await loadExtractor(modelFile);
  const cache =
    o.cache === false ? undefined : await FeatureCache.open(join(dirname(modelFile), 'cache'), modelFile);
  const progress = phaseProgress();
  let selection: Selection;
  try {
    selection = await selectImages({
      files,
      budget: o.budget,
      model,
      inputSize: meta.inputSize,
      cache,
      strategy,
      keypoints: { method, maxPoints, contrastThreshold, seed },
      direction,
      gridStride,
      randomSets,
      seed,
      scoreBaselines: o.score === true,
      labeled,
      scale,
      ...(o.queue ? { queue: { url: o.queue, modelFile: resolve(modelFile) } } : {}),
      onProgress: o.quiet ? undefined : progress.update,
    });
  } finally {
    progress.stop();
    model.dispose();
  }

  const info: SelectionMeta = {
    model: resolve(o.model),
    created: new Date().toISOString(),
    inputSize: meta.inputSize,
    seed,
    direction,
    gridStride,
    keypoints: { method, maxPoints, contrastThreshold },
  };
  const thumbs = [];
  for (const [k, r] of selection.ranked.entries()) {
    const thumb = await makeThumbnail(r.file, selection.keypoints[k]!.points, meta.inputSize);
    await writeFileAtomic(join(out, 'thumbnails', `${r.image}.png`), thumb.png);
    thumbs.push({ ...thumb, href: `thumbnails/${encodeURIComponent(r.image)}.png` });
  }
  await writeFileAtomic(join(out, 'report.html'), renderSelectionHtml(selection, info, thumbs));
  await writeFileAtomic(join(out, 'selection.csv'), renderSelectionCsv(selection));
  await writeFileAtomic(join(out, 'selection.json'), renderSelectionJson(selectionRecord(selection, info)));
  return { selection, out };
}

/** The pool's features by the queue's workers, with a progress bar. */
async function featuresOnWorkers(modelFile: string, files: string[], queue: string, quiet: boolean) {
  const bar = phaseProgress();
  try {
    await poolFeaturesOnQueue(modelFile, files, queue, {
      onQueueNote: (message) => process.stderr.write(`fewmark: ${message}\n`),
      onProgress: quiet ? undefined : ({ phase, done, total }) => bar.update(phase, done, total),
    });
  } finally {
    bar.stop();
  }
}

/** Pool indices of the images a landmarks file annotates (any with a point), by id or file name. */
async function labeledIndices(file: string, files: string[], imagesDir: string): Promise<number[]> {
  const index = new Map(files.map((f, i) => [imageId(f), i]));
  const indices: number[] = [];
  for (const img of (await readAnnotations(file)).images) {
    const i = findImage(img.image, index);
    if (i === undefined)
      throw new DataError(file, `labeled image '${img.image}' is not in ${imagesDir}`, img.line);
    if (!indices.includes(i)) indices.push(i);
  }
  return indices;
}

/** The lines `fewmark select` prints. */
export function summary(r: SelectResult): string[] {
  const s = r.selection;
  const R = s.R === null ? '' : `, R ${s.R.toFixed(4)}`;
  const scp = isScpStrategy(s.strategy) || s.R !== null;
  const lines = [
    `selected ${s.budget} of ${s.pool} images (${s.strategy}${R}${s.labeled.length ? `, around ${s.labeled.length} labeled already` : ''}) in ${s.timings.total.toFixed(1)} s: ${r.out}`,
    scp ? 'rank  score   gain    image' : 'rank  image',
  ];
  for (const x of s.ranked)
    lines.push(
      scp
        ? `${String(x.rank).padStart(4)}  ${x.score!.toFixed(4)}  ${x.gain!.toFixed(4)}  ${x.image}`
        : `${String(x.rank).padStart(4)}  ${x.image}`,
    );
  if (s.estimate) lines.push(estimateLine(s));
  const t = s.timings;
  lines.push(
    `time: key points ${t.keypoints.toFixed(1)} s, features ${t.features.toFixed(1)} s, similarity ${s.matrix?.cached ? 'read from the cache' : `${t.similarity.toFixed(1)} s`}, search ${t.search.toFixed(2)} s`,
  );
  return lines;
}

/** How the sampled search scored the chosen set. */
function estimateLine(s: Selection): string {
  const e = s.estimate!;
  if (e.score === 'C')
    return `sampled search (${s.pool} images): ${e.candidates} candidates; C of the chosen set ${e.value.toFixed(4)} (exact over the pool; lower is better)`;
  return `sampled search (${s.pool} images): R ${e.value.toFixed(4)} +- ${e.halfWidth.toFixed(4)} (95%), estimated on the key points of ${e.sample} images; candidates: ${e.candidates} random images screened, the best ${s.matrix?.candidates ?? 0} scored in full`;
}
