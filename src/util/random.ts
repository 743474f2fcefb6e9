// A small seeded PRNG (sfc32). Only 32-bit integer arithmetic and
// Math.log/sqrt/cos, so a seed gives the same stream on every platform. Its
// whole state is a few numbers, so a training checkpoint can store it and a
// resumed run draws the same numbers. Streams keyed by (seed, ...numbers)
// keep independent draws independent (the phantom generator's images).

/** sfc32's four words and Box-Muller's spare value (null when none). */
export type RngState = [number, number, number, number, number | null];

/** Mixes 32-bit integers into one well-spread 32-bit seed (murmur3 finaliser per value). */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    let k = Math.imul(v >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= values.length * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare = Number.NaN;

  /** A stream from a seed and optional stream numbers (e.g. image index, purpose). */
  constructor(seed: number, ...stream: number[]) {
    const h = hashInts(seed, ...stream);
    this.#a = 0x243f6a88;
    this.#b = 0x85a308d3;
    this.#c = h;
    this.#d = 1;
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** sfc32: 32 random bits as an unsigned integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  get state(): RngState {
    return [this.#a, this.#b, this.#c, this.#d, Number.isNaN(this.#spare) ? null : this.#spare];
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    [r.#a, r.#b, r.#c, r.#d] = state;
    r.#spare = state[4] ?? Number.NaN;
    return r;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)]!;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.#spare)) {
      const s = this.#spare;
      this.#spare = Number.NaN;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Normal with standard deviation sd, clipped to +-clip standard deviations. */
  clippedNormal(sd: number, clip = 2.5): number {
    return sd * Math.max(-clip, Math.min(clip, this.normal()));
  }

  /**
   * Fills out with approximately standard normal values: the sum of four
   * 16-bit uniforms (Irwin-Hall), rescaled. Fast, for image noise; `normal`
   * is exact.
   */
  fillNoise(out: Float32Array): Float32Array {
    const scale = Math.sqrt(3) / 65536;
    for (let i = 0; i < out.length; i++) {
      const a = this.uint32();
      const b = this.uint32();
      out[i] = ((a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) - 131070) * scale;
    }
    return out;
  }
}
