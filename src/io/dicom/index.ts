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
//
// One file per step: dataset.ts (parsing), frame.ts (attributes and frame
// bytes), rle.ts, opencv.ts (JPEG Baseline, JPEG 2000), jpeg-lossless.ts,
// grey.ts, attributes.ts (spacing, window); syntax.ts names the syntaxes.
import type { Tensor } from '../../engine/index.js';
import * as E from '../../engine/index.js';
import { DataError } from '../errors.js';
import type { Spacing } from '../types.js';
import type { DisplayWindow } from '../window.js';
import { spacingOf, windowOf } from './attributes.js';
import { decimals, parse, TAG } from './dataset.js';
import { encapsulatedFrame, nativeSamples, readHeader, requireEoi, type Samples } from './frame.js';
import { toGrey } from './grey.js';
import { jpegLosslessSamples } from './jpeg-lossless.js';
import { jpeg2000Samples, openCvSamples } from './opencv.js';
import { decodeRleFrame } from './rle.js';
import { SUPPORTED, TRANSFER_SYNTAX as TS, transferSyntaxName } from './syntax.js';

export { NOT_DICOM } from './dataset.js';
export { TRANSFER_SYNTAX } from './syntax.js';

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
