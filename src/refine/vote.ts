// From a landmark's heatmap and offset maps to one point (plain arrays, no
// engine). Estimators, compared on phantoms in test/refine/phantom.test.ts:
//  - 'argmax': the hottest cell's centre, refined by a parabola through its
//    neighbours (what a heatmap-only model does);
//  - 'argmax-offset': the hottest cell's centre plus its own offset;
//  - 'mean': the probability-weighted mean of all votes;
//  - 'vote': every cell above the threshold votes at centre + R * offset;
//    the estimate is the mode of the votes' kernel density (Gaussian, the
//    given bandwidth), found by mean shift from the densest vote. The
//    reference code's counting accumulator is the same idea on an integer
//    grid; mean shift needs no grid and gives sub-pixel modes.
import type { Point } from '../io/types.js';
import { cellCentre } from './targets.js';

export type Estimator = 'argmax' | 'argmax-offset' | 'mean' | 'vote';
export const ESTIMATORS: readonly Estimator[] = ['argmax', 'argmax-offset', 'mean', 'vote'];

export interface VoteOptions {
  estimator: Estimator;
  /** Working pixels per cell. */
  stride: number;
  /** The targets' disk radius in working pixels (offsets are in units of it). */
  radius: number;
  /** Cells with probability at or above this vote (at least `minVoters` do). */
  threshold: number;
  minVoters: number;
  /** Kernel bandwidth of the vote density, in working pixels. */
  bandwidth: number;
}

export const defaultVoteOptions: Omit<VoteOptions, 'stride' | 'radius'> = {
  estimator: 'vote',
  threshold: 0.5,
  minVoters: 4,
  bandwidth: 2,
};

/** One landmark's maps: g x g probabilities and offsets, row-major. */
export interface LandmarkMaps {
  cells: number;
  probability: ArrayLike<number>;
  offsetX: ArrayLike<number>;
  offsetY: ArrayLike<number>;
}

export interface Estimate {
  /** Working pixels. */
  point: Point;
  /** The heatmap's peak probability. */
  confidence: number;
}

interface Vote {
  x: number;
  y: number;
  w: number;
}

export function estimate(maps: LandmarkMaps, o: VoteOptions): Estimate {
  const { cells: g, probability: p } = maps;
  let best = 0;
  for (let i = 1; i < g * g; i++) if (p[i]! > p[best]!) best = i;
  const confidence = p[best]!;
  const bx = best % g;
  const by = Math.floor(best / g);
  const centre = (i: number) => cellCentre(i, o.stride);
  switch (o.estimator) {
    case 'argmax': {
      const dx = bx > 0 && bx < g - 1 ? vertex(p[best - 1]!, confidence, p[best + 1]!) : 0;
      const dy = by > 0 && by < g - 1 ? vertex(p[best - g]!, confidence, p[best + g]!) : 0;
      return { point: { x: centre(bx) + dx * o.stride, y: centre(by) + dy * o.stride }, confidence };
    }
    case 'argmax-offset':
      return {
        point: {
          x: centre(bx) + o.radius * maps.offsetX[best]!,
          y: centre(by) + o.radius * maps.offsetY[best]!,
        },
        confidence,
      };
    default: {
      const votes = collectVotes(maps, o);
      const point = o.estimator === 'mean' ? weightedMean(votes) : densityMode(votes, o.bandwidth);
      return { point, confidence };
    }
  }
}

/** Cells at or above the threshold (or the `minVoters` most probable) vote at centre + R * offset. */
function collectVotes(maps: LandmarkMaps, o: VoteOptions): Vote[] {
  const { cells: g, probability: p } = maps;
  let chosen: number[] = [];
  for (let i = 0; i < g * g; i++) if (p[i]! >= o.threshold) chosen.push(i);
  if (chosen.length < o.minVoters) {
    const order = Array.from({ length: g * g }, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
    chosen = order.slice(0, Math.min(o.minVoters, g * g));
  }
  return chosen.map((i) => ({
    x: cellCentre(i % g, o.stride) + o.radius * maps.offsetX[i]!,
    y: cellCentre(Math.floor(i / g), o.stride) + o.radius * maps.offsetY[i]!,
    w: Math.max(p[i]!, 1e-6),
  }));
}

function weightedMean(votes: Vote[]): Point {
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (const v of votes) {
    sx += v.w * v.x;
    sy += v.w * v.y;
    sw += v.w;
  }
  return { x: sx / sw, y: sy / sw };
}

/**
 * The mode of sum_j w_j exp(-|q - v_j|^2 / 2h^2): start at the vote of
 * highest density (so a second cluster cannot pull the start), then mean
 * shift until it moves less than 1e-4 pixel.
 */
export function densityMode(votes: Vote[], bandwidth: number): Point {
  const inv = 1 / (2 * bandwidth * bandwidth);
  const density = (x: number, y: number) => {
    let d = 0;
    for (const v of votes) d += v.w * Math.exp(-((v.x - x) ** 2 + (v.y - y) ** 2) * inv);
    return d;
  };
  let start = votes[0]!;
  let startDensity = Number.NEGATIVE_INFINITY;
  for (const v of votes) {
    const d = density(v.x, v.y);
    if (d > startDensity) {
      startDensity = d;
      start = v;
    }
  }
  let x = start.x;
  let y = start.y;
  for (let iter = 0; iter < 100; iter++) {
    let sx = 0;
    let sy = 0;
    let sw = 0;
    for (const v of votes) {
      const k = v.w * Math.exp(-((v.x - x) ** 2 + (v.y - y) ** 2) * inv);
      sx += k * v.x;
      sy += k * v.y;
      sw += k;
    }
    if (!(sw > 0)) break;
    const nx = sx / sw;
    const ny = sy / sw;
    const moved = Math.hypot(nx - x, ny - y);
    x = nx;
    y = ny;
    if (moved < 1e-4) break;
  }
  return { x, y };
}

/** Offset of a parabola's vertex through (-1, a), (0, b), (1, c), within ±0.5. */
function vertex(a: number, b: number, c: number): number {
  const curvature = a - 2 * b + c;
  if (!(curvature < 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (a - c) / (2 * curvature)));
}
