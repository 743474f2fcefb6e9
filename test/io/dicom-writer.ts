// A small DICOM Part 10 writer for tests: preamble, "DICM", the file meta
// group (explicit VR little endian), then the data set in the chosen
// transfer syntax. Also the encoders the reader's tests need and no
// fixture could be downloaded for: PackBits/RLE (PS3.5 Annex G) and JPEG
// Lossless (ITU T.81 process 14, one fixed Huffman table).
import { deflateRawSync } from 'node:zlib';
import { TRANSFER_SYNTAX } from '../../src/io/dicom/index.js';

/** The reader's syntaxes plus one it must refuse (JPEG-LS). */
export const UID = { ...TRANSFER_SYNTAX, jpegLs: '1.2.840.10008.1.2.4.80' } as const;

/** Encapsulated pixel data: fragments, and the Basic Offset Table (empty when absent). */
export interface Encapsulated {
  fragments: Uint8Array[];
  offsets?: number[];
}

export type Value = string | number | number[] | Uint8Array | Uint16Array | Encapsulated;

export interface Element {
  /** 0xGGGGEEEE */
  tag: number;
  vr: string;
  value: Value;
}

export interface WriteOptions {
  transferSyntax: string;
  /** 128-byte preamble and "DICM" (default true). */
  preamble?: boolean;
  /** File meta group (default true). Without it and the preamble: a raw data set. */
  meta?: boolean;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

class Bytes {
  private parts: number[] = [];
  constructor(readonly little: boolean) {}
  u8(...v: number[]) {
    for (const x of v) this.parts.push(x & 0xff);
  }
  u16(v: number) {
    if (this.little) this.u8(v, v >> 8);
    else this.u8(v >> 8, v);
  }
  u32(v: number) {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.u8(...(this.little ? b : b.reverse()));
  }
  raw(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i]!);
  }
  get length() {
    return this.parts.length;
  }
  bytes() {
    return Uint8Array.from(this.parts);
  }
}

const isEncapsulated = (v: Value): v is Encapsulated => typeof v === 'object' && 'fragments' in v;

/** The value bytes, padded to even length. */
function valueBytes(vr: string, value: Value, little: boolean): number[] {
  const out = new Bytes(little);
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) out.u8(value.charCodeAt(i));
    if (out.length % 2) out.u8(vr === 'UI' ? 0 : 0x20);
  } else if (value instanceof Uint8Array) {
    out.raw(value);
    if (out.length % 2) out.u8(0);
  } else if (value instanceof Uint16Array) {
    for (const w of value) out.u16(w);
  } else if (typeof value === 'number' || Array.isArray(value)) {
    for (const v of typeof value === 'number' ? [value] : value) {
      if (vr === 'US' || vr === 'SS') out.u16(v);
      else if (vr === 'UL' || vr === 'SL') out.u32(v);
      else throw new Error(`dicom-writer: numbers for VR ${vr}`);
    }
  } else throw new Error('dicom-writer: bad value');
  return Array.from(out.bytes());
}

function writeElement(out: Bytes, e: Element, explicit: boolean) {
  out.u16(e.tag >>> 16);
  out.u16(e.tag & 0xffff);
  if (isEncapsulated(e.value)) {
    // Always little endian (encapsulation is only defined for LE syntaxes).
    out.u8(...[...e.vr].map((c) => c.charCodeAt(0)), 0, 0);
    out.u32(0xffffffff);
    const item = (body: ArrayLike<number>) => {
      out.u16(0xfffe);
      out.u16(0xe000);
      out.u32(body.length);
      out.raw(body);
    };
    const bot = new Bytes(true);
    for (const o of e.value.offsets ?? []) bot.u32(o);
    item(bot.bytes());
    for (const f of e.value.fragments) item(f.length % 2 ? [...f, 0] : f);
    out.u16(0xfffe);
    out.u16(0xe0dd);
    out.u32(0);
    return;
  }
  const body = valueBytes(e.vr, e.value, out.little);
  if (explicit) {
    out.u8(e.vr.charCodeAt(0), e.vr.charCodeAt(1));
    if (LONG_VRS.has(e.vr)) {
      out.u16(0);
      out.u32(body.length);
    } else out.u16(body.length);
  } else out.u32(body.length);
  out.raw(body);
}

function dataSet(elements: Element[], explicit: boolean, little: boolean): Uint8Array {
  const out = new Bytes(little);
  for (const e of [...elements].sort((a, b) => a.tag - b.tag)) writeElement(out, e, explicit);
  return out.bytes();
}

/** A DICOM file: preamble + DICM + meta group + data set (see WriteOptions). */
export function writeDicom(elements: Element[], options: WriteOptions): Uint8Array {
  const ts = options.transferSyntax;
  const explicit = ts !== UID.implicitLittle;
  const little = ts !== UID.explicitBig;
  let body = dataSet(elements, explicit, little);
  if (ts === UID.deflatedLittle) body = deflateRawSync(body);
  const parts: Uint8Array[] = [];
  if (options.preamble ?? true) {
    const pre = new Uint8Array(132);
    pre.set([0x44, 0x49, 0x43, 0x4d], 128);
    parts.push(pre);
  }
  if (options.meta ?? true) {
    const meta = dataSet(
      [
        { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
        { tag: 0x00020002, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1.1' },
        { tag: 0x00020003, vr: 'UI', value: '1.2.3.4.5.6.7.8.9' },
        { tag: 0x00020010, vr: 'UI', value: ts },
        { tag: 0x00020012, vr: 'UI', value: '1.2.3.4.5.6.7.8.10' },
      ],
      true,
      true,
    );
    parts.push(dataSet([{ tag: 0x00020000, vr: 'UL', value: meta.length }], true, true), meta);
  }
  parts.push(body);
  // A copy with its own ArrayBuffer (Buffer.concat may hand out a pooled slice).
  return Uint8Array.from(Buffer.concat(parts));
}

export interface ImageHeader {
  rows: number;
  cols: number;
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  signed?: boolean;
  samplesPerPixel?: number;
  photometric?: string;
  planar?: boolean;
  frames?: number;
}

/** The Image Pixel module elements (without Pixel Data). */
export function imageElements(h: ImageHeader): Element[] {
  const bitsAllocated = h.bitsAllocated ?? 16;
  const bitsStored = h.bitsStored ?? bitsAllocated;
  const spp = h.samplesPerPixel ?? 1;
  const out: Element[] = [
    { tag: 0x00080060, vr: 'CS', value: 'DX' },
    { tag: 0x00280002, vr: 'US', value: spp },
    { tag: 0x00280004, vr: 'CS', value: h.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2') },
    { tag: 0x00280010, vr: 'US', value: h.rows },
    { tag: 0x00280011, vr: 'US', value: h.cols },
    { tag: 0x00280100, vr: 'US', value: bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: bitsStored },
    { tag: 0x00280102, vr: 'US', value: h.highBit ?? bitsStored - 1 },
    { tag: 0x00280103, vr: 'US', value: h.signed ? 1 : 0 },
  ];
  if (spp === 3) out.push({ tag: 0x00280006, vr: 'US', value: h.planar ? 1 : 0 });
  if (h.frames !== undefined) out.push({ tag: 0x00280008, vr: 'IS', value: String(h.frames) });
  return out;
}

export const pixelData = (value: Uint8Array | Uint16Array | Encapsulated): Element => ({
  tag: 0x7fe00010,
  vr: value instanceof Uint16Array ? 'OW' : 'OB',
  value,
});

// ---- RLE (PS3.5 Annex G)

/** PackBits: replicate runs of 2..128 equal bytes as (1 - n, byte), the rest as literals of up to 128. */
export function packBits(src: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let run = 1;
    while (i + run < src.length && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 2) {
      out.push(257 - run, src[i]!);
      i += run;
      continue;
    }
    let end = i + 1;
    while (end < src.length && end - i < 128 && !(end + 1 < src.length && src[end] === src[end + 1])) end++;
    out.push(end - i - 1);
    for (let k = i; k < end; k++) out.push(src[k]!);
    i = end;
  }
  return out;
}

/**
 * One RLE frame: the samples (planar: all of sample 0, then 1, ...) split
 * into byte planes, most significant first, each PackBits-encoded row by
 * row into a segment padded to even length, after the 64-byte header.
 */
export function encodeRle(
  samples: ArrayLike<number>,
  rows: number,
  cols: number,
  spp: number,
  bytesPerSample: number,
): Uint8Array {
  const n = rows * cols;
  const segments: number[][] = [];
  for (let s = 0; s < spp; s++)
    for (let b = 0; b < bytesPerSample; b++) {
      const shift = 8 * (bytesPerSample - 1 - b);
      const seg: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row: number[] = [];
        for (let c = 0; c < cols; c++)
          row.push(Math.floor(samples[s * n + r * cols + c]! / 2 ** shift) & 0xff);
        seg.push(...packBits(row));
      }
      if (seg.length % 2) seg.push(0);
      segments.push(seg);
    }
  const header = new Bytes(true);
  header.u32(segments.length);
  let offset = 64;
  for (let s = 0; s < 15; s++) {
    header.u32(s < segments.length ? offset : 0);
    if (s < segments.length) offset += segments[s]!.length;
  }
  const out = new Bytes(true);
  out.raw(header.bytes());
  for (const seg of segments) out.raw(seg);
  return out.bytes();
}

// ---- JPEG Lossless (T.81 process 14)

/**
 * A lossless JPEG of one grey component: SOF3, one Huffman table giving
 * every difference category 0..16 a 5-bit code, predictor `predictor`
 * (1..7; the first row predicts from the left, the first column from
 * above, the first pixel 2^(P-1)), no point transform, no restarts.
 */
export function encodeJpegLossless(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  precision: number,
  predictor = 1,
): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number) => out.push((v >> 8) & 0xff, v & 0xff);
  const marker = (m: number) => out.push(0xff, m);
  marker(0xd8); // SOI
  marker(0xc3); // SOF3
  u16(11);
  out.push(precision);
  u16(rows);
  u16(cols);
  out.push(1, 1, 0x11, 0);
  marker(0xc4); // DHT: class 0, id 0, 17 codes of length 5
  u16(2 + 1 + 16 + 17);
  out.push(0);
  for (let len = 1; len <= 16; len++) out.push(len === 5 ? 17 : 0);
  for (let s = 0; s <= 16; s++) out.push(s);
  marker(0xda); // SOS
  u16(8);
  out.push(1, 1, 0x00, predictor, 0, 0);
  let acc = 0;
  let nbits = 0;
  const put = (value: number, n: number) => {
    for (let k = n - 1; k >= 0; k--) {
      acc = (acc << 1) | ((value >> k) & 1);
      if (++nbits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const at = (r: number, c: number) => values[r * cols + c]!;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let pred: number;
      if (r === 0 && c === 0) pred = 1 << (precision - 1);
      else if (r === 0) pred = at(r, c - 1);
      else if (c === 0) pred = at(r - 1, c);
      else {
        const a = at(r, c - 1);
        const b = at(r - 1, c);
        const x = at(r - 1, c - 1);
        pred = [0, a, b, x, a + b - x, a + ((b - x) >> 1), b + ((a - x) >> 1), (a + b) >> 1][predictor]!;
      }
      let diff = (at(r, c) - pred) % 65536;
      if (diff > 32768) diff -= 65536;
      if (diff < -32767) diff += 65536;
      let ssss = 0;
      while (Math.abs(diff) >= 2 ** ssss) ssss++;
      put(ssss, 5);
      if (ssss > 0 && ssss < 16) put(diff > 0 ? diff : diff - 1 + 2 ** ssss, ssss);
    }
  if (nbits > 0) put(0xff, 8 - nbits);
  marker(0xd9); // EOI
  return Uint8Array.from(out);
}

/** The codestream inside a JP2 file (the jp2c box), as DICOM stores JPEG 2000. */
export function jp2Codestream(jp2: Uint8Array): Uint8Array {
  const view = new DataView(jp2.buffer, jp2.byteOffset, jp2.byteLength);
  let at = 0;
  while (at + 8 <= jp2.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...jp2.subarray(at + 4, at + 8));
    if (type === 'jp2c') return jp2.subarray(at + 8, length ? at + length : jp2.length);
    if (length < 8) break;
    at += length;
  }
  throw new Error('jp2Codestream: no jp2c box');
}
