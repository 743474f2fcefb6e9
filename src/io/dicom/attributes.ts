// The attributes a landmark tool needs besides the pixels: pixel spacing
// and the display window.
import type { DataSet } from 'dicom-parser';
import type { Spacing } from '../types.js';
import type { DisplayWindow } from '../window.js';
import { decimals, TAG } from './dataset.js';

export function spacingOf(ds: DataSet): Spacing | undefined {
  // Both attributes are "row spacing \ column spacing": y first, then x.
  const pairs = [
    [TAG.pixelSpacing, 'dicom-pixel-spacing'],
    [TAG.imagerPixelSpacing, 'dicom-imager-pixel-spacing'],
  ] as const;
  for (const [tag, source] of pairs) {
    const [row, col] = decimals(ds, tag);
    if (row !== undefined && col !== undefined && row > 0 && col > 0 && Number.isFinite(row + col))
      return { x: col, y: row, source };
  }
  return undefined;
}

export function windowOf(ds: DataSet): DisplayWindow | undefined {
  const center = decimals(ds, TAG.windowCenter)[0];
  const width = decimals(ds, TAG.windowWidth)[0];
  if (center === undefined || width === undefined || !Number.isFinite(center) || !Number.isFinite(width))
    return undefined;
  if (!(width > 0)) return undefined;
  const fn = ds.string(TAG.voiFunction)?.trim().toUpperCase();
  return fn === 'LINEAR_EXACT' || fn === 'SIGMOID' ? { center, width, function: fn } : { center, width };
}
