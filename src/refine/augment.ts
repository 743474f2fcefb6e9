// Augmentation for refinement: a random rotation, scale and shift about the
// image centre (one affine_grid/grid_sample per batch) with the landmarks
// moved by the same map exactly, then contrast, brightness and gamma jitter.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { isMissing, MISSING, type Point } from '../io/types.js';
import type { Rng } from '../util/random.js';

export interface AugmentOptions {
  maxRotationDeg: number;
  /** Scale factor drawn log-uniformly in [1 / (1 + scale), 1 + scale]. */
  scale: number;
  /** Shift along each axis, up to this fraction of the working size. */
  shift: number;
  contrast: number;
  brightness: number;
  /** log(gamma) drawn uniformly in ±gamma. */
  gamma: number;
}

export const defaultAugmentOptions: AugmentOptions = {
  maxRotationDeg: 10,
  scale: 0.1,
  shift: 0.05,
  contrast: 0.25,
  brightness: 0.1,
  gamma: 0.25,
};

/** Working-pixel map of the input to the output: p_out = c + k R(angle) (p_in - c) + t. */
export interface Affine {
  angle: number;
  scale: number;
  tx: number;
  ty: number;
}

export function mapPoint(p: Point, a: Affine, size: number): Point {
  if (isMissing(p)) return MISSING;
  const c = (size - 1) / 2;
  const cos = Math.cos(a.angle) * a.scale;
  const sin = Math.sin(a.angle) * a.scale;
  const x = p.x - c;
  const y = p.y - c;
  return { x: c + cos * x - sin * y + a.tx, y: c + sin * x + cos * y + a.ty };
}

/**
 * affine_grid theta (align_corners=false) sampling the input for every
 * output pixel: the inverse map p_in = A p_out + b, A = R(-angle) / k,
 * b = c - A (c + t), written in normalised coordinates n = (2p + 1) / S - 1.
 */
function affineTheta(a: Affine, size: number): number[] {
  const c = (size - 1) / 2;
  const cos = Math.cos(a.angle) / a.scale;
  const sin = Math.sin(a.angle) / a.scale;
  const A = [cos, sin, -sin, cos]; // R(-angle) / k, row-major
  const bx = c - (A[0]! * (c + a.tx) + A[1]! * (c + a.ty));
  const by = c - (A[2]! * (c + a.tx) + A[3]! * (c + a.ty));
  const k = (size - 1) / size;
  const shift = 1 / size - 1;
  return [
    A[0]!,
    A[1]!,
    (A[0]! + A[1]!) * k + (2 * bx) / size + shift,
    A[2]!,
    A[3]!,
    (A[2]! + A[3]!) * k + (2 * by) / size + shift,
  ];
}

function randomAffine(rng: Rng, size: number, o: AugmentOptions): Affine {
  return {
    angle: (rng.uniform(-o.maxRotationDeg, o.maxRotationDeg) * Math.PI) / 180,
    scale: Math.exp(rng.uniform(-Math.log1p(o.scale), Math.log1p(o.scale))),
    tx: rng.uniform(-o.shift, o.shift) * size,
    ty: rng.uniform(-o.shift, o.shift) * size,
  };
}

/** Warps images [B, 1, S, S] by one affine map each (zeros outside), with bilinear sampling. */
export function warpImages(images: Tensor, affines: Affine[]): Tensor {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (h !== w) throw new RangeError(`warpImages: images must be square, got ${h} x ${w}`);
  if (affines.length !== b) throw new RangeError(`warpImages: ${affines.length} maps for ${b} images`);
  return E.tidy(() => {
    const theta = E.tensor(
      affines.flatMap((a) => affineTheta(a, h)),
      [b, 2, 3],
    );
    const grid = E.F.affineGrid(theta, [b, c, h, w], false);
    return E.F.gridSample(images, grid, { padding: 'zeros', alignCorners: false });
  });
}

export interface Augmented {
  images: Tensor;
  points: Point[][];
}

/** One random geometric and intensity change per image; points [B][L] in working pixels. */
export function augmentBatch(images: Tensor, points: Point[][], rng: Rng, o: AugmentOptions): Augmented {
  const size = images.shape[2]!;
  const affines = points.map(() => randomAffine(rng, size, o));
  const warped = E.tidy(() => jitterIntensity(warpImages(images, affines), rng, o));
  return { images: warped, points: points.map((row, i) => row.map((p) => mapPoint(p, affines[i]!, size))) };
}

/** Per image [B, 1, H, W] in [0, 1]: a random gamma, then contrast about its mean, then brightness. */
export function jitterIntensity(
  images: Tensor,
  rng: Rng,
  o: Pick<AugmentOptions, 'contrast' | 'brightness' | 'gamma'>,
): Tensor {
  const b = images.shape[0]!;
  const draws = Array.from({ length: b });
  const contrast = draws.map(() => 1 + rng.uniform(-o.contrast, o.contrast));
  const brightness = draws.map(() => rng.uniform(-o.brightness, o.brightness));
  const gamma = draws.map(() => Math.exp(rng.uniform(-o.gamma, o.gamma)));
  return E.tidy(() => {
    const moved = images.clamp(1e-6, 1).pow(E.tensor(gamma, [b, 1, 1, 1]));
    const mean = moved.mean([2, 3], true);
    return moved
      .sub(mean)
      .mul(E.tensor(contrast, [b, 1, 1, 1]))
      .add(mean)
      .add(E.tensor(brightness, [b, 1, 1, 1]))
      .clamp(0, 1);
  });
}
