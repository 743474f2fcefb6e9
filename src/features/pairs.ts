// Self-supervised training pairs: a whole image at working size and a
// rotated, intensity-jittered crop of half its size, with
// query points in the crop and where they truly lie in the whole image.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { Rng } from '../util/random.js';

export interface PairOptions {
  /** Crop side as a fraction of the working size (multiple of 32 after scaling). */
  cropFraction: number;
  maxRotationDeg: number;
  brightness: number;
  contrast: number;
  queriesPerImage: number;
}

export const defaultPairOptions: PairOptions = {
  cropFraction: 0.5,
  maxRotationDeg: 20,
  brightness: 0.15,
  contrast: 0.25,
  queriesPerImage: 16,
};

export interface PairBatch {
  whole: Tensor; // [B, 1, S, S]
  crop: Tensor; // [B, 1, s, s]
  /** Query points in crop pixels, [B, Q, 2] (x, y). */
  queryInCrop: Tensor;
  /** The same points in whole-image pixels, [B, Q, 2]. */
  queryInWhole: Tensor;
}

/**
 * Builds one batch from `images` [N, 1, S, S] (values in [0, 1]) for the
 * listed image indices. Pixel coordinates put the top-left pixel's centre
 * at (0, 0), as everywhere in fewmark.
 */
export function samplePairs(
  images: Tensor,
  indices: number[],
  rng: Rng,
  o: PairOptions = defaultPairOptions,
): PairBatch {
  const size = images.shape[2]!;
  const cropSize = Math.round((size * o.cropFraction) / 32) * 32;
  const ratio = cropSize / size;
  const b = indices.length;
  const thetas: number[] = [];
  const inCrop: number[] = [];
  const inWhole: number[] = [];
  const jitter: number[][] = [[], []];
  for (let i = 0; i < b; i++) {
    const angle = (rng.uniform(-o.maxRotationDeg, o.maxRotationDeg) * Math.PI) / 180;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    // Keep the rotated crop inside the image: its half-extent along an axis.
    const half = (cropSize / 2) * (Math.abs(cos) + Math.abs(sin));
    const lo = Math.min(half - 0.5, (size - 1) / 2);
    const cx = rng.uniform(lo, size - 1 - lo);
    const cy = rng.uniform(lo, size - 1 - lo);
    // Output normalised coords n -> input normalised: ratio * R n + (2c + 1) / S - 1.
    thetas.push(
      ratio * cos,
      -ratio * sin,
      (2 * cx + 1) / size - 1,
      ratio * sin,
      ratio * cos,
      (2 * cy + 1) / size - 1,
    );
    const mid = (cropSize - 1) / 2;
    for (let q = 0; q < o.queriesPerImage; q++) {
      const u = rng.uniform(0, cropSize - 1);
      const v = rng.uniform(0, cropSize - 1);
      inCrop.push(u, v);
      inWhole.push(cx + cos * (u - mid) - sin * (v - mid), cy + sin * (u - mid) + cos * (v - mid));
    }
    jitter[0]!.push(1 + rng.uniform(-o.contrast, o.contrast));
    jitter[1]!.push(rng.uniform(-o.brightness, o.brightness));
  }
  return E.tidy(() => {
    const whole = images.indexSelect(0, E.tensor(indices, [b], 'int64'));
    const theta = E.tensor(thetas, [b, 2, 3]);
    const grid = E.F.affineGrid(theta, [b, 1, cropSize, cropSize], false);
    const sampled = E.F.gridSample(whole, grid, { padding: 'border', alignCorners: false });
    // Contrast around the crop's mean, then brightness.
    const mean = sampled.mean([2, 3], true);
    const crop = sampled
      .sub(mean)
      .mul(E.tensor(jitter[0]!, [b, 1, 1, 1]))
      .add(mean)
      .add(E.tensor(jitter[1]!, [b, 1, 1, 1]))
      .clamp(0, 1);
    return {
      whole,
      crop,
      queryInCrop: E.tensor(inCrop, [b, o.queriesPerImage, 2]),
      queryInWhole: E.tensor(inWhole, [b, o.queriesPerImage, 2]),
    };
  });
}

/** grid_sample coordinates for pixel points in an image of the given size. */
export function toGrid(points: Tensor, width: number, height: number): Tensor {
  // align_corners=false: n = (2p + 1) / size - 1
  return E.tidy(() => {
    const scale = E.tensor([2 / width, 2 / height]);
    const shift = E.tensor([1 / width - 1, 1 / height - 1]);
    return points.mul(scale).add(shift);
  });
}
