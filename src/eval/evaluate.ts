// Evaluating predicted landmarks against the ground truth, both already
// read: images matched by id ('120.jpg' and '120' meet), landmarks by name
// (the same names in another order are reordered), the pixel spacing from
// a fixed value or each ground-truth image's own. Errors name the files
// given as `predName` and `gtName`.
import { DataError } from '../io/errors.js';
import { comparableIds } from '../io/image-ids.js';
import type { Annotations, Point } from '../io/types.js';
import { computeMetrics, type ImagePair, imageErrors, type WorstBy } from './metrics.js';
import type { EvaluationResult, SpacingFrom } from './report.js';

export interface EvaluationOptions {
  /** How the predictions and the ground truth are named in messages and in the result (file names). */
  predName?: string;
  gtName?: string;
  /** mm per pixel: one number, or [x (columns), y (rows)]. Overrides the ground truth's spacing. */
  spacing?: number | [number, number];
  /** SDR radii in mm (default 2, 2.5, 3, 4). */
  radii?: number[];
  /** SDR counts error < r instead of the default error <= r. */
  sdrStrict?: boolean;
  /** Outlier radii in mm (default 4, 10). */
  outlierRadii?: number[];
  /** How many worst images to name (default 5). */
  worstK?: number;
  worstBy?: WorstBy;
  /** What a message about a missing spacing suggests (default: give a spacing). */
  spacingHint?: string;
}

const quoteList = (names: string[], max = 5) =>
  names
    .slice(0, max)
    .map((n) => `'${n}'`)
    .join(', ') + (names.length > max ? `, and ${names.length - max} more` : '');

/** Throws a RangeError naming `what` for a radius that is not a positive number of mm. */
export function checkRadii(radii: number[] | undefined, what: string): void {
  for (const r of radii ?? [])
    if (!(Number.isFinite(r) && r > 0))
      throw new RangeError(`${what}: '${r}' is not a positive number of millimetres`);
}

/** A fixed spacing, checked; RangeError naming `what` otherwise. */
export function fixedSpacing(
  spacing: EvaluationOptions['spacing'],
  what = 'spacing',
): SpacingFrom | undefined {
  if (spacing === undefined) return undefined;
  const [x, y] = typeof spacing === 'number' ? [spacing, spacing] : spacing;
  for (const v of [x, y])
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
      throw new RangeError(`${what}: '${v}' is not a positive number of millimetres per pixel`);
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

/** Evaluates annotations already read. */
export function evaluateLandmarks(
  pred: Annotations,
  gt: Annotations,
  options: EvaluationOptions = {},
): EvaluationResult {
  const predFile = options.predName ?? 'the predictions';
  const gtFile = options.gtName ?? 'the ground truth';
  const spacingFixed = fixedSpacing(options.spacing);
  const hint = options.spacingHint ?? 'give a spacing';
  checkRadii(options.radii, 'SDR radius');
  checkRadii(options.outlierRadii, 'outlier radius');

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
    if (spacingFixed?.from === 'option') spacing = spacingFixed;
    else {
      const s = gtSpacing.get(predKey(img.image));
      if (!s) throw new DataError(gtFile, `no pixel spacing for image '${img.image}': ${hint}`);
      if (!(s.x > 0 && s.y > 0 && Number.isFinite(s.x) && Number.isFinite(s.y)))
        throw new DataError(
          gtFile,
          `image '${img.image}': pixel spacing ${s.x} x ${s.y} mm is not positive; ${hint}`,
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
    spacing: spacingFixed ?? { from: 'ground-truth' },
    missingPredictions: gt.images.filter((img) => !predIds.has(gtKey(img.image))).map((img) => img.image),
    ...metrics,
  };
}
