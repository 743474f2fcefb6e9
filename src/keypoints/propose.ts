// Key point proposals for the representativeness score (DESIGN.md, method
// step 3): detector responses on the 8-bit working image, sorted by
// response, a border band dropped, greedy suppression of points closer than
// a minimum distance, and an optional cap K. Random and grid proposals are
// the ablation baselines.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { Point } from '../io/types.js';
import { Rng } from '../util/random.js';

export type ProposalMethod = 'sift' | 'orb' | 'akaze' | 'random' | 'grid';

export interface ProposalOptions {
  method: ProposalMethod;
  /** SIFT contrast threshold (0.04 for cephalograms, 0.01 for hands). */
  contrastThreshold?: number;
  edgeThreshold?: number;
  /** Points closer than this to the border (working pixels) are dropped. */
  border?: number;
  /** Greedy suppression radius in working pixels. */
  minDistance?: number;
  /** Keep at most this many (strongest first); 0 keeps all. */
  maxPoints?: number;
  /** Seed for random proposals. */
  seed?: number;
}

export const defaultProposals: Required<Omit<ProposalOptions, 'method'>> = {
  contrastThreshold: 0.04,
  edgeThreshold: 10,
  border: 8,
  minDistance: 10,
  maxPoints: 100,
  seed: 0,
};

export interface Proposal extends Point {
  response: number;
}

/** Key points of an 8-bit working image [H, W] (uint8), strongest first. */
export function proposeKeypoints(image: Tensor, options: ProposalOptions): Proposal[] {
  const o = { ...defaultProposals, ...options };
  const method = o.method;
  const [h, w] = image.shape as [number, number];
  let raw: Proposal[];
  if (method === 'random' || method === 'grid') {
    raw = synthetic(method, w, h, o);
  } else {
    const rows = E.tidy(() =>
      E.detectKeypoints(image, {
        method,
        contrastThreshold: o.contrastThreshold,
        edgeThreshold: o.edgeThreshold,
      }).toArray(),
    );
    raw = [];
    for (let i = 0; i < rows.length; i += 5)
      raw.push({ x: rows[i]!, y: rows[i + 1]!, response: rows[i + 4]! });
  }
  const inside = raw.filter(
    (p) => p.x >= o.border && p.y >= o.border && p.x < w - o.border && p.y < h - o.border,
  );
  inside.sort((a, b) => b.response - a.response);
  return suppress(inside, o.minDistance, o.maxPoints);
}

/** Greedy non-maximum suppression: keep a point unless a kept one is within `radius`. */
export function suppress(sorted: Proposal[], radius: number, cap: number): Proposal[] {
  const kept: Proposal[] = [];
  const r2 = radius * radius;
  for (const p of sorted) {
    if (cap > 0 && kept.length >= cap) break;
    if (kept.every((k) => (k.x - p.x) ** 2 + (k.y - p.y) ** 2 >= r2)) kept.push(p);
  }
  return kept;
}

function synthetic(method: 'random' | 'grid', w: number, h: number, o: typeof defaultProposals): Proposal[] {
  const n = o.maxPoints > 0 ? o.maxPoints : 100;
  if (method === 'random') {
    const rng = new Rng(o.seed, 0x6b70);
    // Responses decrease so the order (and so suppression) is the draw order.
    return Array.from({ length: 4 * n }, (_, i) => ({
      x: rng.uniform(o.border, w - o.border),
      y: rng.uniform(o.border, h - o.border),
      response: 4 * n - i,
    }));
  }
  const side = Math.ceil(Math.sqrt(n));
  const points: Proposal[] = [];
  for (let j = 0; j < side; j++)
    for (let i = 0; i < side; i++)
      points.push({
        x: o.border + ((i + 0.5) * (w - 2 * o.border)) / side,
        y: o.border + ((j + 0.5) * (h - 2 * o.border)) / side,
        response: 1,
      });
  return points;
}
