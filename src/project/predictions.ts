// Prediction runs: each detection (or refinement) job writes its output
// under predictions/<name>/: the landmarks (predictions.csv), the
// per-landmark confidences `fewmark detect` writes beside them
// (predictions.csv.detections.json), and run.json (what made them).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, ioReason } from '../io/errors.js';
import type { Point } from '../io/types.js';
import { SUBDIRS } from './paths.js';

export const PREDICTIONS_FILE = 'predictions.csv';
export const DETECTIONS_FILE = `${PREDICTIONS_FILE}.detections.json`;
export const RUN_FILE = 'run.json';

export interface Prediction {
  image: string;
  /** One per landmark; null where the run found none. */
  points: (Point | null)[];
  /** Per landmark, in [0, 1]; null where unknown. */
  confidence: (number | null)[];
  /** The template image that won each landmark, when the run says. */
  templateOf?: string[];
}

export interface PredictionRun {
  name: string;
  landmarks: string[];
  templates: string[];
  byImage: Map<string, Prediction>;
}

export const predictionDir = (projectDir: string, name: string) =>
  join(projectDir, SUBDIRS.predictions, name);

const finiteOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Reads a run's detections file (the JSON `fewmark detect` writes). */
export async function readPredictionRun(projectDir: string, name: string): Promise<PredictionRun> {
  const file = join(predictionDir(projectDir, name), DETECTIONS_FILE);
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new DataError(
      file,
      err instanceof SyntaxError ? `not valid JSON: ${err.message}` : `cannot read: ${ioReason(err)}`,
    );
  }
  if (!Array.isArray(v?.landmarks) || !Array.isArray(v.detections))
    throw new DataError(file, 'not a detections file: needs "landmarks" and "detections"');
  const byImage = new Map<string, Prediction>();
  for (const [i, d] of (v.detections as Record<string, unknown>[]).entries()) {
    if (typeof d?.image !== 'string' || !Array.isArray(d.points))
      throw new DataError(file, `detections[${i}] needs image and points`);
    const points = (d.points as Record<string, unknown>[]).map((p) => {
      const x = finiteOrNull(p?.x);
      const y = finiteOrNull(p?.y);
      return x === null || y === null ? null : { x, y };
    });
    const confidence = Array.isArray(d.confidence)
      ? (d.confidence as unknown[]).map(finiteOrNull)
      : points.map(() => null);
    byImage.set(d.image, {
      image: d.image,
      points,
      confidence,
      templateOf: Array.isArray(d.templateOf) ? (d.templateOf as string[]) : undefined,
    });
  }
  return {
    name,
    landmarks: v.landmarks as string[],
    templates: Array.isArray(v.templates) ? (v.templates as string[]) : [],
    byImage,
  };
}

/** The lowest confidence over an image's landmarks (null when none is known). */
export function lowestConfidence(p: Prediction): number | null {
  const known = p.confidence.filter((c): c is number => c !== null);
  return known.length ? Math.min(...known) : null;
}
