// Rasterises a hand (shape.ts) into a canonical image: the X-ray path
// length through soft tissue and bone at each pixel centre, turned into
// brightness by 1 - exp(-attenuation). Bones are hollow tubes (bright
// cortical shell, textured trabecular core), so cortical edges and joint
// spaces come out of the geometry. Plain JS over each shape's bounding box.
import type { Point } from '../io/types.js';
import type { Rng } from '../util/random.js';
import type { Bone, Ellipsoid, Hand } from './shape.js';

/** Attenuation per unit path length (unit = image width) of soft tissue and bone. */
const MU_TISSUE = 9;
const MU_BONE = 50;

/** Smooth value noise: a random lattice with smoothstep interpolation. */
class ValueNoise {
  readonly #w: number;
  readonly #values: Float32Array;
  readonly #step: number;

  constructor(rng: Rng, size: number, step: number) {
    this.#step = step;
    this.#w = Math.ceil(size / step) + 3;
    this.#values = new Float32Array(this.#w * this.#w);
    for (let i = 0; i < this.#values.length; i++) this.#values[i] = rng.next();
  }

  at(x: number, y: number): number {
    const fx = Math.max(0, x / this.#step + 1);
    const fy = Math.max(0, y / this.#step + 1);
    const ix = Math.min(Math.floor(fx), this.#w - 2);
    const iy = Math.min(Math.floor(fy), this.#w - 2);
    let tx = fx - ix;
    let ty = fy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const v = this.#values;
    const i = iy * this.#w + ix;
    const top = v[i]! + (v[i + 1]! - v[i]!) * tx;
    const bottom = v[i + this.#w]! + (v[i + this.#w + 1]! - v[i + this.#w]!) * tx;
    return top + (bottom - top) * ty;
  }
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function boxOf(points: Point[], margin: number, size: number): Box | null {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
  }
  const box = {
    x0: Math.max(0, Math.floor(x0 - margin)),
    x1: Math.min(size - 1, Math.ceil(x1 + margin)),
    y0: Math.max(0, Math.floor(y0 - margin)),
    y1: Math.min(size - 1, Math.ceil(y1 + margin)),
  };
  return box.x0 > box.x1 || box.y0 > box.y1 ? null : box;
}

/** Unit coordinates to pixel coordinates (origin at the top-left pixel centre). */
export const toPixels = (p: Point, size: number): Point => ({ x: p.x * size - 0.5, y: p.y * size - 0.5 });

const flareAt = (u: number) => (u < 1 ? (1 - u * u) * (1 - u * u) : 0);

/** Adds (or, with mode 'max', maxes) one bone's path length into out. */
function drawBone(
  out: Float32Array,
  bone: Bone,
  size: number,
  density: (x: number, y: number) => number,
  mode: 'add' | 'max',
): Box | null {
  const a = toPixels(bone.a, size);
  const b = toPixels(bone.b, size);
  const rMax = Math.max(bone.rBase, bone.rShaft, bone.rHead) * size;
  const box = boxOf([a, b], rMax + 1, size);
  if (!box) return null;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy);
  const ux = dx / len;
  const uy = dy / len;
  const rB = bone.rBase * size;
  const rS = bone.rShaft * size;
  const rH = bone.rHead * size;
  const ct = bone.cortex * rS;
  for (let y = box.y0; y <= box.y1; y++)
    for (let x = box.x0; x <= box.x1; x++) {
      const px = x - a.x;
      const py = y - a.y;
      const s = px * ux + py * uy;
      const perp = px * uy - py * ux;
      let t: number;
      let over = 0;
      if (s < 0) {
        t = 0;
        over = -s * bone.capBase;
      } else if (s > len) {
        t = 1;
        over = (s - len) * bone.capHead;
      } else t = s / len;
      const d2 = perp * perp + over * over;
      const fBase = flareAt(t / bone.flare);
      const fHead = flareAt((1 - t) / bone.flare);
      const R = rS + (rB - rS) * fBase + (rH - rS) * fHead;
      if (d2 >= R * R) continue;
      const end = Math.max(fBase, fHead, over > 0 ? 1 : 0);
      const r = Math.max(0, R - ct * (1 - 0.7 * end));
      const outer = 2 * Math.sqrt(R * R - d2);
      const inner = d2 < r * r ? 2 * Math.sqrt(r * r - d2) : 0;
      // Marrow in the shaft, denser trabecular bone towards the ends.
      const core = density(x, y) * (0.22 + 0.78 * end);
      const v = (outer - (1 - core) * inner) / size;
      const i = y * size + x;
      if (mode === 'add') out[i]! += v;
      else if (v > out[i]!) out[i] = v;
    }
  return box;
}

function drawEllipsoid(
  out: Float32Array,
  e: Ellipsoid,
  size: number,
  density: (x: number, y: number) => number,
): void {
  const c = toPixels(e.c, size);
  const ax = e.ax * size;
  const ay = e.ay * size;
  const box = boxOf([c], Math.max(ax, ay) + 1, size);
  if (!box) return;
  const cos = Math.cos(e.angle);
  const sin = Math.sin(e.angle);
  const depth = 0.65 * Math.min(ax, ay);
  const core2 = e.core * e.core;
  for (let y = box.y0; y <= box.y1; y++)
    for (let x = box.x0; x <= box.x1; x++) {
      const px = x - c.x;
      const py = y - c.y;
      const lx = Math.abs(px * cos + py * sin) / ax;
      const ly = Math.abs(-px * sin + py * cos) / ay;
      const q = e.power === 2 ? lx * lx + ly * ly : (lx ** e.power + ly ** e.power) ** (2 / e.power);
      if (q >= 1) continue;
      const outer = 2 * depth * Math.sqrt(1 - q);
      const inner = q < core2 ? 2 * depth * e.core * Math.sqrt(1 - q / core2) : 0;
      out[y * size + x]! += (outer - (1 - density(x, y)) * inner) / size;
    }
}

/** Soft-tissue path length: the thickest of the tubes and domes at each pixel. */
function drawTissue(out: Float32Array, hand: Hand, size: number): void {
  for (const tube of hand.tubes) {
    const a = toPixels(tube.a, size);
    const b = toPixels(tube.b, size);
    const r0 = tube.r0 * size;
    const r1 = tube.r1 * size;
    const box = boxOf([a, b], Math.max(r0, r1) + 1, size);
    if (!box) continue;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    for (let y = box.y0; y <= box.y1; y++)
      for (let x = box.x0; x <= box.x1; x++) {
        const px = x - a.x;
        const py = y - a.y;
        const t = Math.max(0, Math.min(1, (px * dx + py * dy) / len2));
        const qx = px - t * dx;
        const qy = py - t * dy;
        const r = r0 + (r1 - r0) * t;
        const d2 = qx * qx + qy * qy;
        if (d2 >= r * r) continue;
        const v = (2 * tube.flat * Math.sqrt(r * r - d2)) / size;
        const i = y * size + x;
        if (v > out[i]!) out[i] = v;
      }
  }
  for (const dome of hand.domes) {
    const c = toPixels(dome.c, size);
    const ax = dome.ax * size;
    const ay = dome.ay * size;
    const box = boxOf([c], Math.max(ax, ay) + 1, size);
    if (!box) continue;
    const cos = Math.cos(dome.angle);
    const sin = Math.sin(dome.angle);
    for (let y = box.y0; y <= box.y1; y++)
      for (let x = box.x0; x <= box.x1; x++) {
        const px = x - c.x;
        const py = y - c.y;
        const lx = (px * cos + py * sin) / ax;
        const ly = (-px * sin + py * cos) / ay;
        const q = lx * lx + ly * ly;
        if (q >= 1) continue;
        // Flat-topped: thick across the palm, thinning over the outer quarter.
        const v = dome.thickness * Math.min(1, 1.6 * Math.sqrt(1 - q));
        const i = y * size + x;
        if (v > out[i]!) out[i] = v;
      }
  }
}

/**
 * The canonical (unwarped) image of a hand, size x size, brightness in
 * [0, 1): dark background, grey soft tissue, bright bone. `rng` draws the
 * trabecular and soft-tissue texture.
 */
export function renderHand(hand: Hand, size: number, rng: Rng): Float32Array {
  const n = size * size;
  const tissue = new Float32Array(n);
  const bone = new Float32Array(n);
  const fine = new ValueNoise(rng, size, Math.max(1.5, size / 200));
  const medium = new ValueNoise(rng, size, Math.max(3, size / 70));
  const coarse = new ValueNoise(rng, size, size / 12);
  // Trabecular bone: a fraction of cortical density, mottled.
  const density = (x: number, y: number) => 0.22 + 0.25 * fine.at(x, y) + 0.25 * medium.at(x, y);

  drawTissue(tissue, hand, size);
  for (const e of hand.ellipsoids) drawEllipsoid(bone, e, size, density);
  // Ungrouped bones add (overlaps look brighter, as on film); a group is one
  // bone with its process, merged by maximum and then added.
  const groups = new Map<number, Bone[]>();
  for (const b of hand.bones) {
    if (b.group === undefined) drawBone(bone, b, size, density, 'add');
    else groups.set(b.group, [...(groups.get(b.group) ?? []), b]);
  }
  const scratch = new Float32Array(n);
  for (const members of groups.values()) {
    const boxes = members.map((b) => drawBone(scratch, b, size, density, 'max'));
    for (const box of boxes) {
      if (!box) continue;
      for (let y = box.y0; y <= box.y1; y++)
        for (let x = box.x0; x <= box.x1; x++) {
          const i = y * size + x;
          bone[i]! += scratch[i]!;
          scratch[i] = 0;
        }
    }
  }

  const out = new Float32Array(n);
  for (let y = 0, i = 0; y < size; y++)
    for (let x = 0; x < size; x++, i++) {
      const t = tissue[i]!;
      const bn = bone[i]!;
      if (t === 0 && bn === 0) continue;
      const fat = t > 0 ? 0.85 + 0.3 * coarse.at(x, y) : 1;
      out[i] = 1 - Math.exp(-(MU_TISSUE * t * fat + MU_BONE * bn));
    }
  return out;
}
