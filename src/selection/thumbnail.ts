// Thumbnails of chosen images for the selection report: the original image
// scaled so its longer side is `side` pixels (aspect kept), as a PNG, and
// its key points moved from working pixels to thumbnail pixels.
import * as E from '../engine/index.js';
import { fromWorkingPoint } from '../features/preprocess.js';
import { readImage } from '../io/image.js';
import type { Point } from '../io/types.js';

export interface Thumbnail {
  png: Buffer;
  width: number;
  height: number;
  /** Key points in thumbnail pixels. */
  points: Point[];
}

/** A point in original pixels to a w x h thumbnail of a width x height image (pixel centres stay centres). */
const toThumbnail = (p: Point, width: number, height: number, w: number, h: number): Point => ({
  x: ((p.x + 0.5) * w) / width - 0.5,
  y: ((p.y + 0.5) * h) / height - 0.5,
});

export async function makeThumbnail(
  file: string,
  workingPoints: readonly Point[],
  inputSize: number,
  side = 256,
): Promise<Thumbnail> {
  const image = await readImage(file);
  const { width, height } = image;
  const scale = side / Math.max(width, height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  let png: Buffer;
  try {
    png = E.tidy(() =>
      E.encodeImage(
        E.resizeImage(image.pixels, w, h, scale < 1 ? 'area' : 'linear')
          .add(0.5)
          .clamp(0, 255)
          .to('uint8'),
        '.png',
      ),
    );
  } finally {
    image.pixels.dispose();
  }
  const points = workingPoints.map((p) =>
    toThumbnail(fromWorkingPoint(p, width, height, inputSize), width, height, w, h),
  );
  return { png, width: w, height: h, points };
}
