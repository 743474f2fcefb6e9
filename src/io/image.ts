import { extname } from 'node:path';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { readDicom } from './dicom/index.js';
import { DataError, readInput } from './errors.js';
import { checkImageBytes, corruptData } from './image-check.js';
import type { Spacing } from './types.js';
import { toDisplayRange } from './window.js';

export interface LoadedImage {
  /** H x W float32 in [0, 255] (8-bit values as they are; deeper data windowed). */
  pixels: Tensor;
  width: number;
  height: number;
  bitDepth: number;
  spacing?: Spacing;
}

export async function readImage(file: string): Promise<LoadedImage> {
  const bytes = await readInput(file, 'image');
  return decodeImageBytes(bytes, file);
}

export function decodeImageBytes(bytes: Uint8Array, file: string): LoadedImage {
  const ext = extname(file).toLowerCase();
  if (ext === '.dcm' || ext === '.dicom') {
    const d = readDicom(bytes, file);
    const pixels = E.tidy(() => toDisplayRange(d.pixels, { window: d.window, photometric: d.photometric }));
    d.pixels.dispose();
    return { pixels, width: d.width, height: d.height, bitDepth: d.bitsStored, spacing: d.spacing };
  }
  const { format } = checkImageBytes(bytes, file);
  let decoded: E.DecodedImage;
  try {
    decoded = E.decodeImage(bytes);
  } catch (err) {
    throw new DataError(
      file,
      `cannot decode the image: ${(err as Error).message.replace(/^decodeImage: /, '')}`,
    );
  }
  const corrupt = corruptData(format, decoded.warnings);
  if (corrupt) {
    decoded.pixels.dispose();
    throw new DataError(file, `JPEG file is corrupt: its image data has errors (${corrupt})`);
  }
  const [height, width] = decoded.pixels.shape as [number, number];
  const pixels = E.tidy(() =>
    decoded.bitDepth > 8
      ? toDisplayRange(decoded.pixels, { photometric: 'MONOCHROME2' })
      : decoded.pixels.to('float32'),
  );
  decoded.pixels.dispose();
  return { pixels, width, height, bitDepth: decoded.bitDepth };
}
