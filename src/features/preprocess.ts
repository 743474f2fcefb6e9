// Working-size images: every image is resized (area interpolation) to a
// square S x S grey tensor in [0, 1]; points move between original and
// working pixels with the pixel-centre convention used everywhere.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { Point } from '../io/types.js';

export interface GreyImage {
  /** H x W, values in [0, 255]. */
  pixels: Tensor;
  width: number;
  height: number;
}

/** [1, 1, S, S] float32 in [0, 1]. */
export function toWorkingTensor(image: GreyImage, size: number): Tensor {
  return E.tidy(() =>
    E.resizeImage(image.pixels.to('float32'), size, size, 'area')
      .div(255)
      .clamp(0, 1)
      .reshape([1, 1, size, size]),
  );
}

export function toWorkingPoint(p: Point, width: number, height: number, size: number): Point {
  return { x: ((p.x + 0.5) * size) / width - 0.5, y: ((p.y + 0.5) * size) / height - 0.5 };
}

export function fromWorkingPoint(p: Point, width: number, height: number, size: number): Point {
  return { x: ((p.x + 0.5) * width) / size - 0.5, y: ((p.y + 0.5) * height) / size - 0.5 };
}
