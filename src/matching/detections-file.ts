// Detections on disk: the predictions in any landmark format, and beside
// them PRED.detections.json with each landmark's confidence (the peak) and
// the template that found it. `fewmark detect` writes them; refinement
// reads them back as pseudo-labels (refine/load.ts).
import { writeAnnotations } from '../io/formats/index.js';
import type { Annotations } from '../io/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Detection } from './detect.js';

const detectionsJsonOf = (predictions: string) => `${predictions}.detections.json`;

/** Detections as landmarks (to write, or to evaluate). */
export function detectionsAsLandmarks(detections: readonly Detection[], names: string[]): Annotations {
  return {
    names,
    images: detections.map((d) => ({ image: d.id, points: d.points, width: d.width, height: d.height })),
  };
}

/** Writes `out` in its format (or `format`) and the detections JSON beside it. */
export async function writeDetections(
  out: string,
  names: string[],
  templates: string[],
  detections: readonly Detection[],
  format?: string,
): Promise<void> {
  await writeAnnotations(out, detectionsAsLandmarks(detections, names), format);
  await writeFileAtomic(
    detectionsJsonOf(out),
    JSON.stringify(
      {
        landmarks: names,
        templates,
        detections: detections.map(({ id, points, confidence, templateOf }) => ({
          image: id,
          points,
          confidence,
          templateOf,
        })),
      },
      (_, v) => (typeof v === 'number' && Number.isNaN(v) ? null : v),
      1,
    ),
  );
}
