// Checks an image file before any decoder sees it: its format from the
// first bytes, its size from the header against a pixel limit (a 389 KB PNG
// can declare 20000 x 20000 pixels and take gigabytes to decode), and that
// the file is whole. OpenCV decodes a truncated JPEG without complaint
// (the missing rows come out grey) and prints libpng's or its own messages
// on stderr for other broken files, so each codec's structure is checked
// here, in words, with the file named.
import { crc32 } from 'node:zlib';
import { imageSize } from 'image-size';
import { DataError } from './errors.js';

/** Default pixel limit: 100 megapixels (a 10,000 x 10,000 image; large radiographs are 20-40 MP). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** OpenCV refuses larger images itself (CV_IO_MAX_IMAGE_PIXELS), with a less helpful message. */
const OPENCV_MAX_PIXELS = 2 ** 30;

/** The pixel limit in force: FEWMARK_MAX_PIXELS when set, else the default. */
export function maxPixels(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FEWMARK_MAX_PIXELS;
  if (raw === undefined || raw === '') return DEFAULT_MAX_PIXELS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > OPENCV_MAX_PIXELS)
    throw new Error(
      `FEWMARK_MAX_PIXELS must be a whole number of pixels from 1 to ${OPENCV_MAX_PIXELS} (OpenCV's own limit), got '${raw}'`,
    );
  return n;
}

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'tiff' | 'jpeg2000';

const FORMAT_NAMES: Record<ImageFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  bmp: 'BMP',
  tiff: 'TIFF',
  jpeg2000: 'JPEG 2000',
};

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

/** The format from the first bytes, or undefined for anything fewmark does not read through OpenCV. */
function sniffFormat(b: Uint8Array): ImageFormat | undefined {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(b, [0x42, 0x4d])) return 'bmp';
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(b, [0xff, 0x4f, 0xff, 0x51]) || startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]))
    return 'jpeg2000';
  return undefined;
}

/** Throws a DataError unless the bytes are a whole image of a supported format within the pixel limit; its format and header size. */
export function checkImageBytes(
  bytes: Uint8Array,
  file: string,
  limit = maxPixels(),
): { format: ImageFormat; width: number; height: number } {
  const format = sniffFormat(bytes);
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b]))
    throw new DataError(file, 'BigTIFF files are not supported (save the image as TIFF or PNG)');
  if (!format)
    throw new DataError(
      file,
      bytes.length === 0
        ? 'the file is empty'
        : 'not an image fewmark can read (expected BMP, PNG, JPEG, TIFF, JPEG 2000 or DICOM)',
    );
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = imageSize(bytes));
  } catch (err) {
    throw new DataError(file, `the ${FORMAT_NAMES[format]} header is unreadable (${(err as Error).message})`);
  }
  if (!width || !height) throw new DataError(file, `the ${FORMAT_NAMES[format]} header gives no image size`);
  checkPixelCount(width, height, file, limit);
  const problem = STRUCTURE[format](bytes);
  if (problem) throw new DataError(file, `${FORMAT_NAMES[format]} file is ${problem}`);
  return { format, width, height };
}

/** Throws a DataError when width x height exceeds the pixel limit. */
export function checkPixelCount(width: number, height: number, file: string, limit = maxPixels()): void {
  if (width * height > limit)
    throw new DataError(
      file,
      `the image declares ${width} x ${height} pixels (${((width * height) / 1e6).toFixed(0)} MP), over the limit of ${(limit / 1e6).toFixed(0)} MP (set FEWMARK_MAX_PIXELS to raise it)`,
    );
}

const TRUNCATED = 'truncated (it ends before the image data does)';

/** Each codec's structural check: undefined when whole, else what is wrong. */
const STRUCTURE: Record<ImageFormat, (b: Uint8Array) => string | undefined> = {
  png: checkPng,
  jpeg: checkJpeg,
  bmp: checkBmp,
  tiff: checkTiff,
  // A JPEG 2000 codestream (bare or in its jp2c box) ends with the EOC marker.
  jpeg2000: (b) => (endsWithMarker(b, 0xd9) ? undefined : TRUNCATED),
};

/** Walks the chunks: each whole with a matching CRC, IHDR first, IDAT present, IEND last. */
function checkPng(b: Uint8Array): string | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 8;
  let first = true;
  let sawData = false;
  while (at + 8 <= b.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(b[at + 4]!, b[at + 5]!, b[at + 6]!, b[at + 7]!);
    if (first && type !== 'IHDR') return 'corrupt (it does not start with an IHDR chunk)';
    first = false;
    const end = at + 12 + length;
    if (end > b.length) return TRUNCATED;
    if (crc32(b.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length))
      return `corrupt (the ${printable(type)} chunk at byte ${at} fails its checksum)`;
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') return sawData ? undefined : 'corrupt (it has no image data)';
    at = end;
  }
  return TRUNCATED;
}

const printable = (s: string) => (/^[A-Za-z]{4}$/.test(s) ? s : 'unnamed');

/**
 * The entropy-coded data cannot contain FF D9 (every FF in it is followed
 * by 00 or a restart marker), so a whole file has an EOI marker after its
 * last start-of-scan. (An embedded thumbnail's EOI comes before it.)
 */
function checkJpeg(b: Uint8Array): string | undefined {
  let lastScan = -1;
  for (let i = b.length - 2; i >= 2; i--)
    if (b[i] === 0xff && b[i + 1] === 0xda) {
      lastScan = i;
      break;
    }
  if (lastScan < 0) return 'corrupt (it has no image data)';
  for (let i = b.length - 2; i > lastScan; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return undefined;
  return TRUNCATED;
}

function endsWithMarker(b: Uint8Array, marker: number): boolean {
  // Some writers pad the end with zeros.
  let end = b.length;
  while (end > 2 && b[end - 1] === 0) end--;
  return b[end - 2] === 0xff && b[end - 1] === marker;
}

/** Uncompressed BMPs must hold every row the header declares. */
function checkBmp(b: Uint8Array): string | undefined {
  if (b.length < 30) return TRUNCATED;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 12 || 14 + headerSize > b.length) return TRUNCATED;
  if (headerSize === 12) return dataOffset <= b.length ? undefined : TRUNCATED; // OS/2 header: sizes only
  const width = view.getInt32(18, true);
  const height = Math.abs(view.getInt32(22, true));
  const bitsPerPixel = view.getUint16(28, true);
  const compression = b.length >= 34 ? view.getUint32(30, true) : 0;
  if (compression !== 0 && compression !== 3) return dataOffset <= b.length ? undefined : TRUNCATED; // RLE etc.
  const rowBytes = Math.ceil((Math.abs(width) * bitsPerPixel) / 32) * 4;
  return dataOffset + rowBytes * height <= b.length ? undefined : TRUNCATED;
}

/** Every strip or tile of the first image lies inside the file. */
function checkTiff(b: Uint8Array): string | undefined {
  if (b.length < 8) return TRUNCATED;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const u16 = (at: number) => view.getUint16(at, le);
  const u32 = (at: number) => view.getUint32(at, le);
  const ifd = u32(4);
  if (ifd + 2 > b.length) return TRUNCATED;
  const count = u16(ifd);
  if (ifd + 2 + count * 12 > b.length) return TRUNCATED;
  const tags = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    const tag = u16(entry);
    const type = u16(entry + 2);
    const n = u32(entry + 4);
    const size = type === 3 ? 2 : type === 4 ? 4 : 0; // SHORT or LONG: all that offsets and counts use
    if (!size) continue;
    const inline = n * size <= 4;
    const at = inline ? entry + 8 : u32(entry + 8);
    if (at + n * size > b.length) return TRUNCATED;
    tags.set(
      tag,
      Array.from({ length: n }, (_, i) => (size === 2 ? u16(at + i * 2) : u32(at + i * 4))),
    );
  }
  const offsets = tags.get(273) ?? tags.get(324); // StripOffsets or TileOffsets
  const counts = tags.get(279) ?? tags.get(325); // StripByteCounts or TileByteCounts
  if (!offsets || !counts) return 'corrupt (it gives no image data)';
  for (let i = 0; i < offsets.length; i++) if (offsets[i]! + (counts[i] ?? 0) > b.length) return TRUNCATED;
  return undefined;
}

/**
 * libjpeg decodes a JPEG whose compressed data is damaged, filling what it
 * cannot read, and only warns ("Corrupt JPEG data: ...", "Premature end of
 * JPEG file"): such an image must not be used. Other codecs' warnings (a
 * PNG's colour profile, say) are harmless. Not applied to JPEG frames in
 * DICOM: the even-length padding of fragments makes libjpeg warn about
 * "extraneous bytes" in frames that decode correctly.
 */
export function corruptData(format: ImageFormat, warnings: string): string | undefined {
  if (format !== 'jpeg') return undefined;
  return warnings
    .split('\n')
    .find((line) => /Corrupt JPEG data|Premature end of JPEG|Invalid JPEG|Bogus/i.test(line))
    ?.trim();
}
