// Windowing: maps high-bit-depth grey values (DICOM after the Modality LUT,
// 16-bit PNG/TIFF) to the 8-bit working range [0, 255], as float32.
//
// With a window from the file (DICOM Window Center/Width, values in the
// units after Rescale Slope/Intercept) the DICOM VOI LUT functions are used
// (PS3.3 C.11.2.1.2): LINEAR (the default), LINEAR_EXACT or SIGMOID.
// Without one, a robust linear stretch between the 0.5th and 99.5th
// percentiles, so a few hot or dead pixels and the collimator edges do not
// take up the range. MONOCHROME1 (low values bright) is inverted last, so
// bone is bright in every output.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface DisplayWindow {
  center: number;
  width: number;
  /** VOI LUT Function (0028,1056); LINEAR when absent. */
  function?: VoiFunction;
}

export interface DisplayOptions {
  window?: DisplayWindow;
  /** DICOM Photometric Interpretation; MONOCHROME1 is inverted. Default MONOCHROME2. */
  photometric?: string;
  /** Percentiles for the stretch without a window, in percent. Default [0.5, 99.5]. */
  percentiles?: [number, number];
}

const DEFAULT_PERCENTILES: [number, number] = [0.5, 99.5];

const HISTOGRAM_BINS = 65536;

/**
 * Low and high percentiles (in percent, 0..100) of the finite values, from
 * a 65536-bin histogram over [min, max]. Integer data spanning fewer than
 * 65536 values (all 16-bit data) get one bin per integer, so the result is
 * exact: the smallest value v with at least p% of the values <= v. Wider or
 * fractional data are exact to 1/65536 of their range. NaN for no values.
 */
export function percentiles(values: ArrayLike<number>, low: number, high: number): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let count = 0;
  let integers = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integers && v !== Math.round(v)) integers = false;
  }
  if (count === 0) return [Number.NaN, Number.NaN];
  if (min === max) return [min, max];
  const bins = integers && max - min < HISTOGRAM_BINS ? max - min + 1 : HISTOGRAM_BINS;
  const width = integers && max - min < HISTOGRAM_BINS ? 1 : (max - min) / HISTOGRAM_BINS;
  const hist = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    hist[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  }
  const find = (p: number) => {
    const target = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * count));
    let seen = 0;
    for (let b = 0; b < bins; b++) {
      seen += hist[b]!;
      if (seen >= target) return width === 1 ? min + b : Math.min(max, min + (b + 1) * width);
    }
    return max;
  };
  return [find(low), find(high)];
}

/** One value through a VOI function to [0, 1]. */
function voi(x: number, w: DisplayWindow): number {
  const c = w.center;
  switch (w.function ?? 'LINEAR') {
    case 'LINEAR_EXACT':
      return Math.min(1, Math.max(0, (x - c) / w.width + 0.5));
    case 'SIGMOID':
      return 1 / (1 + Math.exp((-4 * (x - c)) / w.width));
    default: {
      // PS3.3 C.11.2.1.2.1: x <= c - 0.5 - (w-1)/2 -> 0; x > c - 0.5 + (w-1)/2 -> 1;
      // linear in between. Clamping the line gives the same result; a width
      // of 1 is a threshold at c - 0.5.
      if (w.width <= 1) return x <= c - 0.5 ? 0 : 1;
      return Math.min(1, Math.max(0, (x - (c - 0.5)) / (w.width - 1) + 0.5));
    }
  }
}

/** The window a display mapping uses: the file's if valid, else the percentile stretch. */
function usableWindow(w: DisplayWindow | undefined): DisplayWindow | undefined {
  if (!w || !Number.isFinite(w.center) || !Number.isFinite(w.width) || w.width <= 0) return undefined;
  return w;
}

/**
 * Maps an H x W grey image (any dtype; DICOM values after the Modality LUT,
 * or a 16-bit PNG/TIFF as decoded) to float32 in [0, 255]. See the file
 * comment for the rules. A constant image without a window maps to 0
 * (255 for MONOCHROME1). NaN pixels map to 0 either way.
 */
export function toDisplayRange(pixels: Tensor, options: DisplayOptions = {}): Tensor {
  if (pixels.rank !== 2)
    throw new RangeError(`toDisplayRange: image must be rank 2 (H x W), got rank ${pixels.rank}`);
  const src =
    pixels.dtype === 'int64' ? Float64Array.from(pixels.toArray()) : (pixels.data() as ArrayLike<number>);
  const out = new Float32Array(src.length);
  const invert = (options.photometric ?? 'MONOCHROME2').trim().toUpperCase() === 'MONOCHROME1';
  const window = usableWindow(options.window);
  let map: (v: number) => number;
  if (window) map = (v) => 255 * voi(v, window);
  else {
    const [pLow, pHigh] = options.percentiles ?? DEFAULT_PERCENTILES;
    const [lo, hi] = percentiles(src, pLow, pHigh);
    map = (v) => (v <= lo ? 0 : v >= hi ? 255 : (255 * (v - lo)) / (hi - lo));
  }
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (Number.isNaN(v)) out[i] = 0;
    else out[i] = invert ? 255 - map(v) : map(v);
  }
  return E.tensor(out, [...pixels.shape]);
}
