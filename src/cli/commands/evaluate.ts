// `fewmark evaluate`: compares predicted landmarks with the ground truth and
// reports the field's figures (MRE ± std, median, SDR at 2/2.5/3/4 mm, per
// landmark, per image, outliers). Images are matched by id; landmarks by
// name (same names in another order are reordered). Every check runs before
// any output is written, and all four output files are formatted before the
// first one is written, so a bad input leaves no files behind.
import { join } from 'node:path';
import { computeMetrics, type ImagePair, imageErrors, type WorstBy } from '../../eval/metrics.js';
import {
  type EvaluationResult,
  renderImageCsv,
  renderJson,
  renderLandmarkCsv,
  renderText,
  type SpacingFrom,
} from '../../eval/report.js';
import { DataError } from '../../io/errors.js';
import { readAnnotations } from '../../io/formats/index.js';
import { comparableIds } from '../../io/image-ids.js';
import { checkOutput } from '../../io/output-check.js';
import type { Annotations, Point } from '../../io/types.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { UsageError } from '../errors.js';

export type { EvaluationResult } from '../../eval/report.js';

export interface EvaluateOptions {
  /** Predicted landmarks file. */
  pred: string;
  /** Ground-truth landmarks file. */
  gt: string;
  /** Folder for evaluation.json, per-landmark.csv, per-image.csv and evaluation.txt. */
  out?: string;
  /** mm per pixel: one number, or [x (columns), y (rows)]. Overrides the ground truth's spacing. */
  spacing?: number | [number, number];
  /** SDR radii in mm (default 2, 2.5, 3, 4). */
  radii?: number[];
  /** SDR counts error < r instead of the default error <= r. */
  sdrStrict?: boolean;
  predFormat?: string;
  gtFormat?: string;
  /** Outlier radii in mm (default 4, 10). */
  outlierRadii?: number[];
  /** How many worst images to name (default 5). */
  worstK?: number;
  worstBy?: WorstBy;
}

/** The files `evaluate` writes into `out`. */
export const EVALUATION_FILES = [
  'evaluation.json',
  'per-landmark.csv',
  'per-image.csv',
  'evaluation.txt',
] as const;

const quoteList = (names: string[], max = 5) =>
  names
    .slice(0, max)
    .map((n) => `'${n}'`)
    .join(', ') + (names.length > max ? `, and ${names.length - max} more` : '');

function checkRadii(radii: number[] | undefined, option: string): void {
  for (const r of radii ?? [])
    if (!(Number.isFinite(r) && r > 0))
      throw new UsageError(`${option}: '${r}' is not a positive number of millimetres`);
}

function spacingOption(spacing: EvaluateOptions['spacing']): SpacingFrom | undefined {
  if (spacing === undefined) return undefined;
  const [x, y] = typeof spacing === 'number' ? [spacing, spacing] : spacing;
  for (const v of [x, y])
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
      throw new UsageError(`--spacing: '${v}' is not a positive number of millimetres per pixel`);
  return { from: 'option', x: x!, y: y! };
}

/** For each ground-truth landmark, its index in the prediction file; errors when the landmarks differ. */
function landmarkOrder(pred: Annotations, gt: Annotations, predFile: string, gtFile: string): number[] {
  const same = pred.names.length === gt.names.length && pred.names.every((n, i) => n === gt.names[i]);
  if (same) return gt.names.map((_, i) => i);
  if (pred.names.length !== gt.names.length)
    throw new DataError(
      predFile,
      `${pred.names.length} landmarks (${pred.names.join(', ')}) but the ground truth ${gtFile} has ${gt.names.length} (${gt.names.join(', ')})`,
    );
  const index = gt.names.map((n) => pred.names.indexOf(n));
  if (index.every((i) => i >= 0) && new Set(index).size === index.length) return index;
  const k = pred.names.findIndex((n, i) => n !== gt.names[i]);
  throw new DataError(
    predFile,
    `landmark ${k + 1} is '${pred.names[k]}' but '${gt.names[k]}' in the ground truth ${gtFile}`,
  );
}

/** Points by image key ('120.jpg' and '120' meet: see comparableIds). */
function indexImages(ann: Annotations, file: string, key: (name: string) => string): Map<string, Point[]> {
  const byId = new Map<string, Point[]>();
  for (const img of ann.images) {
    if (byId.has(key(img.image))) throw new DataError(file, `image '${img.image}' appears twice`, img.line);
    if (img.points.length !== ann.names.length)
      throw new DataError(
        file,
        `image '${img.image}' has ${img.points.length} points, expected ${ann.names.length}`,
      );
    byId.set(key(img.image), img.points);
  }
  return byId;
}

/** Evaluates annotations already read; `options.pred`/`options.gt` name the files in messages. */
export function evaluateAnnotations(
  pred: Annotations,
  gt: Annotations,
  options: EvaluateOptions,
): EvaluationResult {
  const { pred: predFile, gt: gtFile } = options;
  const fixedSpacing = spacingOption(options.spacing);
  checkRadii(options.radii, '--radii');
  checkRadii(options.outlierRadii, '--outlier-radii');

  const order = landmarkOrder(pred, gt, predFile, gtFile);
  const predKey = comparableIds(pred.images.map((img) => img.image));
  const gtKey = comparableIds(gt.images.map((img) => img.image));
  indexImages(pred, predFile, predKey);
  const gtById = indexImages(gt, gtFile, gtKey);
  if (pred.images.length === 0) throw new DataError(predFile, 'no images to evaluate');
  const noGt = pred.images.filter((img) => !gtById.has(predKey(img.image))).map((img) => img.image);
  if (noGt.length === 1) throw new DataError(predFile, `image '${noGt[0]}' has no ground truth in ${gtFile}`);
  if (noGt.length > 1)
    throw new DataError(
      predFile,
      `${noGt.length} images have no ground truth in ${gtFile}: ${quoteList(noGt)}`,
    );

  const gtSpacing = new Map(gt.images.map((img) => [gtKey(img.image), img.spacing]));
  const pairs: ImagePair[] = pred.images.map((img) => {
    let spacing: { x: number; y: number };
    if (fixedSpacing?.from === 'option') spacing = fixedSpacing;
    else {
      const s = gtSpacing.get(predKey(img.image));
      if (!s) throw new DataError(gtFile, `no pixel spacing for image '${img.image}': pass --spacing MM`);
      if (!(s.x > 0 && s.y > 0 && Number.isFinite(s.x) && Number.isFinite(s.y)))
        throw new DataError(
          gtFile,
          `image '${img.image}': pixel spacing ${s.x} x ${s.y} mm is not positive; pass --spacing MM`,
        );
      spacing = s;
    }
    return {
      image: img.image,
      pred: order.map((i) => img.points[i]!),
      gt: gtById.get(predKey(img.image))!,
      spacing: { x: spacing.x, y: spacing.y },
    };
  });
  const predIds = new Set(pred.images.map((img) => predKey(img.image)));
  const metrics = computeMetrics(gt.names, pairs.map(imageErrors), {
    radii: options.radii,
    sdrRule: options.sdrStrict ? '<' : '<=',
    outlierRadii: options.outlierRadii,
    worstK: options.worstK,
    worstBy: options.worstBy,
  });
  return {
    pred: predFile,
    gt: gtFile,
    spacing: fixedSpacing ?? { from: 'ground-truth' },
    missingPredictions: gt.images.filter((img) => !predIds.has(gtKey(img.image))).map((img) => img.image),
    ...metrics,
  };
}

/** Reads both files, evaluates, and writes the four report files into `out` when given. */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  if (options.out !== undefined)
    checkOutput({ path: options.out, kind: 'folder', inputs: [options.pred, options.gt] });
  const pred = await readAnnotations(options.pred, options.predFormat);
  const gt = await readAnnotations(options.gt, options.gtFormat);
  const result = evaluateAnnotations(pred, gt, options);
  if (options.out !== undefined) {
    const texts: Record<(typeof EVALUATION_FILES)[number], string> = {
      'evaluation.json': renderJson(result),
      'per-landmark.csv': renderLandmarkCsv(result),
      'per-image.csv': renderImageCsv(result),
      'evaluation.txt': renderText(result),
    };
    for (const name of EVALUATION_FILES) await writeFileAtomic(join(options.out, name), texts[name]);
  }
  return result;
}
