// The phantom's anatomy: a stylised left hand and wrist as seen on a PA
// radiograph (fingers up, thumb on the image's right). Bones are tubes of
// varying radius with a cortical shell and a trabecular core; soft tissue is
// a union of rounded tubes and a palm dome. Each image draws its own hand
// (finger lengths, spread, joint bends, widths) and, for atypical images, a
// changed anatomy; the landmarks are computed from the same geometry, so they
// sit exactly on the structures they name.
//
// Coordinates here are "unit" coordinates: 0..1 across the image, x right,
// y down (the image's edges are at 0 and 1). Landmark points are converted to
// pixels (origin at the top-left pixel centre) by the caller.
import type { Point } from '../io/types.js';
import type { Rng } from '../util/random.js';

/** The landmark names, in file order. */
export const LANDMARK_NAMES = [
  'thumb_tip',
  'index_tip',
  'middle_tip',
  'ring_tip',
  'little_tip',
  'thumb_ip',
  'index_pip',
  'middle_pip',
  'ring_pip',
  'little_pip',
  'thumb_mcp',
  'index_mcp',
  'middle_mcp',
  'ring_mcp',
  'little_mcp',
  'radial_styloid',
  'ulnar_styloid',
] as const;

export type LandmarkName = (typeof LANDMARK_NAMES)[number];

/**
 * The order in which `landmarks: k` picks k landmarks: spread over the hand
 * first, so that small subsets still cover it. Output keeps file order.
 */
export const LANDMARK_PRIORITY: readonly LandmarkName[] = [
  'middle_tip',
  'thumb_tip',
  'little_tip',
  'radial_styloid',
  'ulnar_styloid',
  'index_mcp',
  'ring_pip',
  'thumb_mcp',
  'little_mcp',
  'index_tip',
  'middle_pip',
  'ring_tip',
  'thumb_ip',
  'middle_mcp',
  'index_pip',
  'ring_mcp',
  'little_pip',
];

/** A bone: a tube along a..b with rounded (or flattened) end caps. */
export interface Bone {
  a: Point;
  b: Point;
  /** Outer radius at a, along the shaft, and at b. */
  rBase: number;
  rShaft: number;
  rHead: number;
  /** Fraction of the axis over which the radius flares from the shaft to an end. */
  flare: number;
  /** End-cap flatness: the cap reaches r / cap past the axis end (1 = hemisphere). */
  capBase: number;
  capHead: number;
  /** Cortical thickness as a fraction of the shaft radius (thinner at the ends). */
  cortex: number;
  /** Bones with the same group are merged (maximum), not added: a bone and its process. */
  group?: number;
}

/** A small bone shaped as an ellipsoid (carpals, sesamoids). */
export interface Ellipsoid {
  c: Point;
  /** Semi-axes along the rotated x and y. */
  ax: number;
  ay: number;
  angle: number;
  /** Inner (trabecular) ellipsoid size as a fraction of the outer. */
  core: number;
  /** Superellipse exponent of the outline: 2 for an ellipse, more for a boxier bone. */
  power: number;
}

/** Soft tissue: a tube with linearly varying radius, flattened by `flat`. */
export interface Tube {
  a: Point;
  b: Point;
  r0: number;
  r1: number;
  flat: number;
}

/** Soft tissue: an elliptical dome of the given central thickness. */
export interface Dome {
  c: Point;
  ax: number;
  ay: number;
  angle: number;
  thickness: number;
}

export type AtypicalKind =
  | 'strong-deformation'
  | 'missing-phalanx'
  | 'extra-digit'
  | 'proportions'
  | 'poor-quality';

export const ATYPICAL_KINDS: readonly AtypicalKind[] = [
  'strong-deformation',
  'missing-phalanx',
  'extra-digit',
  'proportions',
  'poor-quality',
];

export interface Hand {
  bones: Bone[];
  ellipsoids: Ellipsoid[];
  tubes: Tube[];
  domes: Dome[];
  /** One per LANDMARK_NAMES entry, unit coordinates; NaN where the structure is absent. */
  landmarks: Point[];
  /** What was unusual about this hand, for the record ('' when typical). */
  note: string;
}

interface BoneSpec {
  /** Surface-to-surface length. */
  len: number;
  r: [number, number, number];
  cap: [number, number];
  cortex: number;
}

const DEG = Math.PI / 180;
const dirOf = (angle: number): Point => ({ x: Math.sin(angle), y: -Math.cos(angle) });
const along = (p: Point, d: Point, s: number): Point => ({ x: p.x + d.x * s, y: p.y + d.y * s });

interface DigitDef {
  base: Point;
  /** Angle from "up" (towards the thumb positive) of each bone, metacarpal first. */
  angles: number[];
  specs: BoneSpec[];
}

const MC = (len: number, s: number): BoneSpec => ({
  len,
  r: [0.0125 * s, 0.0092 * s, 0.0132 * s],
  cap: [2, 1],
  cortex: 0.4,
});
const PP = (len: number, s: number): BoneSpec => ({
  len,
  r: [0.0122 * s, 0.0082 * s, 0.0102 * s],
  cap: [2.2, 1.2],
  cortex: 0.36,
});
const MP = (len: number, s: number): BoneSpec => ({
  len,
  r: [0.0104 * s, 0.0068 * s, 0.0086 * s],
  cap: [2.2, 1.2],
  cortex: 0.36,
});
const DP = (len: number, s: number): BoneSpec => ({
  len,
  r: [0.0088 * s, 0.0048 * s, 0.0062 * s],
  cap: [2.2, 1.6],
  cortex: 0.42,
});

/** Canonical digits: thumb, index, middle, ring, little. */
function canonicalDigits(): DigitDef[] {
  return [
    {
      base: { x: 0.607, y: 0.672 },
      angles: [42 * DEG, 33 * DEG, 27 * DEG],
      specs: [
        { len: 0.12, r: [0.0132, 0.0102, 0.0128], cap: [2, 1], cortex: 0.4 },
        { len: 0.086, r: [0.0122, 0.0088, 0.0104], cap: [2.2, 1.2], cortex: 0.36 },
        { len: 0.064, r: [0.0104, 0.0058, 0.0074], cap: [2.2, 1.6], cortex: 0.42 },
      ],
    },
    {
      base: { x: 0.56, y: 0.628 },
      angles: [7 * DEG, 9 * DEG, 9 * DEG, 9 * DEG],
      specs: [MC(0.175, 1), PP(0.112, 0.98), MP(0.068, 0.97), DP(0.052, 0.97)],
    },
    {
      base: { x: 0.505, y: 0.622 },
      angles: [0, 0, 0, 0],
      specs: [MC(0.17, 1), PP(0.122, 1), MP(0.078, 1), DP(0.055, 1)],
    },
    {
      base: { x: 0.452, y: 0.63 },
      angles: [-7 * DEG, -9 * DEG, -9 * DEG, -9 * DEG],
      specs: [MC(0.158, 0.95), PP(0.114, 0.95), MP(0.074, 0.95), DP(0.053, 0.95)],
    },
    {
      base: { x: 0.405, y: 0.645 },
      angles: [-14 * DEG, -18 * DEG, -18 * DEG, -18 * DEG],
      specs: [MC(0.14, 0.88), PP(0.092, 0.88), MP(0.055, 0.88), DP(0.048, 0.88)],
    },
  ];
}

/** Soft-tissue radius around each bone of a digit (metacarpal first). */
const TISSUE_R = [0.03, 0.027, 0.024, 0.021];

interface Chain {
  bones: Bone[];
  /** Joint centres between consecutive bones. */
  joints: Point[];
  /** The far tip of the last bone. */
  tip: Point;
  /** Direction of the last bone. */
  dir: Point;
}

/** Lays bones end to end along the given angles, with joint gaps between them. */
function chain(start: Point, angles: number[], specs: BoneSpec[], gaps: number[]): Chain {
  const bones: Bone[] = [];
  const joints: Point[] = [];
  let surface = start;
  let dir = dirOf(angles[0]!);
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i]!;
    dir = dirOf(angles[i]!);
    const [rBase, rShaft, rHead] = s.r;
    const depthBase = rBase / s.cap[0];
    const depthHead = rHead / s.cap[1];
    const axis = Math.max(s.len - depthBase - depthHead, 0.2 * s.len);
    const a = along(surface, dir, depthBase);
    const b = along(a, dir, axis);
    bones.push({
      a,
      b,
      rBase,
      rShaft,
      rHead,
      flare: 0.3,
      capBase: s.cap[0],
      capHead: s.cap[1],
      cortex: s.cortex,
    });
    const end = along(b, dir, depthHead);
    if (i + 1 < specs.length) {
      const gap = gaps[i] ?? 0.005;
      const joint = along(end, dir, gap / 2);
      joints.push(joint);
      surface = along(joint, dirOf(angles[i + 1]!), gap / 2);
    } else surface = end;
  }
  return { bones, joints, tip: surface, dir };
}

function scaleSpec(s: BoneSpec, len: number, width: number): BoneSpec {
  return { ...s, len: s.len * len, r: [s.r[0] * width, s.r[1] * width, s.r[2] * width] };
}

/** Soft tissue around a chain of phalanges, ending in a finger pulp. */
function fingerTubes(c: Chain, radii: number[], from: number): Tube[] {
  const tubes: Tube[] = [];
  for (let i = from; i < c.bones.length; i++) {
    const bone = c.bones[i]!;
    const r = radii[i] ?? radii[radii.length - 1]!;
    const last = i === c.bones.length - 1;
    const d = dirOf(Math.atan2(bone.b.x - bone.a.x, -(bone.b.y - bone.a.y)));
    const a = along(bone.a, d, -bone.rBase / bone.capBase - 0.006);
    const r1 = last ? r * 0.8 : r * 0.95;
    const b = last ? along(c.tip, d, 0.013 - r1) : along(bone.b, d, bone.rHead / bone.capHead + 0.004);
    tubes.push({ a, b, r0: r, r1, flat: 0.85 });
  }
  return tubes;
}

interface Variation {
  length: number[];
  width: number[];
  spread: number[];
  bends: number[][];
  palm: number;
}

function sampleVariation(rng: Rng): Variation {
  const global = 1 + rng.clippedNormal(0.035);
  const width = 1 + rng.clippedNormal(0.05);
  return {
    length: Array.from({ length: 5 }, () => global * (1 + rng.clippedNormal(0.025))),
    width: Array.from({ length: 5 }, () => width * (1 + rng.clippedNormal(0.03))),
    spread: Array.from({ length: 5 }, (_, d) => rng.clippedNormal(d === 0 ? 5 : 2.5) * DEG),
    bends: Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => rng.clippedNormal(2) * DEG)),
    palm: 1 + rng.clippedNormal(0.03),
  };
}

/** Draws one hand; `atypical` changes its anatomy for the kinds that are anatomical. */
export function sampleHand(rng: Rng, atypical: AtypicalKind | null): Hand {
  const v = sampleVariation(rng);
  const notes: string[] = [];
  const defs = canonicalDigits();

  // Atypical anatomy decided up front.
  let missing: { digit: number; bones: number } | null = null;
  let extra: 'ulnar' | 'thumb' | null = null;
  if (atypical === 'missing-phalanx') {
    missing = { digit: rng.int(1, 5), bones: rng.chance(0.5) ? 2 : 1 };
    notes.push(
      `digit ${missing.digit + 1} lacks ${missing.bones === 2 ? 'middle and distal' : 'distal'} phalanx`,
    );
  } else if (atypical === 'extra-digit') {
    extra = rng.chance(0.5) ? 'ulnar' : 'thumb';
    notes.push(extra === 'ulnar' ? 'extra little digit (ulnar side)' : 'duplicated thumb distal phalanx');
  } else if (atypical === 'proportions') {
    const kind = rng.pick(['short', 'long', 'splayed'] as const);
    notes.push(`${kind} fingers`);
    for (let d = 0; d < 5; d++) {
      if (kind === 'short') {
        v.length[d]! *= 0.8;
        v.width[d]! *= 1.18;
      } else if (kind === 'long') {
        v.length[d]! *= 1.12;
        v.width[d]! *= 0.82;
      } else v.spread[d]! += (d - 2) * 7 * DEG;
    }
    if (kind === 'short') v.palm *= 1.1;
  }

  const bones: Bone[] = [];
  const tubes: Tube[] = [];
  const ellipsoids: Ellipsoid[] = [];
  const tips: Point[] = [];
  const ips: Point[] = [];
  const mcps: Point[] = [];

  defs.forEach((def, d) => {
    const lengthScale = v.length[d]!;
    const widthScale = v.width[d]!;
    // The metacarpal keeps its place in the palm; the phalanges spread and bend.
    const angles = def.angles.map((a, i) =>
      i === 0
        ? a + v.spread[d]! * 0.3
        : a + v.spread[d]! + v.bends[d]!.slice(1, i + 1).reduce((s, x) => s + x, 0),
    );
    let specs = def.specs.map((s, i) =>
      scaleSpec(s, i === 0 ? (lengthScale + 1) / 2 : lengthScale, widthScale),
    );
    const base = { x: 0.5 + (def.base.x - 0.5) * v.palm, y: def.base.y };
    const lost = missing?.digit === d ? missing.bones : 0;
    if (lost) specs = specs.slice(0, specs.length - lost);
    const gaps = [0.0062, 0.005, 0.0048];
    const c = chain(base, angles, specs, gaps);
    bones.push(...c.bones);
    const radii = TISSUE_R.map((r) => r * widthScale);
    if (d === 0) {
      tubes.push(...fingerTubes(c, [0.028 * widthScale, 0.025 * widthScale, 0.022 * widthScale], 1));
      // Thenar eminence along the first metacarpal.
      const mc = c.bones[0]!;
      tubes.push({ a: along(mc.a, { x: -0.3, y: 0.95 }, 0.02), b: mc.b, r0: 0.05, r1: 0.032, flat: 0.62 });
      // Two sesamoids at the thumb's MCP joint.
      const dir = dirOf(angles[0]!);
      const side = { x: -dir.y, y: dir.x };
      for (const s of [-1, 1])
        ellipsoids.push({
          c: along(along(c.joints[0]!, dir, -0.012), side, s * 0.0085),
          ax: 0.0052,
          ay: 0.0058,
          angle: angles[0]!,
          core: 0.7,
          power: 2,
        });
    } else {
      tubes.push(...fingerTubes(c, radii, 1));
      const mc = c.bones[0]!;
      tubes.push({ a: mc.a, b: along(mc.b, dirOf(angles[0]!), 0.01), r0: 0.03, r1: 0.032, flat: 0.7 });
    }
    if (d === 4) {
      // Hypothenar eminence.
      const mc = c.bones[0]!;
      tubes.push({ a: along(mc.a, { x: 0, y: 1 }, 0.02), b: mc.b, r0: 0.04, r1: 0.028, flat: 0.62 });
    }
    tips.push(lost ? { x: Number.NaN, y: Number.NaN } : c.tip);
    mcps.push(c.joints[0]!);
    ips.push(c.joints[1] ?? { x: Number.NaN, y: Number.NaN });

    if (extra === 'thumb' && d === 0) {
      // A second distal phalanx from the thumb's IP joint, diverging.
      const ip = c.joints[1]!;
      const a2 = angles[2]! + 22 * DEG;
      const spec = scaleSpec(def.specs[2]!, lengthScale * 0.9, widthScale * 0.85);
      const dup = chain(along(ip, dirOf(a2), 0.0025), [a2], [spec], []);
      bones.push(...dup.bones);
      tubes.push(...fingerTubes(dup, [0.02 * widthScale], 0));
    }
    if (extra === 'ulnar' && d === 4) {
      const mcp = c.joints[0]!;
      const a2 = angles[1]! - 24 * DEG;
      const side = dirOf(angles[0]! - 90 * DEG);
      const start = along(mcp, side, 0.016);
      const specs2 = [scaleSpec(def.specs[1]!, 0.62, 0.8), scaleSpec(def.specs[3]!, 0.75, 0.8)];
      const dup = chain(start, [a2, a2 - 6 * DEG], specs2, [0.005]);
      bones.push(...dup.bones);
      tubes.push(...fingerTubes(dup, [0.02, 0.017], 0));
    }
  });

  // Carpals: two rows of ellipsoids between the metacarpal bases and the forearm.
  const carpals: [number, number, number, number, number][] = [
    // x, y, ax, ay, angle(deg)
    [0.505, 0.668, 0.024, 0.037, 4], // capitate
    [0.452, 0.67, 0.026, 0.031, 15], // hamate
    [0.556, 0.657, 0.02, 0.022, -10], // trapezoid
    [0.596, 0.684, 0.025, 0.021, -32], // trapezium
    [0.562, 0.72, 0.039, 0.02, -50], // scaphoid
    [0.512, 0.728, 0.025, 0.022, 0], // lunate
    [0.463, 0.716, 0.023, 0.02, 20], // triquetrum
    [0.45, 0.703, 0.013, 0.013, 0], // pisiform
  ];
  for (const [x, y, ax, ay, angle] of carpals)
    ellipsoids.push({
      c: { x: 0.5 + (x - 0.5) * v.palm + rng.clippedNormal(0.002), y: y + rng.clippedNormal(0.002) },
      ax: 1.1 * ax * v.width[2]!,
      ay: 1.1 * ay * v.width[2]!,
      angle: (angle + rng.clippedNormal(3)) * DEG,
      core: 0.82,
      power: 2.6,
    });

  // Forearm: radius (with its styloid process) and ulna (with its styloid).
  const w = v.width[2]!;
  const radiusTop = 0.775 + rng.clippedNormal(0.003);
  const radiusX = 0.541;
  bones.push({
    a: { x: radiusX + 0.004, y: 1.2 },
    b: { x: radiusX, y: radiusTop },
    rBase: 0.025 * w,
    rShaft: 0.024 * w,
    rHead: 0.037 * w,
    flare: 0.3,
    capBase: 1,
    capHead: 2.2,
    cortex: 0.3,
    group: 1,
  });
  const styloidBase = { x: radiusX + 0.012 * w, y: radiusTop + 0.01 };
  const styloidTip = { x: radiusX + 0.042 * w + 0.004, y: radiusTop - 0.044 + rng.clippedNormal(0.002) };
  const radialStyloid = styloid(styloidBase, styloidTip, 0.022 * w, 0.0048 * w, 1);
  bones.push(radialStyloid.bone);
  const ulnaTop = radiusTop + 0.016 + rng.clippedNormal(0.003);
  const ulnaX = 0.457;
  bones.push({
    a: { x: ulnaX - 0.003, y: 1.2 },
    b: { x: ulnaX, y: ulnaTop },
    rBase: 0.017 * w,
    rShaft: 0.016 * w,
    rHead: 0.021 * w,
    flare: 0.2,
    capBase: 1,
    capHead: 1.6,
    cortex: 0.32,
    group: 2,
  });
  const ulnarStyloid = styloid(
    { x: ulnaX - 0.004 * w, y: ulnaTop + 0.006 },
    { x: ulnaX - 0.016 * w, y: ulnaTop - 0.032 + rng.clippedNormal(0.002) },
    0.011 * w,
    0.0036 * w,
    2,
  );
  bones.push(ulnarStyloid.bone);

  // Soft tissue of the palm and forearm.
  const domes: Dome[] = [
    { c: { x: 0.498, y: 0.585 }, ax: 0.128 * v.palm, ay: 0.15, angle: -4 * DEG, thickness: 0.05 },
  ];
  tubes.push({ a: { x: 0.5, y: 0.68 }, b: { x: 0.5, y: 1.3 }, r0: 0.1 * w, r1: 0.112 * w, flat: 0.3 });

  const landmarks = [...tips, ...ips, ...mcps, radialStyloid.tip, ulnarStyloid.tip];
  return { bones, ellipsoids, tubes, domes, landmarks, note: notes.join('; ') };
}

/** A tapering bony process from base to tip; returns the bone and its apex. */
function styloid(base: Point, tip: Point, rBase: number, rTip: number, group: number) {
  const len = Math.hypot(tip.x - base.x, tip.y - base.y);
  const d = { x: (tip.x - base.x) / len, y: (tip.y - base.y) / len };
  const b = along(tip, d, -rTip);
  const bone: Bone = {
    a: base,
    b,
    rBase,
    rShaft: 0.65 * rBase + 0.35 * rTip,
    rHead: rTip,
    flare: 0.35,
    capBase: 1,
    capHead: 1,
    cortex: 0.6,
    group,
  };
  return { bone, tip };
}
