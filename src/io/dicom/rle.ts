// DICOM RLE Lossless (transfer syntax 1.2.840.10008.1.2.5), PS3.5 Annex G.
//
// A frame is a 64-byte header (16 little-endian uint32: the number of
// segments, then the byte offset of each segment from the start of the
// header, up to 15) followed by the segments. Each segment is PackBits
// encoded and holds one byte plane: for every sample of the pixel, one
// segment per byte of Bits Allocated, most significant byte first. So an
// 8-bit grey frame has 1 segment, a 16-bit grey frame 2 (high bytes, then
// low bytes), an 8-bit RGB frame 3 (R, G, B).

/** Why an RLE frame could not be decoded; the caller adds the file name. */
class RleError extends Error {
  override name = 'RleError';
}

const HEADER_BYTES = 64;
const MAX_SEGMENTS = 15;

/**
 * Decodes one PackBits segment into `out` (exactly out.length bytes).
 * Header byte n: 0..127 copy the next n + 1 bytes literally; -127..-1
 * repeat the next byte -n + 1 times; -128 is a no-op. Bytes left over once
 * `out` is full are padding and ignored.
 */
export function unpackBits(src: Uint8Array, out: Uint8Array): void {
  let i = 0;
  let o = 0;
  while (o < out.length) {
    if (i >= src.length) throw new RleError(`segment ends after ${o} of ${out.length} bytes`);
    const n = src[i++]!;
    if (n < 128) {
      const count = n + 1;
      if (i + count > src.length) throw new RleError(`literal run overruns the segment at byte ${i - 1}`);
      if (o + count > out.length) throw new RleError(`segment decodes to more than ${out.length} bytes`);
      out.set(src.subarray(i, i + count), o);
      i += count;
      o += count;
    } else if (n > 128) {
      const count = 257 - n;
      if (i >= src.length) throw new RleError(`replicate run overruns the segment at byte ${i - 1}`);
      if (o + count > out.length) throw new RleError(`segment decodes to more than ${out.length} bytes`);
      out.fill(src[i++]!, o, o + count);
      o += count;
    }
    // n === 128: no operation.
  }
}

/**
 * Decodes an RLE frame to its samples, planar (all of sample 0, then all of
 * sample 1, ...), as unsigned words of `bytesPerSample` bytes.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  pixels: number,
  samplesPerPixel: number,
  bytesPerSample: 1 | 2 | 4,
): Uint8Array | Uint16Array | Uint32Array {
  if (frame.length < HEADER_BYTES)
    throw new RleError(`frame of ${frame.length} bytes is shorter than the 64-byte RLE header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (count !== expected)
    throw new RleError(
      `header gives ${count} segments, expected ${expected} (${samplesPerPixel} sample(s) x ${bytesPerSample} byte(s))`,
    );
  if (count > MAX_SEGMENTS)
    throw new RleError(`${count} segments is more than the maximum of ${MAX_SEGMENTS}`);
  const offsets: number[] = [];
  for (let s = 0; s < count; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  const planes: Uint8Array[] = [];
  for (let s = 0; s < count; s++) {
    const start = offsets[s]!;
    const end = s + 1 < count ? offsets[s + 1]! : frame.length;
    if (start < HEADER_BYTES || end > frame.length || end < start)
      throw new RleError(`segment ${s + 1} has a bad offset ${start} (frame is ${frame.length} bytes)`);
    const plane = new Uint8Array(pixels);
    try {
      unpackBits(frame.subarray(start, end), plane);
    } catch (err) {
      throw new RleError(`segment ${s + 1}: ${(err as Error).message}`);
    }
    planes.push(plane);
  }
  const out =
    bytesPerSample === 1
      ? new Uint8Array(pixels * samplesPerPixel)
      : bytesPerSample === 2
        ? new Uint16Array(pixels * samplesPerPixel)
        : new Uint32Array(pixels * samplesPerPixel);
  for (let sample = 0; sample < samplesPerPixel; sample++) {
    const base = sample * pixels;
    for (let b = 0; b < bytesPerSample; b++) {
      const plane = planes[sample * bytesPerSample + b]!;
      // Most significant byte first: plane b holds bits from 8 * (bytes - 1 - b) up.
      const scale = 2 ** (8 * (bytesPerSample - 1 - b));
      for (let i = 0; i < pixels; i++) out[base + i] += plane[i]! * scale;
    }
  }
  return out;
}
