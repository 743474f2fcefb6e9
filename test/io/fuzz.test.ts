// Fuzzing the readers: mutated images (every OpenCV codec) and landmark
// files (every file format) for a bounded time. Each input must give a
// DataError or a valid result: never another error, a crash, a hang (each
// case within CASE_LIMIT_MS) or memory beyond RSS_LIMIT. Seeded, so a
// failure names the seed and case that reproduce it.
//
// FEWMARK_FUZZ_SECONDS sets the time per group (default 6), FEWMARK_FUZZ_SEED the seed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { DataError } from '../../src/io/errors.js';
import { type FileFormat, FORMATS } from '../../src/io/formats/index.js';
import { decodeImageBytes } from '../../src/io/image.js';
import type { Annotations } from '../../src/io/types.js';
import { Rng } from '../../src/util/random.js';

const SECONDS = Number(process.env.FEWMARK_FUZZ_SECONDS) || 6;
const CASE_LIMIT_MS = 3000;
/** The stated bound: the readers never take this process beyond 1.5 GB. */
const RSS_LIMIT = 1.5e9;
const SEED = Number(process.env.FEWMARK_FUZZ_SEED) || 20261129;

/** One random mutation: flipped bytes, a cut, an insertion, a repeated slice, or a big number written over a word. */
function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  const b = Buffer.from(input);
  switch (rng.int(0, 5)) {
    case 0: {
      for (let k = rng.int(1, 9); k > 0; k--) b[rng.int(0, b.length)] = rng.int(0, 256);
      return b;
    }
    case 1:
      return b.subarray(0, rng.int(0, b.length));
    case 2: {
      const at = rng.int(0, b.length);
      const extra = Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 256)));
      return Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
    }
    case 3: {
      const from = rng.int(0, b.length);
      const to = Math.min(b.length, from + rng.int(1, 200));
      return Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]);
    }
    default: {
      // Headers: sizes and offsets near the start, overwritten with large values.
      const at = rng.int(0, Math.min(b.length - 4, 64));
      if (at >= 0) b.writeUInt32BE([0xffffffff, 0x7fffffff, 0x10000, 20000][rng.int(0, 4)]!, at);
      return b;
    }
  }
}

/** Runs `one` on mutations of the seeds until the time is up; returns the outcome counts. */
function fuzz<T>(
  seeds: { name: string; bytes: Uint8Array }[],
  one: (bytes: Uint8Array, name: string) => T,
  valid: (result: T) => boolean,
) {
  const rng = new Rng(SEED);
  const counts = { cases: 0, refused: 0, read: 0 };
  const end = performance.now() + SECONDS * 1000;
  let peakRss = 0;
  while (performance.now() < end) {
    const seed = seeds[counts.cases % seeds.length]!;
    const bytes = mutate(seed.bytes, rng);
    const what = `case ${counts.cases} (seed ${SEED}) from ${seed.name}`;
    const t0 = performance.now();
    try {
      const result = one(bytes, seed.name);
      assert.ok(valid(result), `${what}: an invalid result`);
      counts.read++;
    } catch (err) {
      if (!(err instanceof DataError)) assert.fail(`${what}: ${(err as Error)?.stack ?? err}`);
      assert.ok(
        err.message.startsWith(seed.name),
        `${what}: the message does not name the file: ${err.message}`,
      );
      counts.refused++;
    }
    const ms = performance.now() - t0;
    assert.ok(ms < CASE_LIMIT_MS, `${what} took ${ms.toFixed(0)} ms`);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    counts.cases++;
  }
  assert.ok(peakRss < RSS_LIMIT, `peak RSS ${(peakRss / 1e9).toFixed(2)} GB`);
  return counts;
}

describe('fuzzing the readers', () => {
  test('mutated images: a DataError or an image, within time and memory', { timeout: 120_000 }, () => {
    E.seed(3);
    const picture = E.rand([48, 64]).mul(255).to('uint8').keep();
    const seeds = (['.png', '.jpg', '.bmp', '.tif'] as const).map((ext) => ({
      name: `fuzz${ext}`,
      bytes: E.encodeImage(picture, ext),
    }));
    picture.dispose();
    const live = E.memory().liveTensors;
    const counts = fuzz(
      seeds,
      (bytes, name) => decodeImageBytes(bytes, name),
      (img) => {
        const ok =
          img.width > 0 && img.height > 0 && img.pixels.shape.join() === `${img.height},${img.width}`;
        img.pixels.dispose();
        return ok;
      },
    );
    assert.equal(E.memory().liveTensors, live, 'decoding leaked tensors');
    assert.ok(counts.cases > 100, `only ${counts.cases} cases ran`);
    assert.ok(counts.refused > 0 && counts.read > 0, JSON.stringify(counts));
  });

  test('mutated landmark files: a DataError or annotations, within time and memory', {
    timeout: 120_000,
  }, () => {
    const ann: Annotations = {
      names: ['sella', 'nasion', 'L3'],
      images: [
        {
          image: '1',
          points: [
            { x: 10.5, y: 20 },
            { x: Number.NaN, y: Number.NaN },
            { x: 3, y: 4 },
          ],
          width: 100,
          height: 80,
          spacing: { x: 0.1, y: 0.1, source: 'user' },
        },
        {
          image: '2',
          points: [
            { x: 0, y: 0 },
            { x: 99, y: 79 },
            { x: 50, y: 1e-3 },
          ],
          width: 100,
          height: 80,
          spacing: { x: 0.1, y: 0.1, source: 'user' },
        },
      ],
    };
    const formats = FORMATS.filter((f): f is FileFormat => !f.directory);
    const seeds = formats.map((f) => ({
      name: `fuzz${f.extensions[0]}`,
      bytes: Buffer.from(f.format(ann), 'utf8'),
    }));
    const parserOf = new Map(seeds.map((s, i) => [s.name, formats[i]!]));
    const counts = fuzz(
      seeds,
      (bytes, name) => parserOf.get(name)!.parse(Buffer.from(bytes).toString('utf8'), name),
      (a) =>
        a.images.every(
          (img) =>
            img.points.length === a.names.length &&
            img.points.every(
              (p) =>
                (Number.isNaN(p.x) && Number.isNaN(p.y)) || (Number.isFinite(p.x) && Number.isFinite(p.y)),
            ),
        ),
    );
    assert.ok(counts.cases > 100, `only ${counts.cases} cases ran`);
    assert.ok(counts.refused > 0 && counts.read > 0, JSON.stringify(counts));
  });
});
