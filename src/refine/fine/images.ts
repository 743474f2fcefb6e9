// The fine stage's view of an image: the original resized (area
// interpolation, same factor along both axes up to rounding) so its longer
// side is `longSide` pixels, never enlarged; points move between original
// and fine pixels with the pixel-centre convention used everywhere.
import type { Tensor } from '../../engine/index.js';
import * as E from '../../engine/index.js';
import type { GreyImage } from '../../features/preprocess.js';
import { readImage } from '../../io/image.js';
import type { Point } from '../../io/types.js';

export interface FineImage {
  /** Original size. */
  width: number;
  height: number;
  /** [1, 1, h, w] float32 in [0, 1]. */
  pixels: Tensor;
}

export function toFineImage(image: GreyImage, longSide: number): FineImage {
  const factor = Math.min(1, longSide / Math.max(image.width, image.height));
  const w = Math.max(1, Math.round(image.width * factor));
  const h = Math.max(1, Math.round(image.height * factor));
  const pixels = E.tidy(() =>
    E.resizeImage(image.pixels.to('float32'), w, h, 'area').div(255).clamp(0, 1).reshape([1, 1, h, w]),
  );
  return { width: image.width, height: image.height, pixels };
}

export async function loadFineImage(file: string, longSide: number): Promise<FineImage> {
  const image = await readImage(file);
  try {
    return toFineImage(image, longSide);
  } finally {
    image.pixels.dispose();
  }
}

/** Fine pixels per original pixel along x and y. */
function factors(image: FineImage): [number, number] {
  const [h, w] = image.pixels.shape.slice(2) as [number, number];
  return [w / image.width, h / image.height];
}

export function toFinePoint(p: Point, image: FineImage): Point {
  const [fx, fy] = factors(image);
  return { x: (p.x + 0.5) * fx - 0.5, y: (p.y + 0.5) * fy - 0.5 };
}

export function fromFinePoint(p: Point, image: FineImage): Point {
  const [fx, fy] = factors(image);
  return { x: (p.x + 0.5) / fx - 0.5, y: (p.y + 0.5) / fy - 0.5 };
}
