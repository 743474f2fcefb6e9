// One phantom image from (seed, index): plan its parameters (pure JS, cheap),
// then render: canonical hand -> smooth warp -> blur -> exposure, gamma,
// heel effect, side marker, noise -> 8-bit. Every random draw comes from a
// stream keyed by (seed, index, purpose), so an image does not depend on how
// many others are made, and the same seed gives the same bytes.
import * as E from '../engine/index.js';
import type { AnnotatedImage, Annotations, Point } from '../io/types.js';
import { Rng } from '../util/random.js';
import { forward, IDENTITY_POSE, type Pose, sampleWarp, type Warp, warpImage } from './deform.js';
import { renderHand, toPixels } from './render.js';
import {
  ATYPICAL_KINDS,
  type AtypicalKind,
  type Hand,
  LANDMARK_NAMES,
  LANDMARK_PRIORITY,
  type LandmarkName,
  sampleHand,
} from './shape.js';

export const DEFAULT_SIZE = 512;
export const DEFAULT_ATYPICAL_RATE = 0.125;
/** Nominal physical width of the image: the hand is adult-sized at this field of view. */
export const FIELD_OF_VIEW_MM = 380;

// Stream numbers: one independent random stream per purpose.
const STREAM = { atypical: 1, kind: 2, hand: 3, pose: 4, imaging: 5, texture: 6, noise: 7 } as const;

export interface PhantomConfig {
  /** Image width and height in pixels (default 512). */
  size?: number;
  /** Fraction of atypical images, 0..0.5 (default 0.125: one in each block of 8). */
  atypicalRate?: number;
  /** How many landmarks (picked in LANDMARK_PRIORITY order) or which, by name; default all 17. */
  landmarks?: number | readonly string[];
}

export interface Imaging {
  gamma: number;
  contrast: number;
  background: number;
  brightness: number;
  /** Gaussian blur sigma in pixels. */
  blur: number;
  /** Additive noise sigma, and the part that grows with sqrt(signal). */
  noise: number;
  quantumNoise: number;
  /** Exposure gradient across the image (heel effect): direction and strength. */
  heel: { angle: number; amount: number };
  /** A bright lead side marker "L" in a corner, in pixels; null for none. */
  marker: { x: number; y: number; height: number } | null;
}

export interface PhantomPlan {
  seed: number;
  index: number;
  id: string;
  size: number;
  atypical: AtypicalKind | null;
  /** What is unusual about it, in words ('' when typical). */
  note: string;
  hand: Hand;
  /** All LANDMARK_NAMES in canonical-image pixels (NaN where absent). */
  canonical: Point[];
  warp: Warp;
  imaging: Imaging;
  /** The selected landmarks in output pixels (NaN where absent). */
  points: Point[];
}

/** The landmark names a config selects, in file order. */
export function landmarkNames(landmarks?: number | readonly string[]): LandmarkName[] {
  if (landmarks === undefined) return [...LANDMARK_NAMES];
  if (typeof landmarks === 'number') {
    if (!Number.isInteger(landmarks) || landmarks < 1 || landmarks > LANDMARK_NAMES.length)
      throw new Error(
        `Expected a count from 1 to ${LANDMARK_NAMES.length} for landmarks but received ${landmarks}`,
      );
    const chosen = new Set(LANDMARK_PRIORITY.slice(0, landmarks));
    return LANDMARK_NAMES.filter((n) => chosen.has(n));
  }
  return landmarks.map((n) => {
    if (!(LANDMARK_NAMES as readonly string[]).includes(n))
      throw new Error(`Expected landmark names from ${LANDMARK_NAMES.join(', ')} but received '${n}'`);
    return n as LandmarkName;
  });
}

/** Whether image `index` is atypical, and how: one image in each block of round(1/rate). */
export function atypicalKind(seed: number, index: number, rate = DEFAULT_ATYPICAL_RATE): AtypicalKind | null {
  if (rate <= 0) return null;
  const block = Math.max(2, Math.round(1 / rate));
  const b = Math.floor(index / block);
  if (new Rng(seed, STREAM.atypical, b).int(0, block) !== index % block) return null;
  // Kinds cycle over blocks from a seeded start, so every kind shows up.
  const start = new Rng(seed, STREAM.kind).int(0, ATYPICAL_KINDS.length);
  return ATYPICAL_KINDS[(start + b) % ATYPICAL_KINDS.length]!;
}

export const phantomId = (index: number, width = 3) => `phantom-${String(index).padStart(width, '0')}`;

function sampleImaging(rng: Rng, size: number, poor: boolean): Imaging {
  const px = size / 512;
  const imaging: Imaging = {
    gamma: Math.exp(rng.clippedNormal(0.12, 2)),
    contrast: rng.uniform(0.85, 1.05),
    background: rng.uniform(0.03, 0.09),
    brightness: rng.uniform(-0.03, 0.04),
    blur: rng.uniform(0.5, 1.1) * px,
    noise: rng.uniform(0.006, 0.014),
    quantumNoise: rng.uniform(0.01, 0.022),
    heel: { angle: rng.uniform(0, 2 * Math.PI), amount: rng.uniform(0, 0.12) },
    marker: null,
  };
  if (rng.chance(0.6)) {
    const height = rng.uniform(0.035, 0.05) * size;
    const right = rng.chance(0.5);
    const bottom = rng.chance(0.5);
    const x = right ? rng.uniform(0.86, 0.9) * size : rng.uniform(0.04, 0.08) * size;
    const y = bottom ? rng.uniform(0.88, 0.92) * size - height : rng.uniform(0.04, 0.08) * size;
    imaging.marker = { x, y, height };
  }
  if (poor) {
    imaging.contrast *= rng.uniform(0.35, 0.5);
    imaging.background += rng.uniform(0.05, 0.12);
    imaging.blur *= rng.uniform(1.8, 2.6);
    imaging.noise *= rng.uniform(3, 4.5);
    imaging.quantumNoise *= rng.uniform(2.5, 3.5);
    imaging.gamma *= rng.uniform(1.15, 1.4);
  }
  return imaging;
}

function samplePose(rng: Rng, size: number): Pose {
  return {
    angle: (rng.uniform(-15, 15) * Math.PI) / 180,
    scale: rng.uniform(0.9, 1.1),
    tx: rng.uniform(-0.04, 0.04) * size,
    ty: rng.uniform(-0.04, 0.04) * size,
  };
}

/** Everything about image `index` except its pixels. */
export function planPhantom(
  seed: number,
  index: number,
  config: PhantomConfig = {},
  idWidth = 3,
): PhantomPlan {
  const size = config.size ?? DEFAULT_SIZE;
  const atypical = atypicalKind(seed, index, config.atypicalRate ?? DEFAULT_ATYPICAL_RATE);
  const hand = sampleHand(new Rng(seed, STREAM.hand, index), atypical);
  const canonical = hand.landmarks.map((p) => toPixels(p, size));
  const strong = atypical === 'strong-deformation';
  const cells = strong ? 3 : 4;
  const amplitude = strong ? 0.06 : 0.011;
  const minDet = strong ? 0.2 : 0.5;

  // Pose and warp; redrawn (same stream, so still deterministic) until every
  // landmark stays inside the image with a margin.
  const rng = new Rng(seed, STREAM.pose, index);
  const margin = 0.03 * size;
  const inside = (p: Point) =>
    Number.isNaN(p.x) ||
    (p.x >= margin && p.y >= margin && p.x <= size - 1 - margin && p.y <= size - 1 - margin);
  let warp: Warp | null = null;
  let mapped: Point[] = [];
  for (let attempt = 0; attempt < 40 && !warp; attempt++) {
    const pose = attempt < 39 ? samplePose(rng, size) : IDENTITY_POSE;
    const candidate = sampleWarp(rng, size, pose, cells, attempt < 39 ? amplitude : 0, minDet);
    mapped = canonical.map((p) => forward(candidate, p));
    if (mapped.every(inside) || attempt === 39) warp = candidate;
  }

  const names = landmarkNames(config.landmarks);
  // Rounded to 1e-4 px, so that files and memory hold the same numbers.
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const points = names.map((n) => {
    const p = mapped[LANDMARK_NAMES.indexOf(n)]!;
    return { x: round(p.x), y: round(p.y) };
  });
  const imaging = sampleImaging(new Rng(seed, STREAM.imaging, index), size, atypical === 'poor-quality');
  let note = hand.note;
  if (strong) note = 'strong non-rigid deformation';
  if (atypical === 'poor-quality') note = 'low contrast, heavy noise and blur';
  return {
    seed,
    index,
    id: phantomId(index, idWidth),
    size,
    atypical,
    note,
    hand,
    canonical,
    warp: warp!,
    imaging,
    points,
  };
}

function gaussianKernel(sigma: number): number[] {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Separable Gaussian blur of a size x size image in place (edges replicated). */
export function blurPixels(data: Float32Array, size: number, sigma: number): Float32Array {
  if (sigma <= 0) return data;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const line = new Float32Array(size + 2 * r);
  const pass = (offset: number, stride: number) => {
    for (let j = 0; j < size; j++) line[r + j] = data[offset + j * stride]!;
    line.fill(line[r]!, 0, r);
    line.fill(line[r + size - 1]!, r + size);
    for (let j = 0; j < size; j++) {
      let acc = 0;
      for (let t = 0; t < k.length; t++) acc += k[t]! * line[j + t]!;
      data[offset + j * stride] = acc;
    }
  };
  for (let y = 0; y < size; y++) pass(y * size, 1);
  for (let x = 0; x < size; x++) pass(x, size);
  return data;
}

/** True inside a block-letter "L" whose box's top-left is (x0, y0). */
function inMarker(x: number, y: number, m: NonNullable<Imaging['marker']>): boolean {
  const u = (x - m.x) / m.height;
  const v = (y - m.y) / m.height;
  if (u < 0 || v < 0 || u > 0.7 || v > 1) return false;
  return u < 0.22 || v > 0.78;
}

/** Exposure, gamma, heel effect, marker and noise, to 8 bits. */
function expose(data: Float32Array, size: number, imaging: Imaging, rng: Rng): Uint8Array {
  const out = new Uint8Array(size * size);
  const noise = rng.fillNoise(new Float32Array(size * size));
  const c = (size - 1) / 2;
  const hx = (Math.cos(imaging.heel.angle) * imaging.heel.amount) / size;
  const hy = (Math.sin(imaging.heel.angle) * imaging.heel.amount) / size;
  const { gamma, contrast, background, brightness, marker } = imaging;
  // Exposure curve as a table over [0, 1] (Math.pow per pixel is slow).
  const steps = 4096;
  const curve = new Float64Array(steps + 2);
  for (let k = 0; k <= steps + 1; k++)
    curve[k] = background + brightness + contrast * (1 - background) * Math.min(1, k / steps) ** gamma;
  for (let y = 0, i = 0; y < size; y++) {
    const heelRow = 1 + (y - c) * hy;
    for (let x = 0; x < size; x++, i++) {
      const f = Math.max(0, Math.min(1, data[i]!)) * steps;
      const k = Math.floor(f);
      let v = curve[k]! + (curve[k + 1]! - curve[k]!) * (f - k);
      if (marker && inMarker(x, y, marker)) v = Math.max(v, 0.93);
      v *= heelRow + (x - c) * hx;
      v += noise[i]! * (imaging.noise + imaging.quantumNoise * Math.sqrt(Math.max(v, 0)));
      out[i] = Math.min(255, Math.max(0, Math.round(v * 255)));
    }
  }
  return out;
}

/** The canonical image of a plan (float, size x size): the hand before warping. */
export function renderCanonical(plan: PhantomPlan): Float32Array {
  return renderHand(plan.hand, plan.size, new Rng(plan.seed, STREAM.texture, plan.index));
}

/** Renders a plan: an H x W uint8 tensor (the caller disposes it). */
export function renderPhantom(plan: PhantomPlan): E.Tensor {
  const S = plan.size;
  const canonical = renderCanonical(plan);
  const pixels = E.tidy(() => warpImage(E.tensor(canonical, [S, S]), plan.warp).data() as Float32Array);
  blurPixels(pixels, S, plan.imaging.blur);
  const bytes = expose(pixels, S, plan.imaging, new Rng(plan.seed, STREAM.noise, plan.index));
  return E.tensor(bytes, [S, S], 'uint8');
}

/** A plan rendered and encoded as PNG bytes. */
export function encodePhantom(plan: PhantomPlan): Buffer {
  return E.tidy(() => E.encodeImage(renderPhantom(plan), '.png'));
}

export interface PhantomImage {
  id: string;
  /** H x W uint8 tensor; the caller owns it (dispose, or make it inside E.tidy). */
  image: E.Tensor;
  /** Landmarks in pixels (NaN where the structure is missing). */
  points: Point[];
  atypical: AtypicalKind | null;
  note: string;
}

export interface PhantomSetOptions extends PhantomConfig {
  n: number;
  seed: number;
}

/** Pixel spacing that goes with a phantom of this size (nominal field of view). */
export const phantomSpacing = (size: number) => ({
  x: FIELD_OF_VIEW_MM / size,
  y: FIELD_OF_VIEW_MM / size,
  source: 'dataset-default' as const,
});

export const idWidth = (n: number) => Math.max(3, String(Math.max(0, n - 1)).length);

/** Phantoms one at a time, in memory (the caller disposes each image). */
export function* phantomImages(options: PhantomSetOptions): Generator<PhantomImage> {
  const width = idWidth(options.n);
  for (let i = 0; i < options.n; i++) {
    const plan = planPhantom(options.seed, i, options, width);
    yield {
      id: plan.id,
      image: renderPhantom(plan),
      points: plan.points,
      atypical: plan.atypical,
      note: plan.note,
    };
  }
}

/** The landmarks file content of a set of phantoms. */
export function phantomAnnotations(
  options: PhantomSetOptions,
  plans?: readonly Pick<PhantomPlan, 'id' | 'points'>[],
): Annotations {
  const size = options.size ?? DEFAULT_SIZE;
  const width = idWidth(options.n);
  const list =
    plans ?? Array.from({ length: options.n }, (_, i) => planPhantom(options.seed, i, options, width));
  const images: AnnotatedImage[] = list.map((p) => ({
    image: p.id,
    points: p.points,
    width: size,
    height: size,
    spacing: phantomSpacing(size),
  }));
  return { names: landmarkNames(options.landmarks), images };
}

/**
 * A whole set in memory: images (uint8 tensors the caller disposes) and their
 * annotations. For tests; `phantomImages` streams instead.
 */
export function generatePhantoms(options: PhantomSetOptions): {
  annotations: Annotations;
  images: PhantomImage[];
} {
  const width = idWidth(options.n);
  const plans = Array.from({ length: options.n }, (_, i) => planPhantom(options.seed, i, options, width));
  const images = plans.map((plan) => ({
    id: plan.id,
    image: renderPhantom(plan),
    points: plan.points,
    atypical: plan.atypical,
    note: plan.note,
  }));
  return { annotations: phantomAnnotations(options, plans), images };
}
