// A plain folder of images with, optionally, a landmarks file in any
// supported format. Every labelled id must have an image.
import { DataError } from '../errors.js';
import { imageId, listImages, readImageSize } from '../folder.js';
import { readAnnotations } from '../formats/index.js';
import type { Dataset, ImageRecord, Spacing } from '../types.js';

export interface FolderOptions {
  landmarks?: string;
  landmarksFormat?: string;
  /** Spacing for images whose files and labels give none (mm per pixel). */
  spacing?: Spacing;
}

export async function loadImageFolder(imagesDir: string, o: FolderOptions = {}): Promise<Dataset> {
  const files = await listImages(imagesDir);
  const ann = o.landmarks ? await readAnnotations(o.landmarks, o.landmarksFormat) : undefined;
  const labels = new Map(ann?.images.map((a) => [a.image, a]));
  const images: ImageRecord[] = [];
  for (const file of files) {
    const id = imageId(file);
    const a = labels.get(id);
    labels.delete(id);
    const size = a?.width && a.height ? { width: a.width, height: a.height } : await readImageSize(file);
    images.push({ id, file, ...size, landmarks: a?.points, spacing: a?.spacing ?? o.spacing });
  }
  const orphan = [...labels.keys()][0];
  if (orphan !== undefined && o.landmarks)
    throw new DataError(o.landmarks, `image '${orphan}' is labelled but has no file in ${imagesDir}`);
  return { name: imagesDir, landmarkNames: ann?.names ?? [], images };
}
