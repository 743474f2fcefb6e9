// What the API sends for annotations and predictions: points as [x, y] or
// null (JSON has no NaN), with the status the page shows.
import type { Point } from '../io/types.js';
import { type AnnotationRecord, statusOf } from '../project/annotations.js';
import type { Prediction } from '../project/predictions.js';

export type PointView = [number, number] | null;

const pointView = (p: Point | null): PointView => (p ? [p.x, p.y] : null);

export function annotationView(r: AnnotationRecord | undefined) {
  if (!r) return null;
  return {
    points: r.points.map(pointView),
    source: r.source,
    revision: r.revision,
    updated: r.updated,
    status: statusOf(r),
  };
}

export function predictionView(p: Prediction | undefined, run: string | undefined) {
  if (!p) return null;
  return { run, points: p.points.map(pointView), confidence: p.confidence, templateOf: p.templateOf ?? null };
}
