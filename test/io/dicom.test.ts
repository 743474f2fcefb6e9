// DICOM reading: every supported transfer syntax on files written by the
// test helper (no fixtures), pixel values, spacing, rescale, signed data,
// colour, multi-frame, windowing, and each error's exact text.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { type DicomImage, NOT_DICOM, readDicom } from '../../src/io/dicom/index.js';
import { decodeRleFrame, unpackBits } from '../../src/io/dicom/rle.js';
import { DataError } from '../../src/io/errors.js';
import { percentiles, toDisplayRange } from '../../src/io/window.js';
import {
  type Element,
  encodeJpegLossless,
  encodeRle,
  imageElements,
  jp2Codestream,
  packBits,
  pixelData,
  UID,
  writeDicom,
} from './dicom-writer.js';

const FILE = 'x.dcm';

/** A 16-bit test pattern: distinct values across the range up to 2^bits - 1. */
function pattern(rows: number, cols: number, bits: number): Uint16Array {
  const v = new Uint16Array(rows * cols);
  const top = 2 ** bits - 1;
  for (let i = 0; i < v.length; i++) v[i] = (i * 2654435761) % (top + 1);
  v[0] = 0;
  v[v.length - 1] = top;
  return v;
}

/**
 * Reads, copies the pixels out, frees the tensor. Also reads the bytes as a
 * Buffer at an odd offset in a larger ArrayBuffer (as fs gives them), which
 * must give the same result.
 */
function read(bytes: Uint8Array, file = FILE): Omit<DicomImage, 'pixels'> & { values: number[] } {
  const once = (b: Uint8Array) => {
    const d = readDicom(b, file);
    const values = d.pixels.toArray();
    assert.deepEqual(d.pixels.shape, [d.height, d.width]);
    assert.equal(d.pixels.dtype, 'float32');
    d.pixels.dispose();
    const { pixels: _, ...rest } = d;
    return { ...rest, values };
  };
  const plain = once(bytes);
  const offset = Buffer.concat([Buffer.alloc(3), bytes, Buffer.alloc(5)]).subarray(3, 3 + bytes.length);
  assert.deepEqual(once(offset), plain, 'same result from a Buffer at an offset');
  return plain;
}

const file = (
  elements: Element[],
  transferSyntax: string,
  extra: Partial<{ preamble: boolean; meta: boolean }> = {},
) => writeDicom(elements, { transferSyntax, ...extra });

const throwsData = (fn: () => unknown, problem: string) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
    assert.equal(err.message, `${FILE}: ${problem}`);
    assert.equal(err.file, FILE);
    return true;
  });

describe('DICOM: uncompressed transfer syntaxes', () => {
  const rows = 5;
  const cols = 7;
  const values = pattern(rows, cols, 12);

  for (const [name, uid] of [
    ['implicit VR little endian', UID.implicitLittle],
    ['explicit VR little endian', UID.explicitLittle],
    ['explicit VR big endian', UID.explicitBig],
    ['deflated explicit VR little endian', UID.deflatedLittle],
  ] as const)
    test(`${name}: 12-in-16-bit values exactly, size, bits, spacing row\\column order`, () => {
      const d = read(
        file(
          [
            ...imageElements({ rows, cols, bitsStored: 12 }),
            { tag: 0x00280030, vr: 'DS', value: '0.2\\0.1' },
            pixelData(values),
          ],
          uid,
        ),
      );
      assert.deepEqual(d.values, Array.from(values));
      assert.equal(d.width, cols);
      assert.equal(d.height, rows);
      assert.equal(d.bitsStored, 12);
      assert.equal(d.photometric, 'MONOCHROME2');
      assert.equal(d.transferSyntax, uid);
      assert.equal(d.frames, 1);
      // Pixel Spacing is "row spacing \ column spacing": y first.
      assert.deepEqual(d.spacing, { x: 0.1, y: 0.2, source: 'dicom-pixel-spacing' });
      assert.equal(d.window, undefined);
    });

  test('8-bit data in every uncompressed syntax', () => {
    const v8 = Uint8Array.from({ length: rows * cols }, (_, i) => (i * 37) % 256);
    for (const uid of [UID.implicitLittle, UID.explicitLittle, UID.explicitBig, UID.deflatedLittle]) {
      const d = read(file([...imageElements({ rows, cols, bitsAllocated: 8 }), pixelData(v8)], uid));
      assert.deepEqual(d.values, Array.from(v8), uid);
    }
  });

  test('big endian 8-bit data in an OW element are swapped in pairs', () => {
    const v8 = Uint8Array.from([10, 20, 30, 40, 50, 60]);
    // As words, big endian: 10 20 -> word 0x0a14 written as 0a 14 ... so pass words that write v8's bytes swapped.
    const words = new Uint16Array(3);
    for (let i = 0; i < 3; i++) words[i] = v8[2 * i + 1]! * 256 + v8[2 * i]!;
    const d = read(
      file(
        [
          ...imageElements({ rows: 2, cols: 3, bitsAllocated: 8 }),
          { tag: 0x7fe00010, vr: 'OW', value: words },
        ],
        UID.explicitBig,
      ),
    );
    assert.deepEqual(d.values, Array.from(v8));
  });

  test('Imager Pixel Spacing when there is no Pixel Spacing; none when neither', () => {
    const base = [...imageElements({ rows: 1, cols: 2 }), pixelData(new Uint16Array([1, 2]))];
    const imager = read(
      file([...base, { tag: 0x00181164, vr: 'DS', value: '0.15\\0.125' }], UID.explicitLittle),
    );
    assert.deepEqual(imager.spacing, { x: 0.125, y: 0.15, source: 'dicom-imager-pixel-spacing' });
    const both = read(
      file(
        [
          ...base,
          { tag: 0x00181164, vr: 'DS', value: '0.15\\0.125' },
          { tag: 0x00280030, vr: 'DS', value: '0.3\\0.25' },
        ],
        UID.implicitLittle,
      ),
    );
    assert.deepEqual(both.spacing, { x: 0.25, y: 0.3, source: 'dicom-pixel-spacing' });
    assert.equal(read(file(base, UID.explicitLittle)).spacing, undefined);
    // Malformed (one value, zero) spacing is ignored.
    assert.equal(
      read(file([...base, { tag: 0x00280030, vr: 'DS', value: '0.2' }], UID.explicitLittle)).spacing,
      undefined,
    );
    assert.equal(
      read(file([...base, { tag: 0x00280030, vr: 'DS', value: '0\\0.2' }], UID.explicitLittle)).spacing,
      undefined,
    );
  });

  test('Rescale Slope/Intercept are applied; the window is read', () => {
    const d = read(
      file(
        [
          ...imageElements({ rows: 1, cols: 4 }),
          { tag: 0x00281052, vr: 'DS', value: '-1024' },
          { tag: 0x00281053, vr: 'DS', value: '0.5' },
          { tag: 0x00281050, vr: 'DS', value: '40\\400' },
          { tag: 0x00281051, vr: 'DS', value: '350\\2000' },
          pixelData(new Uint16Array([0, 1, 2048, 65535])),
        ],
        UID.explicitBig,
      ),
    );
    assert.deepEqual(d.values, [-1024, -1023.5, 0, 65535 * 0.5 - 1024]);
    assert.deepEqual(d.window, { center: 40, width: 350 });
    const sigmoid = read(
      file(
        [
          ...imageElements({ rows: 1, cols: 1 }),
          { tag: 0x00281050, vr: 'DS', value: '100' },
          { tag: 0x00281051, vr: 'DS', value: '50' },
          { tag: 0x00281056, vr: 'CS', value: 'SIGMOID' },
          pixelData(new Uint16Array([7])),
        ],
        UID.implicitLittle,
      ),
    );
    assert.deepEqual(sigmoid.window, { center: 100, width: 50, function: 'SIGMOID' });
    const zeroWidth = read(
      file(
        [
          ...imageElements({ rows: 1, cols: 1 }),
          { tag: 0x00281050, vr: 'DS', value: '100' },
          { tag: 0x00281051, vr: 'DS', value: '0' },
          pixelData(new Uint16Array([7])),
        ],
        UID.explicitLittle,
      ),
    );
    assert.equal(zeroWidth.window, undefined);
  });

  test("signed pixels: 16-bit two's complement and 12-bit sign extension", () => {
    const signed16 = new Uint16Array([0, 1, 0x7fff, 0x8000, 0xffff, 0xfc00]);
    for (const uid of [UID.explicitLittle, UID.explicitBig, UID.implicitLittle]) {
      const d = read(file([...imageElements({ rows: 2, cols: 3, signed: true }), pixelData(signed16)], uid));
      assert.deepEqual(d.values, [0, 1, 32767, -32768, -1, -1024], uid);
    }
    // 12 bits stored: bit 11 is the sign; bits 12-15 (here set, as overlays did) are ignored.
    const signed12 = new Uint16Array([0x0000, 0x07ff, 0x0800, 0x0fff, 0xf001, 0xa7fe]);
    const d = read(
      file(
        [...imageElements({ rows: 1, cols: 6, bitsStored: 12, signed: true }), pixelData(signed12)],
        UID.explicitLittle,
      ),
    );
    assert.deepEqual(d.values, [0, 2047, -2048, -1, 1, 2046]);
    // Unsigned: only bits 0-11.
    const u = read(
      file([...imageElements({ rows: 1, cols: 6, bitsStored: 12 }), pixelData(signed12)], UID.explicitLittle),
    );
    assert.deepEqual(u.values, [0, 2047, 2048, 4095, 1, 2046]);
    // High Bit above Bits Stored - 1: the stored bits are shifted down.
    const shifted = read(
      file(
        [
          ...imageElements({ rows: 1, cols: 2, bitsStored: 12, highBit: 15 }),
          pixelData(new Uint16Array([0x0010, 0xfff0])),
        ],
        UID.explicitLittle,
      ),
    );
    assert.deepEqual(shifted.values, [1, 4095]);
  });

  test('32-bit data', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, 100000, true);
    new DataView(bytes.buffer).setInt32(4, -5, true);
    const d = read(
      file(
        [...imageElements({ rows: 1, cols: 2, bitsAllocated: 32, signed: true }), pixelData(bytes)],
        UID.explicitLittle,
      ),
    );
    assert.deepEqual(d.values, [100000, -5]);
  });

  test('RGB is converted to grey (BT.601 luma), interleaved or planar; YBR_FULL keeps Y', () => {
    const rgb = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [10, 20, 30],
    ];
    const luma = rgb.map(([r, g, b]) => Math.fround(0.299 * r! + 0.587 * g! + 0.114 * b!));
    const interleaved = Uint8Array.from(rgb.flat());
    const planar = Uint8Array.from([0, 1, 2].flatMap((c) => rgb.map((p) => p[c]!)));
    const h = { rows: 2, cols: 2, bitsAllocated: 8, samplesPerPixel: 3 };
    const a = read(file([...imageElements(h), pixelData(interleaved)], UID.explicitLittle));
    assert.deepEqual(a.values, luma);
    assert.equal(a.photometric, 'RGB');
    const b = read(file([...imageElements({ ...h, planar: true }), pixelData(planar)], UID.explicitLittle));
    assert.deepEqual(b.values, luma);
    const ybr = read(
      file([...imageElements({ ...h, photometric: 'YBR_FULL' }), pixelData(interleaved)], UID.explicitLittle),
    );
    assert.deepEqual(ybr.values, [255, 0, 0, 10]);
  });

  test('MONOCHROME1 is reported (the windowing inverts it)', () => {
    const d = read(
      file(
        [
          ...imageElements({ rows: 1, cols: 2, photometric: 'MONOCHROME1' }),
          pixelData(new Uint16Array([1, 2])),
        ],
        UID.explicitLittle,
      ),
    );
    assert.equal(d.photometric, 'MONOCHROME1');
  });

  test('multi-frame: frame 1 is read', () => {
    const frames = new Uint16Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const d = read(
      file([...imageElements({ rows: 2, cols: 2, frames: 2 }), pixelData(frames)], UID.explicitLittle),
    );
    assert.deepEqual(d.values, [1, 2, 3, 4]);
    assert.equal(d.frames, 2);
  });

  test('files without the preamble: a bare meta group, or a raw data set (implicit or explicit VR)', () => {
    const elements = [...imageElements({ rows: 1, cols: 3 }), pixelData(new Uint16Array([5, 6, 7]))];
    assert.deepEqual(read(file(elements, UID.explicitBig, { preamble: false })).values, [5, 6, 7]);
    for (const uid of [UID.implicitLittle, UID.explicitLittle]) {
      const d = read(file(elements, uid, { preamble: false, meta: false }));
      assert.deepEqual(d.values, [5, 6, 7], uid);
      assert.equal(d.transferSyntax, uid);
    }
  });
});

describe('DICOM: RLE Lossless', () => {
  test('PackBits round trip, including long runs and literals', () => {
    const src = Uint8Array.from([
      ...Array(300).fill(7),
      1,
      2,
      3,
      ...Array.from({ length: 200 }, (_, i) => i % 256),
      9,
      9,
    ]);
    const out = new Uint8Array(src.length);
    unpackBits(Uint8Array.from(packBits(src)), out);
    assert.deepEqual(out, src);
    // -128 is a no-op.
    const noop = new Uint8Array(2);
    unpackBits(Uint8Array.from([0x80, 0xff, 5]), noop);
    assert.deepEqual(Array.from(noop), [5, 5]);
  });

  const rows = 6;
  const cols = 9;
  test('16-bit grey (two segments, high bytes first) exactly', () => {
    const values = pattern(rows, cols, 16);
    values.fill(1234, 10, 30); // a run
    const frame = encodeRle(values, rows, cols, 1, 2);
    assert.deepEqual(Array.from(decodeRleFrame(frame, rows * cols, 1, 2)), Array.from(values));
    const d = read(file([...imageElements({ rows, cols }), pixelData({ fragments: [frame] })], UID.rle));
    assert.deepEqual(d.values, Array.from(values));
  });

  test('8-bit grey, signed 16-bit, and 8-bit RGB to grey', () => {
    const v8 = Uint8Array.from({ length: rows * cols }, (_, i) => (i < 20 ? 200 : (i * 13) % 256));
    const d8 = read(
      file(
        [
          ...imageElements({ rows, cols, bitsAllocated: 8 }),
          pixelData({ fragments: [encodeRle(v8, rows, cols, 1, 1)] }),
        ],
        UID.rle,
      ),
    );
    assert.deepEqual(d8.values, Array.from(v8));
    const s16 = new Uint16Array([0xffff, 0x8000, 0x7fff, 3]);
    const ds = read(
      file(
        [
          ...imageElements({ rows: 2, cols: 2, signed: true }),
          pixelData({ fragments: [encodeRle(s16, 2, 2, 1, 2)] }),
        ],
        UID.rle,
      ),
    );
    assert.deepEqual(ds.values, [-1, -32768, 32767, 3]);
    // RLE colour is planar by construction: R plane, G plane, B plane.
    const planes = [100, 110, 0, 255, 50, 60, 0, 255, 10, 20, 255, 255];
    const rgb = read(
      file(
        [
          ...imageElements({ rows: 2, cols: 2, bitsAllocated: 8, samplesPerPixel: 3 }),
          pixelData({ fragments: [encodeRle(planes, 2, 2, 3, 1)] }),
        ],
        UID.rle,
      ),
    );
    const luma = [0, 1, 2, 3].map((i) =>
      Math.fround(0.299 * planes[i]! + 0.587 * planes[4 + i]! + 0.114 * planes[8 + i]!),
    );
    assert.deepEqual(rgb.values, luma);
  });

  test('multi-frame with a Basic Offset Table: frame 1', () => {
    const f1 = encodeRle(new Uint16Array([1, 2, 3, 4]), 2, 2, 1, 2);
    const f2 = encodeRle(new Uint16Array([9, 9, 9, 9]), 2, 2, 1, 2);
    const d = read(
      file(
        [
          ...imageElements({ rows: 2, cols: 2, frames: 2 }),
          pixelData({ fragments: [f1, f2], offsets: [0, 8 + f1.length] }),
        ],
        UID.rle,
      ),
    );
    assert.deepEqual(d.values, [1, 2, 3, 4]);
    // Without a table, one fragment per frame.
    const e = read(
      file([...imageElements({ rows: 2, cols: 2, frames: 2 }), pixelData({ fragments: [f1, f2] })], UID.rle),
    );
    assert.deepEqual(e.values, [1, 2, 3, 4]);
  });

  test('corrupt RLE data', () => {
    const h = imageElements({ rows: 2, cols: 2 });
    const good = encodeRle(new Uint16Array([1, 2, 3, 4]), 2, 2, 1, 2);
    throwsData(
      () => readDicom(file([...h, pixelData({ fragments: [good.subarray(0, 40)] })], UID.rle), FILE),
      'corrupt RLE pixel data: frame of 40 bytes is shorter than the 64-byte RLE header',
    );
    const one = encodeRle(new Uint8Array([1, 2, 3, 4]), 2, 2, 1, 1);
    throwsData(
      () => readDicom(file([...h, pixelData({ fragments: [one] })], UID.rle), FILE),
      'corrupt RLE pixel data: header gives 1 segments, expected 2 (1 sample(s) x 2 byte(s))',
    );
    // Cut the last segment short: it cannot fill its plane.
    const short = good.slice(0, good.length - 4);
    throwsData(
      () => readDicom(file([...h, pixelData({ fragments: [short] })], UID.rle), FILE),
      'corrupt RLE pixel data: segment 2: literal run overruns the segment at byte 0',
    );
  });
});

describe('DICOM: JPEG', () => {
  /** A smooth 8-bit card with a few flat blocks: JPEG keeps it close. */
  function card(rows: number, cols: number): Uint8Array {
    const v = new Uint8Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) v[r * cols + c] = (r < rows / 2 ? 60 : 180) + (c < cols / 2 ? 0 : 40);
    return v;
  }

  test('JPEG Baseline through OpenCV (lossy: close, right size)', () => {
    const rows = 32;
    const cols = 48;
    const v = card(rows, cols);
    const jpeg = E.tidy(() => E.encodeImage(E.tensor(v, [rows, cols], 'uint8'), '.jpg'));
    const d = read(
      file(
        [...imageElements({ rows, cols, bitsAllocated: 8 }), pixelData({ fragments: [jpeg] })],
        UID.jpegBaseline,
      ),
    );
    assert.equal(d.width, cols);
    assert.equal(d.height, rows);
    const meanError = d.values.reduce((s, x, i) => s + Math.abs(x - v[i]!), 0) / v.length;
    assert.ok(meanError < 3, `mean abs error ${meanError}`);
  });

  test('JPEG Baseline split over two fragments', () => {
    const v = card(16, 16);
    const jpeg = E.tidy(() => E.encodeImage(E.tensor(v, [16, 16], 'uint8'), '.jpg'));
    const half = 100;
    const d = read(
      file(
        [
          ...imageElements({ rows: 16, cols: 16, bitsAllocated: 8 }),
          pixelData({ fragments: [jpeg.subarray(0, half), jpeg.subarray(half)] }),
        ],
        UID.jpegBaseline,
      ),
    );
    const meanError = d.values.reduce((s, x, i) => s + Math.abs(x - v[i]!), 0) / v.length;
    assert.ok(meanError < 3, `mean abs error ${meanError}`);
  });

  test('JPEG Lossless SV1 (.70): 16-bit and 12-bit exactly', () => {
    for (const bits of [16, 12, 8]) {
      const rows = 7;
      const cols = 11;
      const values = pattern(rows, cols, bits);
      const jpeg = encodeJpegLossless(values, rows, cols, bits, 1);
      const d = read(
        file(
          [
            ...imageElements({ rows, cols, bitsAllocated: bits > 8 ? 16 : 8, bitsStored: bits }),
            pixelData({ fragments: [jpeg] }),
          ],
          UID.jpegLosslessSV1,
        ),
      );
      assert.deepEqual(d.values, Array.from(values), `${bits} bits`);
    }
  });

  test('JPEG Lossless (.57) with every predictor, and signed data', () => {
    const rows = 9;
    const cols = 8;
    const values = pattern(rows, cols, 12);
    for (let predictor = 1; predictor <= 7; predictor++) {
      const jpeg = encodeJpegLossless(values, rows, cols, 12, predictor);
      const d = read(
        file(
          [...imageElements({ rows, cols, bitsStored: 12 }), pixelData({ fragments: [jpeg] })],
          UID.jpegLossless,
        ),
      );
      assert.deepEqual(d.values, Array.from(values), `predictor ${predictor}`);
    }
    const signed = new Uint16Array([0xffff, 0x8000, 0x7fff, 0]);
    const d = read(
      file(
        [
          ...imageElements({ rows: 2, cols: 2, signed: true }),
          pixelData({ fragments: [encodeJpegLossless(signed, 2, 2, 16)] }),
        ],
        UID.jpegLossless,
      ),
    );
    assert.deepEqual(d.values, [-1, -32768, 32767, 0]);
  });

  test('JPEG 2000 codestream through OpenCV (OpenJPEG)', () => {
    const rows = 48;
    const cols = 64;
    const v = card(rows, cols);
    const jp2 = E.tidy(() => E.encodeImage(E.tensor(v, [rows, cols], 'uint8'), '.jp2' as '.png'));
    const codestream = jp2Codestream(jp2);
    for (const uid of [UID.jpeg2000Lossless, UID.jpeg2000]) {
      const d = read(
        file(
          [...imageElements({ rows, cols, bitsAllocated: 8 }), pixelData({ fragments: [codestream] })],
          uid,
        ),
      );
      // OpenCV's JP2 writer is lossy at its default rate; this flat card survives exactly.
      assert.deepEqual(d.values, Array.from(v), uid);
    }
    // A JP2 file in the fragment (some writers do that) is read too.
    const d = read(
      file(
        [...imageElements({ rows, cols, bitsAllocated: 8 }), pixelData({ fragments: [jp2] })],
        UID.jpeg2000,
      ),
    );
    assert.deepEqual(d.values, Array.from(v));
  });

  test('multi-frame JPEG without a Basic Offset Table: frame 1 ends with the fragment ending in EOI', () => {
    const a = card(16, 16);
    const b = new Uint8Array(256).fill(30);
    const [ja, jb] = E.tidy(() => [a, b].map((v) => E.encodeImage(E.tensor(v, [16, 16], 'uint8'), '.jpg')));
    const d = read(
      file(
        [
          ...imageElements({ rows: 16, cols: 16, bitsAllocated: 8, frames: 2 }),
          pixelData({ fragments: [ja!.subarray(0, 101), ja!.subarray(101), jb!] }),
        ],
        UID.jpegBaseline,
      ),
    );
    const meanError = d.values.reduce((s, x, i) => s + Math.abs(x - a[i]!), 0) / a.length;
    assert.ok(meanError < 3, `mean abs error ${meanError}`);
  });

  test('JPEG errors: size mismatch, undecodable data, signed JPEG 2000, not encapsulated', () => {
    const v = card(16, 16);
    const jpeg = E.tidy(() => E.encodeImage(E.tensor(v, [16, 16], 'uint8'), '.jpg'));
    throwsData(
      () =>
        readDicom(
          file(
            [...imageElements({ rows: 16, cols: 20, bitsAllocated: 8 }), pixelData({ fragments: [jpeg] })],
            UID.jpegBaseline,
          ),
          FILE,
        ),
      'the JPEG Baseline pixel data is 16 x 16, but Columns x Rows say 20 x 16',
    );
    throwsData(
      () =>
        readDicom(
          file(
            [
              ...imageElements({ rows: 2, cols: 2, bitsAllocated: 8 }),
              pixelData({ fragments: [new Uint8Array([1, 2, 0xff, 0xd9])] }),
            ],
            UID.jpegBaseline,
          ),
          FILE,
        ),
      'the JPEG Baseline pixel data: not an image fewmark can read (expected BMP, PNG, JPEG, TIFF, JPEG 2000 or DICOM)',
    );
    throwsData(
      () =>
        readDicom(
          file(
            [
              ...imageElements({ rows: 2, cols: 2 }),
              pixelData({ fragments: [new Uint8Array([1, 2, 0xff, 0xd9])] }),
            ],
            UID.jpegLossless,
          ),
          FILE,
        ),
      'cannot decode the JPEG Lossless pixel data: Not a JPEG file',
    );
    const lossless = encodeJpegLossless(new Uint16Array([1, 2, 3, 4]), 2, 2, 16);
    throwsData(
      () =>
        readDicom(
          file(
            [...imageElements({ rows: 2, cols: 3 }), pixelData({ fragments: [lossless] })],
            UID.jpegLosslessSV1,
          ),
          FILE,
        ),
      'the JPEG Lossless pixel data is 2 x 2, but Columns x Rows say 3 x 2',
    );
    // A codestream header saying "signed" (SOC, SIZ with Ssiz bit 7 set).
    const jp2 = E.tidy(() => E.encodeImage(E.tensor(card(48, 64), [48, 64], 'uint8'), '.jp2' as '.png'));
    const signed = jp2Codestream(jp2).slice();
    signed[42] = 0x80 | 15;
    throwsData(
      () =>
        readDicom(
          file(
            [...imageElements({ rows: 48, cols: 64, signed: true }), pixelData({ fragments: [signed] })],
            UID.jpeg2000,
          ),
          FILE,
        ),
      'cannot decode the JPEG 2000 pixel data: it is signed, and OpenCV reads only unsigned JPEG 2000',
    );
    throwsData(
      () =>
        readDicom(
          file(
            [
              ...imageElements({ rows: 2, cols: 2 }),
              pixelData({ fragments: [new Uint8Array([1, 2, 3, 4])] }),
            ],
            UID.jpeg2000,
          ),
          FILE,
        ),
      'cannot decode the JPEG 2000 pixel data: it does not start with a codestream (SOC, SIZ)',
    );
    throwsData(
      () =>
        readDicom(
          file(
            [...imageElements({ rows: 1, cols: 2 }), pixelData(new Uint16Array([1, 2]))],
            UID.jpegBaseline,
          ),
          FILE,
        ),
      'the pixel data is not encapsulated, as JPEG Baseline (Process 1) requires',
    );
  });
});

/** CRC-32 (IEEE), as zlib computes it (node:zlib has crc32 only from Node 20.15). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

// Real files, when the installed jpeg-lossless-decoder-js package carries
// its test data (it does in its npm tarball): the same CT slice encoded with
// each predictor 1..7, a 12-frame 8-bit file and a 3072 x 2048 RGB file.
const losslessData = (() => {
  try {
    const pkg = createRequire(import.meta.url).resolve('jpeg-lossless-decoder-js/package.json');
    const dir = join(dirname(pkg), 'tests', 'data');
    return existsSync(join(dir, 'jpeg_lossless_sel1.dcm')) ? dir : undefined;
  } catch {
    return undefined;
  }
})();

describe('DICOM: real JPEG Lossless files from jpeg-lossless-decoder-js', { skip: !losslessData }, () => {
  test("predictors 1..7 give the same pixels, matching the package's published checksum", () => {
    const decode = (name: string) => {
      const d = readDicom(readFileSync(join(losslessData!, name)), name);
      const values = d.pixels.data() as Float32Array;
      d.pixels.dispose();
      return { d, values };
    };
    const { d, values } = decode('jpeg_lossless_sel1.dcm');
    assert.equal(d.width, 256);
    assert.equal(d.height, 256);
    assert.equal(d.transferSyntax, '1.2.840.10008.1.2.4.57');
    assert.deepEqual(d.spacing, { x: 0.625, y: 0.625, source: 'dicom-pixel-spacing' });
    assert.deepEqual(d.window, { center: 1095, width: 84 });
    // The decoder's own test: CRC-32 of its 16-bit output is 3476557349.
    assert.equal(crc32(new Uint8Array(Uint16Array.from(values).buffer)), 3476557349);
    for (let sv = 2; sv <= 7; sv++)
      assert.deepEqual(decode(`jpeg_lossless_sel${sv}.dcm`).values, values, `selection ${sv}`);
  });

  test('a 12-frame file: frame 1', () => {
    const d = readDicom(readFileSync(join(losslessData!, 'jpeg_lossless_sel1-8bit.dcm')), 'x');
    assert.equal(d.frames, 12);
    assert.deepEqual(d.pixels.shape, [512, 512]);
    d.pixels.dispose();
  });
});

describe('DICOM: errors name the file and the problem', () => {
  const rows = 4;
  const cols = 4;
  const good = [...imageElements({ rows, cols }), pixelData(pattern(rows, cols, 16))];

  test('not a DICOM file', () => {
    const png = E.tidy(() => E.encodeImage(E.zeros([4, 4], 'uint8'), '.png'));
    throwsData(() => readDicom(png, FILE), NOT_DICOM);
    throwsData(() => readDicom(new Uint8Array(0), FILE), NOT_DICOM);
    throwsData(() => readDicom(new TextEncoder().encode('hello, world: this is text'), FILE), NOT_DICOM);
    // Starts like a raw data set but holds no image attributes.
    throwsData(() => readDicom(new Uint8Array(300), FILE), NOT_DICOM);
    assert.equal(
      NOT_DICOM,
      "not a DICOM file (no 'DICM' marker at byte 128, and not a readable DICOM data set without one)",
    );
  });

  test('truncated pixel data (native, every uncompressed syntax)', () => {
    for (const uid of [UID.explicitLittle, UID.implicitLittle, UID.explicitBig]) {
      const bytes = file(good, uid);
      throwsData(
        () => readDicom(bytes.subarray(0, bytes.length - 6), FILE),
        'truncated pixel data: frame 1 needs 32 bytes, the file has 26',
      );
    }
    // The element is complete but shorter than Rows x Columns need.
    throwsData(
      () =>
        readDicom(
          file([...imageElements({ rows, cols }), pixelData(new Uint16Array(10))], UID.explicitLittle),
          FILE,
        ),
      'truncated pixel data: frame 1 needs 32 bytes, the file has 20',
    );
  });

  test('truncated encapsulated pixel data', () => {
    const frame = encodeRle(pattern(rows, cols, 16), rows, cols, 1, 2);
    const bytes = file([...imageElements({ rows, cols }), pixelData({ fragments: [frame] })], UID.rle);
    const cut = bytes.subarray(0, bytes.length - 8 - 10); // the delimiter and 10 bytes of the fragment
    throwsData(
      () => readDicom(cut, FILE),
      `truncated pixel data: fragment 1 needs ${frame.length} bytes, the file has ${frame.length - 10}`,
    );
  });

  test('truncated JPEG frames', () => {
    const v = pattern(64, 64, 12);
    const lossless = encodeJpegLossless(v, 64, 64, 12);
    const h = imageElements({ rows: 64, cols: 64, bitsStored: 12 });
    throwsData(
      () =>
        readDicom(
          file([...h, pixelData({ fragments: [lossless.subarray(0, 3000)] })], UID.jpegLossless),
          FILE,
        ),
      'truncated JPEG Lossless pixel data: frame 1 does not end with an EOI marker',
    );
    // The end marker is there, but entropy-coded data are missing before it.
    const cut = Uint8Array.from([...lossless.subarray(0, 3000), 0xff, 0xd9]);
    throwsData(
      () => readDicom(file([...h, pixelData({ fragments: [cut] })], UID.jpegLossless), FILE),
      'truncated JPEG Lossless pixel data: the image data end too early',
    );
    const jpeg = E.tidy(() => E.encodeImage(E.tensor(v, [64, 64]).div(16).to('uint8'), '.jpg'));
    throwsData(
      () =>
        readDicom(
          file(
            [
              ...imageElements({ rows: 64, cols: 64, bitsAllocated: 8 }),
              pixelData({ fragments: [jpeg.subarray(0, jpeg.length - 20)] }),
            ],
            UID.jpegBaseline,
          ),
          FILE,
        ),
      'truncated JPEG Baseline pixel data: frame 1 does not end with an EOI marker',
    );
  });

  test('encapsulated pixel data without frame 1', () => {
    const f = encodeRle(new Uint16Array(4), 2, 2, 1, 2);
    const h = imageElements({ rows: 2, cols: 2, frames: 2 });
    throwsData(
      () =>
        readDicom(
          file([...imageElements({ rows: 2, cols: 2 }), pixelData({ fragments: [] })], UID.rle),
          FILE,
        ),
      'the encapsulated pixel data has no fragments',
    );
    throwsData(
      () => readDicom(file([...h, pixelData({ fragments: [f, f, f] })], UID.rle), FILE),
      'cannot find frame 1 of 2 in 3 fragments without a Basic Offset Table',
    );
    throwsData(
      () => readDicom(file([...h, pixelData({ fragments: [f, f], offsets: [4, 6] })], UID.rle), FILE),
      'the Basic Offset Table points to no fragment for frame 1',
    );
    const grey = encodeJpegLossless(new Uint8Array(4), 2, 2, 8);
    throwsData(
      () =>
        readDicom(
          file(
            [
              ...imageElements({ rows: 2, cols: 2, bitsAllocated: 8, samplesPerPixel: 3 }),
              pixelData({ fragments: [grey] }),
            ],
            UID.jpegLossless,
          ),
          FILE,
        ),
      'the JPEG Lossless pixel data has 1 component(s), but Samples per Pixel is 3',
    );
  });

  test('truncated or corrupt data set before the pixel data', () => {
    const bytes = file(good, UID.explicitLittle);
    // Cut inside the last element before the pixel data (32 bytes, 12-byte header).
    throwsData(
      () => readDicom(bytes.subarray(0, bytes.length - 32 - 12 - 1), FILE),
      'cannot parse the DICOM data set (truncated or corrupt file): buffer overrun',
    );
    throwsData(
      () => readDicom(bytes.subarray(0, 138), FILE),
      'cannot read the DICOM file meta information (truncated or corrupt file): attempt to read past end of buffer',
    );
    throwsData(
      () => readDicom(bytes.subarray(0, 140), FILE),
      'truncated file meta information (the file has only 140 bytes)',
    );
    throwsData(
      () => readDicom(file(good, ''), FILE),
      'missing Transfer Syntax UID (0002,0010) in the file meta information',
    );
  });

  test('deflated data that do not inflate', () => {
    const bytes = file(good, UID.deflatedLittle);
    throwsData(
      () => readDicom(bytes.subarray(0, bytes.length - 10), FILE),
      'cannot inflate the deflated data set: unexpected end of file',
    );
  });

  test('missing Rows, Columns, Bits Allocated, Pixel Data', () => {
    const without = (tag: number) => good.filter((e) => e.tag !== tag);
    throwsData(
      () => readDicom(file(without(0x00280010), UID.explicitLittle), FILE),
      'missing or zero Rows (0028,0010)',
    );
    throwsData(
      () => readDicom(file(without(0x00280011), UID.implicitLittle), FILE),
      'missing or zero Columns (0028,0011)',
    );
    throwsData(
      () => readDicom(file(without(0x00280100), UID.explicitLittle), FILE),
      'missing Bits Allocated (0028,0100)',
    );
    throwsData(
      () => readDicom(file(without(0x7fe00010), UID.explicitLittle), FILE),
      'no Pixel Data (7FE0,0010)',
    );
  });

  test('unsupported transfer syntaxes name the UID and the syntax', () => {
    throwsData(
      () =>
        readDicom(
          file([...imageElements({ rows, cols }), pixelData({ fragments: [new Uint8Array(4)] })], UID.jpegLs),
          FILE,
        ),
      'unsupported transfer syntax 1.2.840.10008.1.2.4.80 (JPEG-LS Lossless Image Compression); convert the file to an uncompressed syntax first, e.g. with "gdcmconv --raw"',
    );
    throwsData(
      () => readDicom(file(good, '1.2.3.4'), FILE),
      'unsupported transfer syntax 1.2.3.4 (unknown transfer syntax); convert the file to an uncompressed syntax first, e.g. with "gdcmconv --raw"',
    );
  });

  test('unsupported pixel formats', () => {
    const px = pixelData(new Uint16Array(16));
    throwsData(
      () =>
        readDicom(file([...imageElements({ rows, cols, bitsAllocated: 12 }), px], UID.explicitLittle), FILE),
      'unsupported Bits Allocated 12 (expected 8, 16 or 32)',
    );
    throwsData(
      () => readDicom(file([...imageElements({ rows, cols, bitsStored: 17 }), px], UID.explicitLittle), FILE),
      'inconsistent Bits Stored 17 and High Bit 16 for Bits Allocated 16',
    );
    throwsData(
      () =>
        readDicom(file([...imageElements({ rows, cols, samplesPerPixel: 4 }), px], UID.explicitLittle), FILE),
      'unsupported Samples per Pixel 4 (expected 1, or 3 for colour)',
    );
    throwsData(
      () =>
        readDicom(
          file([...imageElements({ rows, cols, photometric: 'PALETTE COLOR' }), px], UID.explicitLittle),
          FILE,
        ),
      'unsupported Photometric Interpretation PALETTE COLOR with 1 sample per pixel (expected MONOCHROME1 or MONOCHROME2)',
    );
    throwsData(
      () =>
        readDicom(
          file(
            [...imageElements({ rows, cols, samplesPerPixel: 3, photometric: 'YBR_FULL_422' }), px],
            UID.explicitLittle,
          ),
          FILE,
        ),
      'unsupported Photometric Interpretation YBR_FULL_422 with 3 samples per pixel for Explicit VR Little Endian (expected RGB or YBR_FULL)',
    );
  });
});

describe('windowing to the 8-bit range', () => {
  const display = (values: number[], options: Parameters<typeof toDisplayRange>[1]) =>
    E.tidy(() => toDisplayRange(E.tensor(values, [1, values.length]), options).toArray());

  test('the file window, DICOM linear function: c - 0.5 +- (w - 1) / 2', () => {
    // c = 100, w = 11: <= 94.5 -> 0, > 104.5 -> 255, linear between.
    const out = display([0, 94.5, 99.5, 104.5, 105, 1000], { window: { center: 100, width: 11 } });
    assert.deepEqual(out, [0, 0, 127.5, 255, 255, 255]);
    // MONOCHROME1 inverts.
    const inv = display([0, 99.5, 1000], { window: { center: 100, width: 11 }, photometric: 'MONOCHROME1' });
    assert.deepEqual(inv, [255, 127.5, 0]);
    const exact = display([90, 100, 110], { window: { center: 100, width: 20, function: 'LINEAR_EXACT' } });
    assert.deepEqual(exact, [0, 127.5, 255]);
    const sigmoid = display([100], { window: { center: 100, width: 20, function: 'SIGMOID' } });
    assert.deepEqual(sigmoid, [127.5]);
  });

  test('without a window: 0.5th to 99.5th percentile stretch', () => {
    // 1000 values 0..999: the 0.5th percentile is 4, the 99.5th is 994.
    const values = Array.from({ length: 1000 }, (_, i) => i);
    assert.deepEqual(percentiles(values, 0.5, 99.5), [4, 994]);
    const out = display(values, {});
    assert.equal(out[0], 0);
    assert.equal(out[4], 0);
    assert.equal(out[994], 255);
    assert.equal(out[999], 255);
    assert.ok(Math.abs(out[499]! - (255 * 495) / 990) < 1e-4);
    // A hot pixel does not take up the range.
    const hot = Array.from({ length: 1000 }, (_, i) => (i === 0 ? 65535 : 1000 + (i % 100)));
    const h = display(hot, {});
    assert.equal(h[0], 255);
    assert.ok(h[50]! > 100 && h[50]! < 160, `mid value ${h[50]}`);
    // MONOCHROME1 inverts; an invalid window falls back to percentiles.
    const inv = display(values, { photometric: 'MONOCHROME1', window: { center: 5, width: 0 } });
    assert.equal(inv[0], 255);
    assert.equal(inv[999], 0);
    // A constant image maps to 0.
    assert.deepEqual(display([7, 7, 7], {}), [0, 0, 0]);
  });

  test('percentiles of fractional or wide data are within 1/65536 of the range', () => {
    const values = Array.from({ length: 10000 }, (_, i) => i * 0.37 - 100);
    const [lo, hi] = percentiles(values, 0.5, 99.5);
    const range = 9999 * 0.37;
    assert.ok(Math.abs(lo - (49 * 0.37 - 100)) <= range / 65536 + 1e-9, `lo ${lo}`);
    assert.ok(Math.abs(hi - (9949 * 0.37 - 100)) <= range / 65536 + 1e-9, `hi ${hi}`);
  });

  test('a 16-bit PNG is windowed the same way (no window: percentiles)', () => {
    const values = Array.from({ length: 200 }, (_, i) => 1000 + i * 100);
    const out = E.tidy(() => {
      const png = E.encodeImage(E.tensor(values, [10, 20]), '.png');
      const decoded = E.decodeImage(png);
      assert.equal(decoded.bitDepth, 16);
      return toDisplayRange(decoded.pixels).toArray();
    });
    const [lo, hi] = percentiles(values, 0.5, 99.5);
    assert.deepEqual([lo, hi], [1000, 20800]);
    assert.deepEqual(
      out,
      values.map((v) => Math.fround(v <= lo ? 0 : v >= hi ? 255 : (255 * (v - lo)) / (hi - lo))),
    );
  });

  test('a DICOM MONOCHROME1 file: bone (low values) comes out bright', () => {
    const d = readDicom(
      file(
        [
          ...imageElements({ rows: 1, cols: 3, photometric: 'MONOCHROME1' }),
          pixelData(new Uint16Array([0, 500, 1000])),
        ],
        UID.explicitLittle,
      ),
      FILE,
    );
    const out = E.tidy(() =>
      toDisplayRange(d.pixels, { window: d.window, photometric: d.photometric }).toArray(),
    );
    d.pixels.dispose();
    assert.deepEqual(out, [255, 127.5, 0]);
  });
});
