// Decoded samples to one float32 grey value per pixel: the stored bits
// (High Bit, Bits Stored), sign-extended when signed; colour to grey (RGB
// by BT.601 luma, YBR_FULL by its Y).
import type { Header, Samples } from './frame.js';

/** Stored bits of each sample (High Bit, Bits Stored), sign-extended when signed, to grey. */
export function toGrey(s: Samples, h: Header, photometric: string): Float32Array {
  const n = h.rows * h.cols;
  const grey = new Float32Array(n);
  const v = s.values;
  if (s.converted) {
    for (let i = 0; i < n; i++) grey[i] = v[i]!;
    return grey;
  }
  const shift = h.highBit + 1 - h.bitsStored;
  let stored: (x: number) => number;
  if (h.bitsStored < 32) {
    const mask = 2 ** h.bitsStored - 1;
    const half = 2 ** (h.bitsStored - 1);
    const full = 2 ** h.bitsStored;
    stored = h.signed
      ? (x) => {
          const u = (x >>> shift) & mask;
          return u >= half ? u - full : u;
        }
      : (x) => (x >>> shift) & mask;
  } else stored = h.signed ? (x) => x | 0 : (x) => x >>> 0;
  if (s.spp === 1) {
    for (let i = 0; i < n; i++) grey[i] = stored(v[i]!);
    return grey;
  }
  // Colour: sample c of pixel i is at c * n + i (planar) or 3 * i + c.
  const step = s.planar ? 1 : 3;
  const [r0, g0, b0] = s.planar ? [0, n, 2 * n] : [0, 1, 2];
  if (photometric === 'YBR_FULL') for (let i = 0; i < n; i++) grey[i] = stored(v[r0 + step * i]!);
  else
    for (let i = 0; i < n; i++)
      grey[i] =
        0.299 * stored(v[r0 + step * i]!) +
        0.587 * stored(v[g0 + step * i]!) +
        0.114 * stored(v[b0 + step * i]!);
  return grey;
}
