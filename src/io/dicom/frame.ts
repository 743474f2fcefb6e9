// Frame 1 of the pixel data: the image attributes it is read with (Rows,
// Columns, bits, samples, photometric interpretation), uncompressed samples
// (byte-swapped for big endian), and the bytes of an encapsulated frame.
import type { DataSet, Element, Fragment } from 'dicom-parser';
import { DataError } from '../errors.js';
import { checkPixelCount } from '../image-check.js';
import { decimals, TAG } from './dataset.js';
import { JPEG_FAMILY, OPENCV_SYNTAXES, transferSyntaxName } from './syntax.js';

/** Stored samples of frame 1 as decoded, before bit masking. */
export interface Samples {
  values: ArrayLike<number>;
  /** Samples per pixel in `values`: 1, or 3 for colour. */
  spp: number;
  /** For spp 3: all of sample 0, then sample 1, ... (else interleaved). */
  planar: boolean;
  /** Already grey from a colour decoder (OpenCV): no bit masking, no colour conversion. */
  converted?: boolean;
}

export interface Header {
  rows: number;
  cols: number;
  spp: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  photometric: string;
  planar: boolean;
  frames: number;
}

export function readHeader(ds: DataSet, transferSyntax: string, source: string): Header {
  const fail = (problem: string) => new DataError(source, problem);
  const rows = ds.uint16(TAG.rows);
  if (!rows) throw fail('missing or zero Rows (0028,0010)');
  const cols = ds.uint16(TAG.columns);
  if (!cols) throw fail('missing or zero Columns (0028,0011)');
  checkPixelCount(cols, rows, source);
  const bitsAllocated = ds.uint16(TAG.bitsAllocated);
  if (bitsAllocated === undefined) throw fail('missing Bits Allocated (0028,0100)');
  if (![8, 16, 32].includes(bitsAllocated))
    throw fail(`unsupported Bits Allocated ${bitsAllocated} (expected 8, 16 or 32)`);
  const bitsStored = ds.uint16(TAG.bitsStored) ?? bitsAllocated;
  const highBit = ds.uint16(TAG.highBit) ?? bitsStored - 1;
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated)
    throw fail(
      `inconsistent Bits Stored ${bitsStored} and High Bit ${highBit} for Bits Allocated ${bitsAllocated}`,
    );
  const spp = ds.uint16(TAG.samplesPerPixel) ?? 1;
  const photometric = (ds.string(TAG.photometric) ?? 'MONOCHROME2').trim().toUpperCase();
  if (spp !== 1 && spp !== 3)
    throw fail(`unsupported Samples per Pixel ${spp} (expected 1, or 3 for colour)`);
  if (spp === 1 && photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')
    throw fail(
      `unsupported Photometric Interpretation ${photometric} with 1 sample per pixel (expected MONOCHROME1 or MONOCHROME2)`,
    );
  // OpenCV converts compressed colour (YBR_FULL_422, YBR_ICT, YBR_RCT, ...) itself.
  if (
    spp === 3 &&
    !OPENCV_SYNTAXES.has(transferSyntax) &&
    photometric !== 'RGB' &&
    photometric !== 'YBR_FULL'
  )
    throw fail(
      `unsupported Photometric Interpretation ${photometric} with 3 samples per pixel for ${transferSyntaxName(transferSyntax)} (expected RGB or YBR_FULL)`,
    );
  const frames = decimals(ds, TAG.frames)[0] ?? 1;
  return {
    rows,
    cols,
    spp,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: ds.uint16(TAG.pixelRepresentation) === 1,
    photometric,
    planar: ds.uint16(TAG.planarConfiguration) === 1,
    frames: Number.isInteger(frames) && frames > 0 ? frames : 1,
  };
}

/** Uncompressed frame 1 (the first frames' bytes are first), byte-swapped for big endian. */
export function nativeSamples(
  ds: DataSet,
  el: Element,
  h: Header,
  bigEndian: boolean,
  source: string,
): Samples {
  const bytesPerSample = h.bitsAllocated / 8;
  const count = h.rows * h.cols * h.spp;
  const need = count * bytesPerSample;
  const buf = ds.byteArray;
  const have = Math.max(0, Math.min(el.length, buf.length - el.dataOffset));
  if (have < need)
    throw new DataError(source, `truncated pixel data: frame 1 needs ${need} bytes, the file has ${have}`);
  const view = new DataView(buf.buffer, buf.byteOffset + el.dataOffset, need);
  let values: Uint8Array | Uint16Array | Uint32Array;
  if (bytesPerSample === 1) {
    values = new Uint8Array(count);
    // 8-bit data in an OW element of a big endian file are swapped in pairs.
    if (bigEndian && el.vr === 'OW')
      for (let i = 0; i < count; i++) values[i] = buf[el.dataOffset + (i ^ 1)] ?? 0;
    else values.set(buf.subarray(el.dataOffset, el.dataOffset + count));
  } else if (bytesPerSample === 2) {
    values = new Uint16Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getUint16(2 * i, !bigEndian);
  } else {
    values = new Uint32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getUint32(4 * i, !bigEndian);
  }
  return { values, spp: h.spp, planar: h.planar };
}

/** Whether JPEG data end with EOI (FFD9), allowing a little padding after it. */
function endsWithEoi(data: Uint8Array): boolean {
  for (let i = data.length - 2; i >= Math.max(0, data.length - 4); i--)
    if (data[i] === 0xff && data[i + 1] === 0xd9) return true;
  return false;
}

/** A JPEG frame cut short decodes to a partly grey image without complaint: refuse it. */
export function requireEoi(frame: Uint8Array, what: string, source: string): Uint8Array {
  if (!endsWithEoi(frame))
    throw new DataError(source, `truncated ${what} pixel data: frame 1 does not end with an EOI marker`);
  return frame;
}

/** Frame 1 of encapsulated pixel data, its fragments joined. */
export function encapsulatedFrame(
  ds: DataSet,
  el: Element,
  h: Header,
  ts: string,
  source: string,
): Uint8Array {
  if (!el.encapsulatedPixelData || !el.fragments)
    throw new DataError(source, `the pixel data is not encapsulated, as ${transferSyntaxName(ts)} requires`);
  const buf = ds.byteArray;
  const all = el.fragments;
  if (all.length === 0) throw new DataError(source, 'the encapsulated pixel data has no fragments');
  all.forEach((f, i) => {
    if (f.position + f.length > buf.length)
      throw new DataError(
        source,
        `truncated pixel data: fragment ${i + 1} needs ${f.length} bytes, the file has ${Math.max(0, buf.length - f.position)}`,
      );
  });
  let frags: Fragment[] = all;
  if (h.frames > 1) {
    // Multi-frame: only frame 1 is read. Its fragments run up to the second
    // Basic Offset Table entry; without a table, one fragment per frame, or
    // for JPEG up to the fragment that ends with EOI.
    const bot = el.basicOffsetTable ?? [];
    if (bot.length >= 2) frags = all.filter((f) => f.offset >= bot[0]! && f.offset < bot[1]!);
    else if (all.length === h.frames) frags = [all[0]!];
    else if (JPEG_FAMILY.has(ts)) {
      const end = all.findIndex((f) => endsWithEoi(buf.subarray(f.position, f.position + f.length)));
      frags = all.slice(0, end < 0 ? all.length : end + 1);
    } else
      throw new DataError(
        source,
        `cannot find frame 1 of ${h.frames} in ${all.length} fragments without a Basic Offset Table`,
      );
    if (frags.length === 0)
      throw new DataError(source, 'the Basic Offset Table points to no fragment for frame 1');
  }
  if (frags.length === 1) return buf.subarray(frags[0]!.position, frags[0]!.position + frags[0]!.length);
  const out = new Uint8Array(frags.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frags) {
    out.set(buf.subarray(f.position, f.position + f.length), at);
    at += f.length;
  }
  return out;
}

export function checkSize(what: string, width: number, height: number, h: Header, source: string) {
  if (width !== h.cols || height !== h.rows)
    throw new DataError(
      source,
      `the ${what} pixel data is ${width} x ${height}, but Columns x Rows say ${h.cols} x ${h.rows}`,
    );
}
