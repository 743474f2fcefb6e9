// OpenCV through the addon: codecs, 16-bit data, resizing, key points.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '../../src/engine/index.js';
import * as E from '../../src/engine/index.js';

/** A grey test card: smooth gradient plus a few bright discs (corner-rich for detectors). */
function testCard(width: number, height: number): Tensor {
  const v = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let value = 40 + (100 * x) / width;
      for (const [cx, cy, r] of [
        [0.3, 0.3, 0.08],
        [0.7, 0.4, 0.05],
        [0.5, 0.75, 0.1],
      ] as const)
        if ((x - cx * width) ** 2 + (y - cy * height) ** 2 < (r * width) ** 2) value = 230;
      if (x % 40 < 20 && y > height * 0.85) value = 10;
      v[y * width + x] = value;
    }
  return E.tensor(v, [height, width]).to('uint8');
}

describe('images through OpenCV', () => {
  test('PNG, BMP and TIFF round-trip 8-bit pixels exactly; JPEG approximately', () => {
    E.tidy(() => {
      const card = testCard(64, 48);
      for (const ext of ['.png', '.bmp', '.tif'] as const) {
        const back = E.decodeImage(E.encodeImage(card, ext));
        assert.deepEqual(back.pixels.shape, [48, 64], ext);
        assert.equal(back.pixels.dtype, 'uint8', ext);
        assert.equal(back.bitDepth, 8, ext);
        assert.equal(back.pixels.to('float32').sub(card.to('float32')).abs().max().item(), 0, ext);
      }
      const jpeg = E.decodeImage(E.encodeImage(card, '.jpg'));
      const meanError = jpeg.pixels.to('float32').sub(card.to('float32')).abs().mean().item();
      assert.ok(meanError < 3, `JPEG mean abs error ${meanError}`);
    });
  });

  test('16-bit PNG keeps its full range as float32', () => {
    E.tidy(() => {
      const wide = E.tensor([0, 1000, 40000, 65535], [2, 2]);
      const back = E.decodeImage(E.encodeImage(wide, '.png'));
      assert.equal(back.bitDepth, 16);
      assert.equal(back.pixels.dtype, 'float32');
      assert.deepEqual(back.pixels.toArray(), [0, 1000, 40000, 65535]);
    });
  });

  test('corrupt or truncated bytes raise a clear error', () => {
    const png = E.tidy(() => E.encodeImage(testCard(32, 32), '.png'));
    assert.throws(
      () => E.decodeImage(png.subarray(0, 20)),
      /^NativeError: decodeImage: not a readable image/,
    );
    assert.throws(() => E.decodeImage(new Uint8Array([1, 2, 3])), /not a readable image/);
  });

  test('resize to a given size (area and linear)', () => {
    E.tidy(() => {
      const card = testCard(64, 48);
      const small = E.resizeImage(card, 32, 24, 'area');
      assert.deepEqual(small.shape, [24, 32]);
      const flat = E.resizeImage(E.full([4, 4], 8), 2, 2, 'linear');
      assert.deepEqual(flat.toArray(), [8, 8, 8, 8]);
      assert.throws(() => E.resizeImage(card, 0, 10), /resizeImage: size must be positive integers/);
    });
  });

  test('SIFT, ORB and AKAZE find key points with (x, y, size, angle, response)', () => {
    E.tidy(() => {
      const card = testCard(256, 256);
      for (const method of ['sift', 'orb', 'akaze'] as const) {
        const kp = E.detectKeypoints(card, { method });
        assert.equal(kp.shape[1], 5, method);
        assert.ok(kp.shape[0]! > 3, `${method} found ${kp.shape[0]} points`);
        const xs = kp.select(1, 0);
        assert.ok(xs.min().item() >= 0 && xs.max().item() < 256, method);
      }
      const strict = E.detectKeypoints(card, { method: 'sift', contrastThreshold: 0.2 }).shape[0]!;
      const loose = E.detectKeypoints(card, { method: 'sift', contrastThreshold: 0.01 }).shape[0]!;
      assert.ok(loose > strict, `contrast threshold has effect: ${loose} vs ${strict}`);
      assert.throws(() => E.detectKeypoints(card.to('float32'), { method: 'sift' }), /must be uint8/);
    });
  });

  const isbi = join(
    dirname(fileURLToPath(import.meta.url)),
    '../../../../shared/data/isbi2015/RawImage/TrainingData/001.jpg',
  );
  test('a real ISBI 2015 cephalogram decodes at 1935 x 2400 and has SIFT points', {
    skip: !existsSync(isbi) && 'needs ../shared/data/isbi2015 (absent in a user clone)',
  }, () => {
    E.tidy(() => {
      const img = E.decodeImage(readFileSync(isbi));
      assert.deepEqual(img.pixels.shape, [2400, 1935]);
      assert.equal(img.channels, 3);
      const small = E.resizeImage(img.pixels, 387, 480);
      const kp = E.detectKeypoints(small, { method: 'sift', contrastThreshold: 0.04, edgeThreshold: 10 });
      assert.ok(kp.shape[0]! > 50, `${kp.shape[0]} SIFT points`);
    });
  });
});
