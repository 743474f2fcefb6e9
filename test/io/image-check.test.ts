// Broken images are refused, not used: truncated files of every codec, a
// header declaring more pixels than the limit, files that are not images;
// each with the file named, in words, and nothing on stderr from the codecs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import * as E from '../../src/engine/index.js';
import { DataError } from '../../src/io/errors.js';
import { readImageSize } from '../../src/io/folder.js';
import { decodeImageBytes, readImage } from '../../src/io/image.js';
import { checkImageBytes, DEFAULT_MAX_PIXELS, maxPixels } from '../../src/io/image-check.js';

const dir = mkdtempSync(join(tmpdir(), 'fewmark-images-'));

/** A small noisy grey image encoded by OpenCV in each format. */
function encoded(ext: '.png' | '.jpg' | '.bmp' | '.tif'): Buffer {
  E.seed(1);
  return E.tidy(() => E.encodeImage(E.rand([60, 40]).mul(255).to('uint8'), ext));
}

/** A PNG whose header declares width x height, with a tiny (valid) data stream. */
export function declaredPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // 8-bit grey
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('broken images', () => {
  for (const ext of ['.png', '.jpg', '.bmp', '.tif'] as const) {
    test(`a truncated ${ext} is refused by readImage and readImageSize, whole ones pass`, async () => {
      const whole = encoded(ext);
      const good = join(dir, `good${ext}`);
      writeFileSync(good, whole);
      assert.equal((await readImage(good)).width, 40);
      assert.deepEqual(await readImageSize(good), { width: 40, height: 60 });
      for (const keep of [0.95, 0.6, 0.3]) {
        const file = join(dir, `cut-${keep}${ext}`);
        writeFileSync(file, whole.subarray(0, Math.floor(whole.length * keep)));
        const named = new RegExp(`cut-${keep}\\${ext}: (.*truncated|.*unreadable)`);
        await assert.rejects(
          readImage(file),
          (err: Error) => err instanceof DataError && named.test(err.message),
        );
        await assert.rejects(readImageSize(file), DataError);
      }
    });
  }

  test('a PNG whose checksum fails is refused, naming the chunk', () => {
    const bytes = Buffer.from(encoded('.png'));
    bytes[60] = (bytes[60]! + 1) % 256; // inside the first IDAT
    assert.throws(() => checkImageBytes(bytes, 'x.png'), /x\.png: PNG file is corrupt \(the IDAT chunk/);
  });

  test('a header over the pixel limit is refused before decoding; FEWMARK_MAX_PIXELS sets the limit', async () => {
    const file = join(dir, 'huge.png');
    writeFileSync(file, declaredPng(20000, 20000));
    const before = process.memoryUsage().rss;
    await assert.rejects(
      readImage(file),
      /huge\.png: the image declares 20000 x 20000 pixels \(400 MP\), over the limit of 100 MP/,
    );
    assert.ok(process.memoryUsage().rss - before < 200e6, 'decoding started');
    assert.equal(maxPixels({}), DEFAULT_MAX_PIXELS);
    assert.equal(maxPixels({ FEWMARK_MAX_PIXELS: '500000000' }), 5e8);
    assert.throws(() => maxPixels({ FEWMARK_MAX_PIXELS: 'lots' }), /FEWMARK_MAX_PIXELS must be/);
    assert.throws(() => checkImageBytes(encoded('.png'), 'small.png', 1000), /over the limit of 0 MP/);
  });

  test('a whole JPEG with damaged image data is refused, not decoded with grey patches', () => {
    const jpg = Buffer.from(encoded('.jpg'));
    const scan = jpg.lastIndexOf(Buffer.from([0xff, 0xda]));
    const at = scan + Math.floor((jpg.length - scan) / 2);
    jpg[at] = jpg[at] === 0xff ? 0 : 0xff; // a stray marker inside the compressed data
    assert.throws(
      () => decodeImageBytes(jpg, 'damaged.jpg'),
      /damaged\.jpg: JPEG file is corrupt: its image data has errors \(Corrupt JPEG data/,
    );
  });

  test('not an image, an empty file: said in words', async () => {
    writeFileSync(join(dir, 'text.png'), 'hello, not a png');
    writeFileSync(join(dir, 'empty.jpg'), '');
    await assert.rejects(
      readImage(join(dir, 'text.png')),
      /text\.png: not an image fewmark can read \(expected BMP/,
    );
    await assert.rejects(readImage(join(dir, 'empty.jpg')), /empty\.jpg: the file is empty/);
  });

  test('the codecs print nothing on stderr for broken files', () => {
    const broken = encoded('.png').subarray(0, 500);
    const bmp = encoded('.bmp').subarray(0, 900);
    const oddBmp = Buffer.from(encoded('.bmp'));
    oddBmp.writeUInt32LE(99, 30); // a compression OpenCV does not know: it fails inside the decoder
    writeFileSync(join(dir, 'quiet.png'), broken);
    writeFileSync(join(dir, 'quiet.bmp'), bmp);
    writeFileSync(join(dir, 'odd.bmp'), oddBmp);
    const damaged = Buffer.from(encoded('.jpg'));
    damaged[damaged.length - 40] = 0xff;
    writeFileSync(join(dir, 'damaged.jpg'), damaged);
    const imageModule = new URL('../../src/io/image.js', import.meta.url).href;
    const script = `const { readImage } = await import(${JSON.stringify(imageModule)});
      for (const f of process.argv.slice(1)) await readImage(f).then(() => console.log('read'), (e) => console.log(e.message));`;
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        script,
        join(dir, 'quiet.png'),
        join(dir, 'quiet.bmp'),
        join(dir, 'odd.bmp'),
        join(dir, 'damaged.jpg'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /quiet\.png: PNG file is truncated/);
    assert.match(r.stdout, /quiet\.bmp: BMP file is truncated/);
    assert.match(r.stdout, /odd\.bmp: cannot decode the image: not a readable image/);
    assert.match(r.stdout, /damaged\.jpg: JPEG file is corrupt/);
  });

  test('fewmark init refuses a pool with a truncated JPEG, naming it', () => {
    const pool = mkdtempSync(join(tmpdir(), 'fewmark-pool-'));
    writeFileSync(join(pool, 'a.jpg'), encoded('.jpg'));
    const jpg = encoded('.jpg');
    writeFileSync(join(pool, 'b.jpg'), jpg.subarray(0, jpg.length - 200));
    const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
    const project = join(mkdtempSync(join(tmpdir(), 'fewmark-proj-')), 'p');
    const r = spawnSync(
      process.execPath,
      [main, 'init', '--images', pool, '--project', project, '--landmarks', '3'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /b\.jpg: JPEG file is truncated/);
  });
});
