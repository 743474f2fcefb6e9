// JPEG Lossless frames (processes 14 and 14 SV1), by jpeg-lossless-decoder-js.
import { createRequire } from 'node:module';
import { DataError } from '../errors.js';
import { describe } from './dataset.js';
import { checkSize, type Header, type Samples } from './frame.js';

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

export function jpegLosslessSamples(frame: Uint8Array, h: Header, source: string): Samples {
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
