// Reading DICOM X-ray files: dicom-parser for the data set, then the pixel
// data of frame 1 decoded to an H x W float32 tensor of stored values after
// the Modality LUT (Rescale Slope/Intercept). Windowing to the 8-bit
// working range is a separate step (window.ts).
//
// Transfer syntaxes:
//   1.2.840.10008.1.2          Implicit VR Little Endian
//   1.2.840.10008.1.2.1        Explicit VR Little Endian
//   1.2.840.10008.1.2.1.99     Deflated Explicit VR Little Endian (node:zlib)
//   1.2.840.10008.1.2.2        Explicit VR Big Endian (pixel words byte-swapped)
//   1.2.840.10008.1.2.5        RLE Lossless (rle.ts)
//   1.2.840.10008.1.2.4.50     JPEG Baseline, 8 bit (OpenCV through the engine)
//   1.2.840.10008.1.2.4.57/.70 JPEG Lossless (jpeg-lossless-decoder-js)
//   1.2.840.10008.1.2.4.90/.91 JPEG 2000 (OpenCV with OpenJPEG through the
//                              engine; unsigned data only, OpenCV refuses
//                              signed JPEG 2000)
// Anything else is a DataError naming the syntax.
//
// Also read: files without the 128-byte preamble and "DICM" (a bare file
// meta group, or a raw data set in implicit or explicit VR little endian,
// as old ACR-NEMA style files are).
//
// Colour: 3 samples per pixel are converted to grey (the file is accepted,
// since a landmark tool only needs grey): RGB by ITU-R BT.601 luma
// 0.299 R + 0.587 G + 0.114 B (as OpenCV does for PNG/JPEG), YBR_FULL by
// taking Y. Compressed colour frames decoded by OpenCV are converted by it.
// PALETTE COLOR and subsampled YBR in uncompressed data are refused.
import { createRequire } from 'node:module';
import { inflateRawSync, inflateSync } from 'node:zlib';
import type { DataSet, Element, Fragment } from 'dicom-parser';
import dicomParser from 'dicom-parser';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { DataError } from './errors.js';
import { checkImageBytes, checkPixelCount } from './image-check.js';
import { decodeRleFrame } from './rle.js';
import type { Spacing } from './types.js';
import type { DisplayWindow } from './window.js';

export interface DicomImage {
  /** H x W float32: stored values (signed when Pixel Representation is 1) after Rescale Slope/Intercept. */
  pixels: Tensor;
  width: number;
  height: number;
  bitsStored: number;
  /** Photometric Interpretation as in the file (MONOCHROME2 when absent). */
  photometric: string;
  /** From Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164); absent otherwise. */
  spacing?: Spacing;
  /** The first Window Center/Width (0028,1050/1051) when valid. */
  window?: DisplayWindow;
  transferSyntax: string;
  /** Number of Frames (0028,0008); only frame 1 is read. */
  frames: number;
}

export const TRANSFER_SYNTAX = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedLittle: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
} as const;

const TS = TRANSFER_SYNTAX;

const SYNTAX_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.98': 'Encapsulated Uncompressed Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70':
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless Image Compression',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless) Image Compression',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000 Image Compression',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component Image Compression',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile / High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile / Level 5.1',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10 Profile / Level 5.1',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000 Image Compression',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.6.1': 'RFC 2557 MIME encapsulation',
  '1.2.840.10008.1.2.6.2': 'XML Encoding',
};

/** The standard name of a transfer syntax UID, or "unknown transfer syntax". */
export const transferSyntaxName = (uid: string) => SYNTAX_NAMES[uid] ?? 'unknown transfer syntax';

const SUPPORTED = new Set<string>(Object.values(TS));

export const NOT_DICOM =
  "not a DICOM file (no 'DICM' marker at byte 128, and not a readable DICOM data set without one)";

// Tags, as dicom-parser names them.
const TAG = {
  transferSyntax: 'x00020010',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  planarConfiguration: 'x00280006',
  frames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  pixelSpacing: 'x00280030',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  voiFunction: 'x00281056',
  imagerPixelSpacing: 'x00181164',
  pixelData: 'x7fe00010',
} as const;

// Value representations, to recognise explicit VR in a data set without a header.
const VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
);

/** Message of whatever dicom-parser threw (it throws strings, Errors and {exception, dataSet}). */
function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'exception' in err)
    return describe((err as { exception: unknown }).exception);
  const text = err instanceof Error ? err.message : String(err);
  // Drop the library's "dicomParser.fn: " / "someParser.readUint16: " prefix.
  return text.replace(/^[A-Za-z]+[.:][\w.]*: ?/, '');
}

const hasPart10Marker = (b: Uint8Array) =>
  b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;

const isExplicitVr = (b: Uint8Array, at: number) =>
  b.length >= at + 2 && VRS.has(String.fromCharCode(b[at]!, b[at + 1]!));

interface Parsed {
  ds: DataSet;
  transferSyntax: string;
}

/** Inflates a deflated data set (raw deflate per PS3.5 A.5; zlib-wrapped accepted too). */
function inflater(source: string) {
  return (arr: Uint8Array, position: number): Uint8Array => {
    const deflated = arr.subarray(position);
    let inflated: Uint8Array;
    try {
      inflated = inflateRawSync(deflated);
    } catch (err) {
      try {
        inflated = inflateSync(deflated);
      } catch {
        throw new DataError(source, `cannot inflate the deflated data set: ${(err as Error).message}`);
      }
    }
    const full = new Uint8Array(position + inflated.length);
    full.set(arr.subarray(0, position));
    full.set(inflated, position);
    return full;
  };
}

function parse(bytes: Uint8Array, source: string): Parsed {
  let input = bytes;
  let raw = false;
  let transferSyntax: string;
  if (!hasPart10Marker(bytes)) {
    const group = bytes.length >= 8 ? bytes[0]! | (bytes[1]! << 8) : -1;
    if (group === 0x0002 && isExplicitVr(bytes, 4)) {
      // A file meta group without the preamble: give it one.
      input = new Uint8Array(132 + bytes.length);
      input.set([0x44, 0x49, 0x43, 0x4d], 128);
      input.set(bytes, 132);
    } else if (group >= 0 && group <= 0x0028 && group % 2 === 0) {
      raw = true;
    } else throw new DataError(source, NOT_DICOM);
  }
  if (raw) transferSyntax = isExplicitVr(bytes, 4) ? TS.explicitLittle : TS.implicitLittle;
  else {
    let meta: DataSet;
    try {
      meta = dicomParser.readPart10Header(input);
    } catch (err) {
      throw new DataError(
        source,
        `cannot read the DICOM file meta information (truncated or corrupt file): ${describe(err)}`,
      );
    }
    const uid = meta.string(TAG.transferSyntax);
    if (!uid) {
      // The meta group's length (0002,0000) says where it ends: 132 + 12 + length.
      let groupLength: number | undefined;
      try {
        groupLength = meta.uint32('x00020000');
      } catch {}
      if (input.length < 144 || (groupLength !== undefined && 144 + groupLength > input.length))
        throw new DataError(
          source,
          `truncated file meta information (the file has only ${bytes.length} bytes)`,
        );
      throw new DataError(source, 'missing Transfer Syntax UID (0002,0010) in the file meta information');
    }
    transferSyntax = uid.replace(/[\0 ]+$/, '');
  }
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(input, {
      ...(raw ? { TransferSyntaxUID: transferSyntax } : {}),
      inflater: inflater(source),
    });
  } catch (err) {
    if (err instanceof DataError) throw err;
    const partial = (err as { dataSet?: DataSet }).dataSet;
    // Running out of bytes inside the pixel data: report that as truncated
    // pixel data (readDicom checks the sizes) rather than a parse failure.
    if (partial?.elements[TAG.pixelData]) ds = partial;
    else if (raw) throw new DataError(source, NOT_DICOM);
    else
      throw new DataError(
        source,
        `cannot parse the DICOM data set (truncated or corrupt file): ${describe(err)}`,
      );
  }
  if (raw && !ds.elements[TAG.rows] && !ds.elements[TAG.pixelData]) throw new DataError(source, NOT_DICOM);
  return { ds, transferSyntax };
}

/** Stored samples of frame 1 as decoded, before bit masking. */
interface Samples {
  values: ArrayLike<number>;
  /** Samples per pixel in `values`: 1, or 3 for colour. */
  spp: number;
  /** For spp 3: all of sample 0, then sample 1, ... (else interleaved). */
  planar: boolean;
  /** Already grey from a colour decoder (OpenCV): no bit masking, no colour conversion. */
  converted?: boolean;
}

interface Header {
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

const OPENCV_SYNTAXES = new Set<string>([TS.jpegBaseline, TS.jpeg2000Lossless, TS.jpeg2000]);

function readHeader(ds: DataSet, transferSyntax: string, source: string): Header {
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
function nativeSamples(ds: DataSet, el: Element, h: Header, bigEndian: boolean, source: string): Samples {
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

const JPEG_FAMILY = new Set<string>([TS.jpegBaseline, TS.jpegLossless, TS.jpegLosslessSV1]);

/** Whether JPEG data end with EOI (FFD9), allowing a little padding after it. */
function endsWithEoi(data: Uint8Array): boolean {
  for (let i = data.length - 2; i >= Math.max(0, data.length - 4); i--)
    if (data[i] === 0xff && data[i + 1] === 0xd9) return true;
  return false;
}

/** A JPEG frame cut short decodes to a partly grey image without complaint: refuse it. */
function requireEoi(frame: Uint8Array, what: string, source: string): Uint8Array {
  if (!endsWithEoi(frame))
    throw new DataError(source, `truncated ${what} pixel data: frame 1 does not end with an EOI marker`);
  return frame;
}

/** Frame 1 of encapsulated pixel data, its fragments joined. */
function encapsulatedFrame(ds: DataSet, el: Element, h: Header, ts: string, source: string): Uint8Array {
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

function checkSize(what: string, width: number, height: number, h: Header, source: string) {
  if (width !== h.cols || height !== h.rows)
    throw new DataError(
      source,
      `the ${what} pixel data is ${width} x ${height}, but Columns x Rows say ${h.cols} x ${h.rows}`,
    );
}

/** A JPEG Baseline or JPEG 2000 frame through OpenCV: grey (colour converted by OpenCV). */
function openCvSamples(frame: Uint8Array, what: string, h: Header, source: string): Samples {
  try {
    checkImageBytes(frame, source);
  } catch (err) {
    if (err instanceof DataError) throw new DataError(source, `the ${what} pixel data: ${err.problem}`);
    throw err;
  }
  let decoded: E.DecodedImage;
  try {
    decoded = E.decodeImage(frame);
  } catch (err) {
    throw new DataError(
      source,
      `cannot decode the ${what} pixel data with OpenCV: ${(err as Error).message.replace(/^decodeImage: /, '')}`,
    );
  }
  try {
    const [height, width] = decoded.pixels.shape as [number, number];
    checkSize(what, width, height, h, source);
    const data = decoded.pixels.data() as Uint8Array | Float32Array;
    return { values: data, spp: 1, planar: false, converted: decoded.channels > 1 };
  } finally {
    decoded.pixels.dispose();
  }
}

// ---- JPEG 2000

const JP2_SIGNATURE = [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];

function box(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setUint32(0, out.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  return out;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/**
 * DICOM holds a bare JPEG 2000 codestream. OpenCV reads one, but without a
 * colour space it warns on stderr for every image, so the codestream is
 * put in a minimal JP2 file (signature, ftyp, ihdr and colr boxes) saying
 * greyscale or sRGB. Signed data are refused here, as OpenCV would.
 */
function jpeg2000Samples(frame: Uint8Array, h: Header, source: string): Samples {
  const what = 'JPEG 2000';
  let file = frame;
  if (!JP2_SIGNATURE.every((b, i) => frame[i] === b)) {
    // SOC (FF4F) then SIZ (FF51): Xsiz, Ysiz, XOsiz, YOsiz, 4 tile fields, Csiz, Ssiz...
    if (frame.length < 45 || frame[0] !== 0xff || frame[1] !== 0x4f || frame[2] !== 0xff || frame[3] !== 0x51)
      throw new DataError(
        source,
        'cannot decode the JPEG 2000 pixel data: it does not start with a codestream (SOC, SIZ)',
      );
    const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const width = v.getUint32(8) - v.getUint32(16);
    const height = v.getUint32(12) - v.getUint32(20);
    const components = v.getUint16(40);
    const ssiz = frame[42]!;
    if (ssiz & 0x80)
      throw new DataError(
        source,
        'cannot decode the JPEG 2000 pixel data: it is signed, and OpenCV reads only unsigned JPEG 2000',
      );
    const ihdr = new Uint8Array(14);
    const iv = new DataView(ihdr.buffer);
    iv.setUint32(0, height);
    iv.setUint32(4, width);
    iv.setUint16(8, components);
    ihdr[10] = ssiz; // bits per component - 1, unsigned
    ihdr[11] = 7; // compression type: JPEG 2000
    const colr = new Uint8Array(7);
    colr[0] = 1; // enumerated colour space
    new DataView(colr.buffer).setUint32(3, components >= 3 ? 16 : 17); // sRGB : greyscale
    file = concat([
      new Uint8Array(JP2_SIGNATURE),
      box('ftyp', new Uint8Array([0x6a, 0x70, 0x32, 0x20, 0, 0, 0, 0, 0x6a, 0x70, 0x32, 0x20])),
      box('jp2h', concat([box('ihdr', ihdr), box('colr', colr)])),
      box('jp2c', frame),
    ]);
  }
  return openCvSamples(file, what, h, source);
}

// ---- JPEG Lossless

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | Uint16Array;
  frame: { dimX: number; dimY: number; numComp: number; precision: number };
  /** Where it stopped reading: past the end when the entropy-coded data ran out. */
  stream: { index: number; buffer: Uint8Array } | null;
}

// jpeg-lossless-decoder-js 2.1 has no type declarations in its package, so
// it is loaded through require with the little it is used for typed here.
let losslessDecoder: (new () => LosslessDecoder) | undefined;
function newLosslessDecoder(): LosslessDecoder {
  losslessDecoder ??= (
    createRequire(import.meta.url)('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }
  ).Decoder;
  return new losslessDecoder();
}

function jpegLosslessSamples(frame: Uint8Array, h: Header, source: string): Samples {
  const decoder = newLosslessDecoder();
  let out: Uint8Array | Uint16Array;
  try {
    // The decoder takes an ArrayBuffer: give it a copy of just the frame
    // (Buffer.slice would share the whole file's memory).
    const copy = new Uint8Array(frame);
    out = decoder.decode(copy.buffer, 0, copy.length);
  } catch (err) {
    throw new DataError(source, `cannot decode the JPEG Lossless pixel data: ${describe(err)}`);
  }
  const stream = decoder.stream;
  if (stream && stream.index > stream.buffer.length)
    throw new DataError(source, 'truncated JPEG Lossless pixel data: the image data end too early');
  checkSize('JPEG Lossless', decoder.frame.dimX, decoder.frame.dimY, h, source);
  const comps = decoder.frame.numComp;
  if (comps !== h.spp || out.length !== h.rows * h.cols * comps)
    throw new DataError(
      source,
      `the JPEG Lossless pixel data has ${comps} component(s), but Samples per Pixel is ${h.spp}`,
    );
  return { values: out, spp: comps, planar: false };
}

// ---- to float32 grey

/** Stored bits of each sample (High Bit, Bits Stored), sign-extended when signed, to grey. */
function toGrey(s: Samples, h: Header, photometric: string): Float32Array {
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

/** The numbers of a multi-valued DS/IS element ("a\\b\\c"); NaN for unreadable values. */
function decimals(ds: DataSet, tag: string): number[] {
  const text = ds.string(tag);
  if (!text) return [];
  return text.split('\\').map((v) => (v.trim() === '' ? Number.NaN : Number(v.trim())));
}

function spacingOf(ds: DataSet): Spacing | undefined {
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

function windowOf(ds: DataSet): DisplayWindow | undefined {
  const center = decimals(ds, TAG.windowCenter)[0];
  const width = decimals(ds, TAG.windowWidth)[0];
  if (center === undefined || width === undefined || !Number.isFinite(center) || !Number.isFinite(width))
    return undefined;
  if (!(width > 0)) return undefined;
  const fn = ds.string(TAG.voiFunction)?.trim().toUpperCase();
  return fn === 'LINEAR_EXACT' || fn === 'SIGMOID' ? { center, width, function: fn } : { center, width };
}

/**
 * Reads a DICOM file's frame 1 (multi-frame files: the other frames are
 * ignored). `source` names the file in errors. Throws DataError for a file
 * that is not DICOM, is truncated, lacks Rows/Columns/Pixel Data, or uses
 * an unsupported transfer syntax or pixel format.
 */
export function readDicom(bytes: Uint8Array, source: string): DicomImage {
  const { ds, transferSyntax: ts } = parse(bytes, source);
  if (!SUPPORTED.has(ts))
    throw new DataError(
      source,
      `unsupported transfer syntax ${ts} (${transferSyntaxName(ts)}); convert the file to an uncompressed syntax first, e.g. with "gdcmconv --raw"`,
    );
  const h = readHeader(ds, ts, source);
  const el = ds.elements[TAG.pixelData];
  if (!el) throw new DataError(source, 'no Pixel Data (7FE0,0010)');
  let samples: Samples;
  switch (ts) {
    case TS.implicitLittle:
    case TS.explicitLittle:
    case TS.deflatedLittle:
      samples = nativeSamples(ds, el, h, false, source);
      break;
    case TS.explicitBig:
      samples = nativeSamples(ds, el, h, true, source);
      break;
    case TS.rle: {
      const frame = encapsulatedFrame(ds, el, h, ts, source);
      let values: Uint8Array | Uint16Array | Uint32Array;
      try {
        values = decodeRleFrame(frame, h.rows * h.cols, h.spp, (h.bitsAllocated / 8) as 1 | 2 | 4);
      } catch (err) {
        throw new DataError(source, `corrupt RLE pixel data: ${(err as Error).message}`);
      }
      samples = { values, spp: h.spp, planar: true };
      break;
    }
    case TS.jpegBaseline:
      samples = openCvSamples(
        requireEoi(encapsulatedFrame(ds, el, h, ts, source), 'JPEG Baseline', source),
        'JPEG Baseline',
        h,
        source,
      );
      break;
    case TS.jpegLossless:
    case TS.jpegLosslessSV1:
      samples = jpegLosslessSamples(
        requireEoi(encapsulatedFrame(ds, el, h, ts, source), 'JPEG Lossless', source),
        h,
        source,
      );
      break;
    default: // JPEG 2000
      samples = jpeg2000Samples(encapsulatedFrame(ds, el, h, ts, source), h, source);
  }
  const grey = toGrey(samples, h, h.photometric);
  // Modality LUT: only the linear Rescale Slope/Intercept (a Modality LUT
  // Sequence is not applied).
  const slope = decimals(ds, TAG.rescaleSlope)[0];
  const intercept = decimals(ds, TAG.rescaleIntercept)[0];
  const m = slope !== undefined && Number.isFinite(slope) ? slope : 1;
  const b = intercept !== undefined && Number.isFinite(intercept) ? intercept : 0;
  if (m !== 1 || b !== 0) for (let i = 0; i < grey.length; i++) grey[i] = grey[i]! * m + b;
  const spacing = spacingOf(ds);
  const window = windowOf(ds);
  return {
    pixels: E.tensor(grey, [h.rows, h.cols]),
    width: h.cols,
    height: h.rows,
    bitsStored: h.bitsStored,
    photometric: h.photometric,
    ...(spacing ? { spacing } : {}),
    ...(window ? { window } : {}),
    transferSyntax: ts,
    frames: h.frames,
  };
}
