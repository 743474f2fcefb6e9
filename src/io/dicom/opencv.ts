// JPEG Baseline and JPEG 2000 frames, decoded by OpenCV through the engine.
import * as E from '../../engine/index.js';
import { DataError } from '../errors.js';
import { checkImageBytes } from '../image-check.js';
import { checkSize, type Header, type Samples } from './frame.js';

/** A JPEG Baseline or JPEG 2000 frame through OpenCV: grey (colour converted by OpenCV). */
export function openCvSamples(frame: Uint8Array, what: string, h: Header, source: string): Samples {
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
export function jpeg2000Samples(frame: Uint8Array, h: Header, source: string): Samples {
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
