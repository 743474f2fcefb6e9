// The DICOM data set through dicom-parser: files with or without the
// preamble and "DICM" (a bare file meta group, or a raw data set in
// implicit or explicit VR little endian, as old ACR-NEMA style files are),
// deflated data sets inflated, and what dicom-parser throws turned into
// DataErrors naming the file.
import { inflateRawSync, inflateSync } from 'node:zlib';
import type { DataSet } from 'dicom-parser';
import dicomParser from 'dicom-parser';
import { DataError } from '../errors.js';
import { TRANSFER_SYNTAX as TS } from './syntax.js';

export const NOT_DICOM =
  "not a DICOM file (no 'DICM' marker at byte 128, and not a readable DICOM data set without one)";

// Tags, as dicom-parser names them.
export const TAG = {
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
export function describe(err: unknown): string {
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

export interface Parsed {
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

export function parse(bytes: Uint8Array, source: string): Parsed {
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

/** The numbers of a multi-valued DS/IS element ("a\\b\\c"); NaN for unreadable values. */
export function decimals(ds: DataSet, tag: string): number[] {
  const text = ds.string(tag);
  if (!text) return [];
  return text.split('\\').map((v) => (v.trim() === '' ? Number.NaN : Number(v.trim())));
}
