// `fewmark evaluate`: compares predicted landmarks with the ground truth and
// reports the field's figures (MRE ± std, median, SDR at 2/2.5/3/4 mm, per
// landmark, per image, outliers). Images are matched by id; landmarks by
// name (same names in another order are reordered). Every check runs before
// any output is written, and all four output files are formatted before the
// first one is written, so a bad input leaves no files behind.
import { join } from 'node:path';
import { checkRadii, evaluateLandmarks, fixedSpacing } from '../../eval/evaluate.js';
import type { WorstBy } from '../../eval/metrics.js';
import {
  type EvaluationResult,
  renderImageCsv,
  renderJson,
  renderLandmarkCsv,
  renderText,
} from '../../eval/report.js';
import { readAnnotations } from '../../io/formats/index.js';
import { checkOutput } from '../../io/output-check.js';
import type { Annotations } from '../../io/types.js';
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

function checkRadiiFlag(radii: number[] | undefined, flag: string): void {
  try {
    checkRadii(radii, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Evaluates annotations already read; `options.pred`/`options.gt` name the files in messages. */
export function evaluateAnnotations(
  pred: Annotations,
  gt: Annotations,
  options: EvaluateOptions,
): EvaluationResult {
  checkRadiiFlag(options.radii, '--radii');
  checkRadiiFlag(options.outlierRadii, '--outlier-radii');
  try {
    fixedSpacing(options.spacing, '--spacing');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return evaluateLandmarks(pred, gt, {
    ...options,
    predName: options.pred,
    gtName: options.gt,
    spacingHint: 'pass --spacing MM',
  });
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
