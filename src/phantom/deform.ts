// The smooth map from the canonical image to a phantom image, and the same
// map applied to points.
//
// The image is made by backward mapping: output pixel y samples the
// canonical image at  B(y) = P^-1(y + d(y)),  where d is a cubic B-spline
// displacement field on a coarse control grid (pixels) and P a similarity
// about the image centre (rotation, scale, translation). A canonical point x
// goes to the y that solves B(y) = x, i.e. y + d(y) = P(x); `forward` solves
// it by Newton's method with d's exact Jacobian, to well below 1e-6 px.
// All coordinates are pixels, origin at the top-left pixel centre.
import * as E from '../engine/index.js';
import type { Point } from '../io/types.js';
import type { Rng } from '../util/random.js';

export interface Pose {
  /** Rotation in radians (positive turns x towards y: clockwise on screen). */
  angle: number;
  scale: number;
  /** Translation in pixels. */
  tx: number;
  ty: number;
}

export interface Warp {
  size: number;
  pose: Pose;
  /** Control-grid cells per side; the grid has (cells + 3)^2 coefficients. */
  cells: number;
  /** Displacement coefficients in pixels, row-major [row][column]. */
  dx: Float64Array;
  dy: Float64Array;
}

export const IDENTITY_POSE: Pose = Object.freeze({ angle: 0, scale: 1, tx: 0, ty: 0 });

/** Cubic B-spline kernel and its derivative. */
function bspline(u: number): number {
  const a = Math.abs(u);
  if (a < 1) return 2 / 3 - a * a + (a * a * a) / 2;
  if (a < 2) return (2 - a) ** 3 / 6;
  return 0;
}

function bsplineDerivative(u: number): number {
  const a = Math.abs(u);
  const s = Math.sign(u);
  if (a < 1) return s * (-2 * a + 1.5 * a * a);
  if (a < 2) return -s * 0.5 * (2 - a) ** 2;
  return 0;
}

/** Continuous control-grid coordinate of pixel coordinate p. */
const gridCoord = (w: Warp, p: number) => ((p + 0.5) * w.cells) / w.size + 1;

export interface Displacement {
  x: number;
  y: number;
  /** Jacobian of d: d(dx)/dx, d(dx)/dy, d(dy)/dx, d(dy)/dy. */
  xx: number;
  xy: number;
  yx: number;
  yy: number;
}

/** d and its Jacobian at a point (output pixels). */
export function displacement(w: Warp, p: Point): Displacement {
  const g = w.cells + 3;
  const h = w.cells / w.size;
  const u = gridCoord(w, p.x);
  const v = gridCoord(w, p.y);
  const out = { x: 0, y: 0, xx: 0, xy: 0, yx: 0, yy: 0 };
  const k0 = Math.floor(u) - 1;
  const l0 = Math.floor(v) - 1;
  for (let l = Math.max(0, l0); l <= Math.min(g - 1, l0 + 3); l++) {
    const by = bspline(v - l);
    const dby = bsplineDerivative(v - l) * h;
    for (let k = Math.max(0, k0); k <= Math.min(g - 1, k0 + 3); k++) {
      const bx = bspline(u - k);
      const dbx = bsplineDerivative(u - k) * h;
      const cx = w.dx[l * g + k]!;
      const cy = w.dy[l * g + k]!;
      out.x += cx * bx * by;
      out.y += cy * bx * by;
      out.xx += cx * dbx * by;
      out.xy += cx * bx * dby;
      out.yx += cy * dbx * by;
      out.yy += cy * bx * dby;
    }
  }
  return out;
}

const centre = (size: number) => (size - 1) / 2;

/** P: canonical to (undisplaced) output coordinates. */
export function poseForward(pose: Pose, size: number, p: Point): Point {
  const c = centre(size);
  const cos = Math.cos(pose.angle) * pose.scale;
  const sin = Math.sin(pose.angle) * pose.scale;
  const x = p.x - c;
  const y = p.y - c;
  return { x: c + cos * x - sin * y + pose.tx, y: c + sin * x + cos * y + pose.ty };
}

/** P^-1. */
export function poseInverse(pose: Pose, size: number, p: Point): Point {
  const c = centre(size);
  const cos = Math.cos(pose.angle) / pose.scale;
  const sin = Math.sin(pose.angle) / pose.scale;
  const x = p.x - c - pose.tx;
  const y = p.y - c - pose.ty;
  return { x: c + cos * x + sin * y, y: c - sin * x + cos * y };
}

/** Where output point y samples the canonical image: B(y) = P^-1(y + d(y)). */
export function backward(w: Warp, p: Point): Point {
  const d = displacement(w, p);
  return poseInverse(w.pose, w.size, { x: p.x + d.x, y: p.y + d.y });
}

/** Where canonical point x lands in the output image: the y with B(y) = x. NaN stays NaN. */
export function forward(w: Warp, p: Point): Point {
  if (Number.isNaN(p.x) || Number.isNaN(p.y)) return { x: Number.NaN, y: Number.NaN };
  const z = poseForward(w.pose, w.size, p);
  const d0 = displacement(w, z);
  let x = z.x - d0.x;
  let y = z.y - d0.y;
  for (let i = 0; i < 50; i++) {
    const d = displacement(w, { x, y });
    const rx = x + d.x - z.x;
    const ry = y + d.y - z.y;
    if (Math.abs(rx) < 1e-10 && Math.abs(ry) < 1e-10) break;
    const a = 1 + d.xx;
    const b = d.xy;
    const c = d.yx;
    const e = 1 + d.yy;
    const det = a * e - b * c;
    x -= (e * rx - b * ry) / det;
    y -= (-c * rx + a * ry) / det;
  }
  return { x, y };
}

/** The smallest det(I + grad d) over a grid of points: > 0 means no folding. */
export function minJacobian(w: Warp, step = w.size / 40): number {
  let min = Number.POSITIVE_INFINITY;
  for (let y = 0; y < w.size; y += step)
    for (let x = 0; x < w.size; x += step) {
      const d = displacement(w, { x, y });
      min = Math.min(min, (1 + d.xx) * (1 + d.yy) - d.xy * d.yx);
    }
  return min;
}

/**
 * A random displacement field: `cells` control cells per side, coefficients
 * normal with standard deviation `amplitude` (a fraction of the size),
 * shrunk until det(I + grad d) >= `minDet` everywhere (a smooth bijection).
 */
export function sampleWarp(
  rng: Rng,
  size: number,
  pose: Pose,
  cells: number,
  amplitude: number,
  minDet = 0.4,
): Warp {
  const g = cells + 3;
  const dx = new Float64Array(g * g);
  const dy = new Float64Array(g * g);
  for (let i = 0; i < g * g; i++) {
    dx[i] = rng.clippedNormal(amplitude * size);
    dy[i] = rng.clippedNormal(amplitude * size);
  }
  const w: Warp = { size, pose, cells, dx, dy };
  for (let i = 0; i < 20 && minJacobian(w) < minDet; i++)
    for (let j = 0; j < g * g; j++) {
      dx[j]! *= 0.8;
      dy[j]! *= 0.8;
    }
  return w;
}

/** The sampling grid for gridSample: [size, size, 2] of B(y), normalised to [-1, 1]. */
export function samplingGrid(w: Warp): Float32Array {
  const S = w.size;
  const g = w.cells + 3;
  // Separable B-spline: basis[p][k] for p = 0..S-1, then rows of d.
  const basis = new Float64Array(S * g);
  for (let p = 0; p < S; p++) {
    const u = gridCoord(w, p);
    for (let k = 0; k < g; k++) basis[p * g + k] = bspline(u - k);
  }
  // R[l][x] = sum_k c[l][k] basis[x][k]
  const rx = new Float64Array(g * S);
  const ry = new Float64Array(g * S);
  for (let l = 0; l < g; l++)
    for (let x = 0; x < S; x++) {
      let sx = 0;
      let sy = 0;
      for (let k = 0; k < g; k++) {
        const b = basis[x * g + k]!;
        if (b === 0) continue;
        sx += w.dx[l * g + k]! * b;
        sy += w.dy[l * g + k]! * b;
      }
      rx[l * S + x] = sx;
      ry[l * S + x] = sy;
    }
  const c = centre(S);
  const cos = Math.cos(w.pose.angle) / w.pose.scale;
  const sin = Math.sin(w.pose.angle) / w.pose.scale;
  const out = new Float32Array(S * S * 2);
  const rowX = new Float64Array(S);
  const rowY = new Float64Array(S);
  for (let y = 0; y < S; y++) {
    rowX.fill(0);
    rowY.fill(0);
    for (let l = 0; l < g; l++) {
      const b = basis[y * g + l]!;
      if (b === 0) continue;
      for (let x = 0; x < S; x++) {
        rowX[x]! += b * rx[l * S + x]!;
        rowY[x]! += b * ry[l * S + x]!;
      }
    }
    for (let x = 0; x < S; x++) {
      const zx = x + rowX[x]! - c - w.pose.tx;
      const zy = y + rowY[x]! - c - w.pose.ty;
      const ux = c + cos * zx + sin * zy;
      const uy = c - sin * zx + cos * zy;
      const i = 2 * (y * S + x);
      out[i] = (2 * ux + 1) / S - 1;
      out[i + 1] = (2 * uy + 1) / S - 1;
    }
  }
  return out;
}

/** Warps a canonical image (H x W = size x size, float) into the output frame. */
export function warpImage(canonical: E.Tensor, w: Warp): E.Tensor {
  const S = w.size;
  if (canonical.rank !== 2 || canonical.shape[0] !== S || canonical.shape[1] !== S)
    throw new RangeError(`warpImage: expected a ${S} x ${S} image, got [${canonical.shape.join(', ')}]`);
  return E.tidy(() => {
    const grid = E.tensor(samplingGrid(w), [1, S, S, 2]);
    const input = canonical.to('float32').reshape([1, 1, S, S]);
    return E.F.gridSample(input, grid, { mode: 'bilinear', padding: 'border', alignCorners: false }).reshape([
      S,
      S,
    ]);
  });
}
