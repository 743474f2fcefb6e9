// The annotated templates of a landmarks file paired with the image files
// of a folder, checked before any work: each is in the folder, has points,
// and every point lies on its image. Detection and refinement both start here.
import { DataError } from '../io/errors.js';
import { imageId, readImageSize } from '../io/folder.js';
import { findImage } from '../io/image-ids.js';
import { type Annotations, isMissing, type Point } from '../io/types.js';

export interface Template {
  /** The image id in the folder (not necessarily the name the file gave). */
  id: string;
  file: string;
  points: Point[];
}

export async function pairTemplates(
  labels: Annotations,
  labelsFile: string,
  files: string[],
  imagesDir: string,
): Promise<Template[]> {
  const byId = new Map(files.map((f) => [imageId(f), f]));
  const templates: Template[] = [];
  for (const t of labels.images) {
    const file = findImage(t.image, byId);
    if (!file) throw new DataError(labelsFile, `template image '${t.image}' is not in ${imagesDir}`, t.line);
    if (templates.some((other) => other.file === file))
      throw new DataError(
        labelsFile,
        `template image '${t.image}' names ${imageId(file)} a second time`,
        t.line,
      );
    if (t.points.every(isMissing))
      throw new DataError(labelsFile, `template image '${t.image}' has no points`, t.line);
    const { width, height } = await readImageSize(file);
    t.points.forEach((p, k) => {
      // Pixel centres run from 0 to width - 1; the image's edge is half a pixel further.
      if (!isMissing(p) && (p.x < -0.5 || p.y < -0.5 || p.x > width - 0.5 || p.y > height - 0.5))
        throw new DataError(
          labelsFile,
          `template image '${t.image}' landmark '${labels.names[k]}' at (${p.x}, ${p.y}) is off the image (${width} x ${height} pixels)`,
          t.line,
        );
    });
    templates.push({ id: imageId(file), file, points: t.points });
  }
  return templates;
}
