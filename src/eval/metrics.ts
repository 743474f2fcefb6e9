// Landmark error metrics as the field reports them (ISBI 2015 cephalometric
// challenge and its successors): radial error in millimetres, MRE ± std,
// median, max, successful detection rate (SDR) at 2, 2.5, 3 and 4 mm,
// per-landmark and per-image tables, outliers and the worst images.
// Pure functions, no I/O; LandmarkMetric accumulates image by image.
//
// Conventions, chosen once and used everywhere:
// - Overall figures pool every valid point of every image (not a mean of
//   per-image or per-landmark means).
// - std is the POPULATION standard deviation (divide by n), as numpy.std
//   computes it and as most landmark-detection code reports it.
// - SDR at r counts a point as detected when its error is <= r mm (the
//   ISBI 2015 definition, "no greater than r"); sdrRule '<' selects the
//   strict convention. Errors within SDR_EPSILON_MM of r count as exactly r,
//   so a point that is 2 mm off by construction is not lost to rounding.
// - An outlier at r is a point that is not a success at r: error > r under
//   '<=', error >= r under '<'.
// - A point is valid when both the prediction and the ground truth are
//   present; missing points (NaN) are counted but take no part in the errors.
import type { Point } from '../io/types.js';
import { isMissing } from '../io/types.js';

/** Millimetres per pixel: one number for square pixels, or per axis. */
export type PixelSpacing = number | { x: number; y: number };

/** How SDR decides success: error <= r (default, ISBI 2015) or error < r. */
export type SdrRule = '<=' | '<';

const DEFAULT_RADII: readonly number[] = Object.freeze([2, 2.5, 3, 4]);
const DEFAULT_OUTLIER_RADII: readonly number[] = Object.freeze([4, 10]);
const DEFAULT_SDR_RULE: SdrRule = '<=';
/** Errors this close to a radius count as exactly on it. */
const SDR_EPSILON_MM = 1e-9;

export const sdrRuleText = (rule: SdrRule) => `SDR uses error ${rule} r mm`;

const spacingXY = (s: PixelSpacing) => (typeof s === 'number' ? { x: s, y: s } : { x: s.x, y: s.y });

/** Distance between a prediction and its ground truth in mm; NaN when either is missing. */
export function radialErrorMm(pred: Point, gt: Point, spacing: PixelSpacing): number {
  if (isMissing(pred) || isMissing(gt)) return Number.NaN;
  const s = spacingXY(spacing);
  const dx = (pred.x - gt.x) * s.x;
  const dy = (pred.y - gt.y) * s.y;
  return Math.sqrt(dx * dx + dy * dy);
}

/** Whether an error counts as a successful detection at radius r. */
export function isSuccess(error: number, radius: number, rule: SdrRule = DEFAULT_SDR_RULE): boolean {
  if (Number.isNaN(error)) return false;
  return rule === '<=' ? error <= radius + SDR_EPSILON_MM : error < radius - SDR_EPSILON_MM;
}

// ---------------------------------------------------------------- pairing

/** One image's predictions and ground truth, in the same landmark order. */
export interface ImagePair {
  image: string;
  pred: Point[];
  gt: Point[];
  spacing: PixelSpacing;
}

/** One image's per-point errors (mm, NaN where either point is missing) and counts. */
export interface ImageErrors {
  image: string;
  spacing: { x: number; y: number };
  errors: number[];
  /** Per landmark: whether the prediction / the ground truth has the point. */
  hasPred: boolean[];
  hasGt: boolean[];
  /** Points present in the prediction. */
  predicted: number;
  /** Points present in the ground truth. */
  groundTruth: number;
  /** Points present in both: the ones with an error. */
  valid: number;
}

export function imageErrors(pair: ImagePair): ImageErrors {
  const { image, pred, gt } = pair;
  if (pred.length !== gt.length)
    throw new Error(`image ${image}: ${pred.length} predicted points but ${gt.length} ground-truth points`);
  const spacing = spacingXY(pair.spacing);
  if (!(spacing.x > 0 && spacing.y > 0 && Number.isFinite(spacing.x) && Number.isFinite(spacing.y)))
    throw new Error(`image ${image}: pixel spacing ${spacing.x} x ${spacing.y} mm is not positive`);
  const errors = pred.map((p, k) => radialErrorMm(p, gt[k]!, spacing));
  const hasPred = pred.map((p) => !isMissing(p));
  const hasGt = gt.map((p) => !isMissing(p));
  return {
    image,
    spacing,
    errors,
    hasPred,
    hasGt,
    predicted: hasPred.filter(Boolean).length,
    groundTruth: hasGt.filter(Boolean).length,
    valid: errors.filter((e) => !Number.isNaN(e)).length,
  };
}

/** Pairs predictions with ground truth for a set of images: per-point errors and counts. */
export function pairErrors(pairs: ImagePair[]): ImageErrors[] {
  return pairs.map(imageErrors);
}

// ---------------------------------------------------------------- statistics

export interface SdrValue {
  radius: number;
  /** Points detected within the radius. */
  count: number;
  /** count / n * 100; NaN when n = 0. */
  percent: number;
}

export interface ErrorSummary {
  /** Valid points. */
  n: number;
  /** Mean radial error (mm). */
  mre: number;
  /** Population standard deviation (mm). */
  std: number;
  median: number;
  max: number;
  sdr: SdrValue[];
}

export const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);

/** Population standard deviation: sqrt(sum((v - mean)^2) / n). */
export function populationStd(v: number[]): number {
  if (!v.length) return Number.NaN;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) * (b - m), 0) / v.length);
}

export function median(v: number[]): number {
  if (!v.length) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

export function sdr(
  errors: number[],
  radii: readonly number[],
  rule: SdrRule = DEFAULT_SDR_RULE,
): SdrValue[] {
  const valid = errors.filter((e) => !Number.isNaN(e));
  return radii.map((radius) => {
    const count = valid.filter((e) => isSuccess(e, radius, rule)).length;
    return { radius, count, percent: valid.length ? (100 * count) / valid.length : Number.NaN };
  });
}

/** MRE, std (population), median, max and SDR of the valid (non-NaN) errors. */
export function summarize(
  errors: number[],
  radii: readonly number[] = DEFAULT_RADII,
  rule: SdrRule = DEFAULT_SDR_RULE,
): ErrorSummary {
  const v = errors.filter((e) => !Number.isNaN(e));
  return {
    n: v.length,
    mre: mean(v),
    std: populationStd(v),
    median: median(v),
    max: v.length ? v.reduce((a, b) => Math.max(a, b), -Infinity) : Number.NaN,
    sdr: sdr(v, radii, rule),
  };
}

// ---------------------------------------------------------------- tables

export interface LandmarkRow extends ErrorSummary {
  name: string;
  predicted: number;
  groundTruth: number;
}

export interface ImageRow {
  image: string;
  spacing: { x: number; y: number };
  /** Valid points. */
  n: number;
  predicted: number;
  groundTruth: number;
  mre: number;
  max: number;
  /** The landmark with the largest error (the first on a tie); null when n = 0. */
  maxLandmark: string | null;
  /** Per-point errors in landmark order (mm; NaN where missing). */
  errors: number[];
}

export interface OutlierRow {
  radius: number;
  /** How an outlier compares with the radius: the complement of the SDR rule. */
  rule: '>' | '>=';
  /** Valid points that are outliers. */
  points: number;
  /** Images with at least one outlier. */
  images: number;
}

export type WorstBy = 'max' | 'mean';

export interface WorstImage {
  image: string;
  mre: number;
  max: number;
  maxLandmark: string | null;
}

export interface PointCounts {
  images: number;
  /** images x landmarks. */
  points: number;
  predicted: number;
  groundTruth: number;
  /** Present in both: the points the errors are computed on. */
  both: number;
}

export interface MetricOptions {
  /** SDR radii in mm (default 2, 2.5, 3, 4). */
  radii?: readonly number[];
  sdrRule?: SdrRule;
  /** Radii for outlier counts in mm (default 4, 10). */
  outlierRadii?: readonly number[];
  /** How many worst images to name (default 5). */
  worstK?: number;
  /** Rank the worst images by their max error (default) or their mean error. */
  worstBy?: WorstBy;
}

export interface MetricResult {
  names: string[];
  sdrRule: SdrRule;
  std: 'population';
  /** The conventions above in words, for readers of the JSON. */
  conventions: { sdr: string; std: string; outliers: string; overall: string };
  radii: number[];
  counts: PointCounts;
  overall: ErrorSummary;
  perLandmark: LandmarkRow[];
  perImage: ImageRow[];
  outliers: OutlierRow[];
  worst: { by: WorstBy; images: WorstImage[] };
}

function checkRadii(radii: readonly number[], what: string): number[] {
  for (const r of radii)
    if (!(Number.isFinite(r) && r > 0)) throw new Error(`${what}: ${r} is not a positive number of mm`);
  return [...new Set(radii)].sort((a, b) => a - b);
}

function imageRow(names: string[], e: ImageErrors): ImageRow {
  let worst = -1;
  e.errors.forEach((v, k) => {
    if (!Number.isNaN(v) && (worst < 0 || v > e.errors[worst]!)) worst = k;
  });
  const valid = e.errors.filter((v) => !Number.isNaN(v));
  return {
    image: e.image,
    spacing: e.spacing,
    n: e.valid,
    predicted: e.predicted,
    groundTruth: e.groundTruth,
    mre: mean(valid),
    max: worst < 0 ? Number.NaN : e.errors[worst]!,
    maxLandmark: worst < 0 ? null : (names[worst] ?? `L${worst + 1}`),
    errors: e.errors,
  };
}

/** Every figure for a set of images whose errors are known. */
export function computeMetrics(
  names: string[],
  images: ImageErrors[],
  options: MetricOptions = {},
): MetricResult {
  const radii = checkRadii(options.radii ?? DEFAULT_RADII, 'SDR radius');
  const outlierRadii = checkRadii(options.outlierRadii ?? DEFAULT_OUTLIER_RADII, 'outlier radius');
  const rule = options.sdrRule ?? DEFAULT_SDR_RULE;
  if (rule !== '<=' && rule !== '<') throw new Error(`SDR rule must be '<=' or '<', got '${rule}'`);
  const worstK = options.worstK ?? 5;
  const worstBy = options.worstBy ?? 'max';
  for (const e of images)
    if (
      e.errors.length !== names.length ||
      e.hasPred.length !== names.length ||
      e.hasGt.length !== names.length
    )
      throw new Error(`image ${e.image}: ${e.errors.length} errors for ${names.length} landmarks`);

  const all = images.flatMap((e) => e.errors);
  const perLandmark = names.map((name, k) => ({
    name,
    predicted: images.filter((e) => e.hasPred[k]).length,
    groundTruth: images.filter((e) => e.hasGt[k]).length,
    ...summarize(
      images.map((e) => e.errors[k]!),
      radii,
      rule,
    ),
  }));
  const perImage = images.map((e) => imageRow(names, e));
  const outlier = (v: number, r: number) => !Number.isNaN(v) && !isSuccess(v, r, rule);
  const outliers = outlierRadii.map((radius) => ({
    radius,
    rule: rule === '<=' ? ('>' as const) : ('>=' as const),
    points: all.filter((v) => outlier(v, radius)).length,
    images: images.filter((e) => e.errors.some((v) => outlier(v, radius))).length,
  }));
  const key = (r: ImageRow) => (worstBy === 'max' ? r.max : r.mre);
  const worst = perImage
    .filter((r) => r.n > 0)
    .sort((a, b) => key(b) - key(a) || (a.image < b.image ? -1 : a.image > b.image ? 1 : 0))
    .slice(0, Math.max(0, worstK))
    .map(({ image, mre, max, maxLandmark }) => ({ image, mre, max, maxLandmark }));
  return {
    names: [...names],
    sdrRule: rule,
    std: 'population',
    conventions: {
      sdr: sdrRuleText(rule),
      std: 'population standard deviation (divide by n)',
      outliers: `an outlier at r has error ${rule === '<=' ? '>' : '>='} r mm`,
      overall: 'overall figures pool every point with both a prediction and a ground truth',
    },
    radii,
    counts: {
      images: images.length,
      points: images.length * names.length,
      predicted: images.reduce((a, e) => a + e.predicted, 0),
      groundTruth: images.reduce((a, e) => a + e.groundTruth, 0),
      both: images.reduce((a, e) => a + e.valid, 0),
    },
    overall: summarize(all, radii, rule),
    perLandmark,
    perImage,
    outliers,
    worst: { by: worstBy, images: worst },
  };
}

/** Pairs and measures a set of images in one call. */
export function evaluatePairs(
  names: string[],
  pairs: ImagePair[],
  options: MetricOptions = {},
): MetricResult {
  return computeMetrics(names, pairErrors(pairs), options);
}

// ---------------------------------------------------------------- metric class

/**
 * Accumulates images one at a time (the MONAI metric pattern): update() per
 * image, compute() for every figure so far, reset() to start again.
 * compute() gives exactly what evaluatePairs() gives for the same images.
 */
export class LandmarkMetric {
  private images: ImageErrors[] = [];

  constructor(
    readonly names: string[],
    readonly options: MetricOptions = {},
  ) {}

  /** Adds one image; returns its errors. The image id defaults to its 1-based position. */
  update(pred: Point[], gt: Point[], spacing: PixelSpacing, image?: string): ImageErrors {
    if (pred.length !== this.names.length || gt.length !== this.names.length)
      throw new Error(
        `LandmarkMetric.update: expected ${this.names.length} points, got ${pred.length} predicted and ${gt.length} ground-truth`,
      );
    const e = imageErrors({ image: image ?? String(this.images.length + 1), pred, gt, spacing });
    this.images.push(e);
    return e;
  }

  /** Images added since construction or the last reset(). */
  get count(): number {
    return this.images.length;
  }

  compute(): MetricResult {
    return computeMetrics(this.names, this.images, this.options);
  }

  reset(): void {
    this.images = [];
  }
}
