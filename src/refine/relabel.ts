// Labels the unlabeled images with a refined model and writes them as a
// predictions file: the next round's, cycle's or fine stage's pseudo-labels.
import { detectAll } from '../matching/detect-all.js';
import { writeDetections } from '../matching/detections-file.js';
import type { RoundHooks } from './hooks.js';
import { RefinedDetector } from './infer.js';

/** The refined model in `model` (both stages unless `fine: false`) labels `images` into `file`. */
export async function relabel(
  model: string,
  images: string[],
  file: string,
  hooks: RoundHooks,
  options: { fine?: boolean } = {},
): Promise<void> {
  const detector = await RefinedDetector.load(model, options);
  try {
    const found = await detectAll((id, f) => detector.detect(id, f), images, {
      signal: hooks.signal,
      onProgress: (done, total) => hooks.progress?.('detecting (refined)', done, total),
    });
    await writeDetections(file, detector.landmarks, detector.meta.templates, found);
  } finally {
    detector.dispose();
  }
}
