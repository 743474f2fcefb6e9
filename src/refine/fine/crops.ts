// Square crops of a fine image around given centres, optionally rotated
// and scaled, with the exact map between crop and image pixels both ways
// (training targets and predictions go through the same formulas). Crop
// pixel (u, v), crop centre c = (P - 1) / 2, image point
//   p = centre + k R(angle) ((u, v) - c),
// so a crop pixel covers k image pixels. Outside the image reads as 0.
import type { Tensor } from '../../engine/index.js';
import * as E from '../../engine/index.js';
import type { Point } from '../../io/types.js';

export interface CropPlace {
  /** Fine pixels. */
  centre: Point;
  /** Radians. */
  angle: number;
  /** Image pixels per crop pixel. */
  scale: number;
}

export const straight = (centre: Point): CropPlace => ({ centre, angle: 0, scale: 1 });

/** Where image point p falls in the crop of side `size` at `place`. */
export function toCrop(p: Point, place: CropPlace, size: number): Point {
  const c = (size - 1) / 2;
  const dx = p.x - place.centre.x;
  const dy = p.y - place.centre.y;
  const cos = Math.cos(place.angle) / place.scale;
  const sin = Math.sin(place.angle) / place.scale;
  return { x: c + cos * dx + sin * dy, y: c - sin * dx + cos * dy };
}

/** The image point that crop point q shows. */
export function fromCrop(q: Point, place: CropPlace, size: number): Point {
  const c = (size - 1) / 2;
  const u = q.x - c;
  const v = q.y - c;
  const cos = Math.cos(place.angle) * place.scale;
  const sin = Math.sin(place.angle) * place.scale;
  return { x: place.centre.x + cos * u - sin * v, y: place.centre.y + sin * u + cos * v };
}

/**
 * The sampling grid of one crop in the image's normalised coordinates
 * (align_corners = false: n = (2p + 1) / W - 1), [size, size, 2] row-major.
 */
function cropGrid(place: CropPlace, size: number, width: number, height: number): Float32Array {
  const grid = new Float32Array(size * size * 2);
  const c = (size - 1) / 2;
  const cos = Math.cos(place.angle) * place.scale;
  const sin = Math.sin(place.angle) * place.scale;
  let i = 0;
  for (let v = 0; v < size; v++)
    for (let u = 0; u < size; u++) {
      const x = place.centre.x + cos * (u - c) - sin * (v - c);
      const y = place.centre.y + sin * (u - c) + cos * (v - c);
      grid[i++] = (2 * x + 1) / width - 1;
      grid[i++] = (2 * y + 1) / height - 1;
    }
  return grid;
}

/** Crops [n, 1, size, size] of one image [1, 1, H, W] at the given places (one grid_sample call). */
export function cropImage(pixels: Tensor, places: CropPlace[], size: number): Tensor {
  const [, , height, width] = pixels.shape as [number, number, number, number];
  const n = places.length;
  const grid = new Float32Array(n * size * size * 2);
  places.forEach((p, i) => {
    grid.set(cropGrid(p, size, width, height), i * size * size * 2);
  });
  return E.tidy(() =>
    E.F.gridSample(pixels, E.tensor(grid, [1, n * size, size, 2]), {
      padding: 'zeros',
      alignCorners: false,
    }).reshape([n, 1, size, size]),
  );
}
