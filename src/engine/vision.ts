// OpenCV through the addon: image decoding and encoding, resizing, and key
// point detectors. Images are 2-D tensors (H x W).
import { NativeError } from './errors.js';
import { type KeypointOptions, native } from './native.js';
import { Tensor } from './tensor.js';

export type { KeypointOptions } from './native.js';

export interface DecodedImage {
  /** H x W grey: uint8 for 8-bit files, float32 (original values) otherwise. */
  pixels: Tensor;
  bitDepth: number;
  /** Channels in the file before conversion to grey. */
  channels: number;
  /** What the codec libraries printed while decoding (libjpeg's "Corrupt JPEG data: ..."), else ''. */
  warnings: string;
}

function call<T>(fn: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    throw new NativeError(`${fn}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function require2d(fn: string, image: Tensor): void {
  image.throwIfDisposed(fn);
  if (image.rank !== 2) throw new RangeError(`${fn}: image must be rank 2 (H x W), got rank ${image.rank}`);
}

/** Decodes BMP, PNG, JPEG, TIFF (8 or 16 bit) bytes to a grey image. */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  const out = call('decodeImage', () => native.decodeImage(bytes));
  return {
    pixels: new Tensor(out.tensor),
    bitDepth: out.bitDepth,
    channels: out.channels,
    warnings: out.warnings,
  };
}

/** Encodes an image; ext picks the format (".png", ".jpg", ".bmp", ".tif"). */
export function encodeImage(image: Tensor, ext: '.png' | '.jpg' | '.bmp' | '.tif'): Buffer {
  require2d('encodeImage', image);
  return call('encodeImage', () => native.encodeImage(image.id, ext));
}

export type Interpolation = 'area' | 'linear' | 'cubic' | 'nearest';

export function resizeImage(
  image: Tensor,
  width: number,
  height: number,
  interpolation: Interpolation = 'area',
) {
  require2d('resizeImage', image);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new RangeError(`resizeImage: size must be positive integers, got ${width} x ${height}`);
  return new Tensor(call('resizeImage', () => native.resizeImage(image.id, width, height, interpolation)));
}

/** Key points of a uint8 image as a K x 5 float32 tensor: x, y, size, angle, response. */
export function detectKeypoints(image: Tensor, options: KeypointOptions): Tensor {
  require2d('detectKeypoints', image);
  if (image.dtype !== 'uint8')
    throw new TypeError(`detectKeypoints: image must be uint8, got ${image.dtype}`);
  return new Tensor(call('detectKeypoints', () => native.detectKeypoints(image.id, options)));
}
