// Dataset loaders: ISBI 2015 (real data when ../shared is present), the hand
// X-ray CSV with wrist-width spacing, and a generic folder.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';
import { loadImageFolder } from '../../src/io/datasets/generic.js';
import { loadHandXray, wristWidthSpacing } from '../../src/io/datasets/hand.js';
import { loadIsbi2015, readIsbiAnnotation } from '../../src/io/datasets/isbi2015.js';
import { listImages } from '../../src/io/folder.js';
import { readImage } from '../../src/io/image.js';

const isbi = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/isbi2015');
const noShared = !existsSync(isbi) && 'needs ../shared/data/isbi2015 (absent in a user clone)';

function writePng(path: string, width: number, height: number): void {
  E.tidy(() => writeFileSync(path, E.encodeImage(E.full([height, width], 100, 'uint8'), '.png')));
}

describe('ISBI 2015', () => {
  test('training split with mean ground truth', { skip: noShared }, async () => {
    const ds = await loadIsbi2015(isbi, { split: 'train', groundTruth: 'mean' });
    assert.equal(ds.images.length, 150);
    assert.equal(ds.landmarkNames.length, 19);
    assert.equal(ds.landmarkNames[0], 'sella');
    const first = ds.images[0]!;
    assert.equal(first.id, '001');
    assert.deepEqual([first.width, first.height], [1935, 2400]);
    assert.deepEqual(first.spacing, { x: 0.1, y: 0.1, source: 'dataset-default' });
    const senior = await readIsbiAnnotation(join(isbi, 'AnnotationsByMD/400_senior/001.txt'));
    const junior = await readIsbiAnnotation(join(isbi, 'AnnotationsByMD/400_junior/001.txt'));
    assert.deepEqual(first.landmarks![0], {
      x: (senior[0]!.x + junior[0]!.x) / 2,
      y: (senior[0]!.y + junior[0]!.y) / 2,
    });
  });

  test('test1 split with the senior doctor; real image decodes at full size', {
    skip: noShared,
  }, async () => {
    const ds = await loadIsbi2015(isbi, { split: 'test1', groundTruth: 'senior' });
    assert.equal(ds.images.length, 150);
    assert.equal(ds.images[0]!.id, '151');
    const img = await readImage(ds.images[0]!.file);
    assert.deepEqual(img.pixels.shape, [2400, 1935]);
    img.pixels.dispose();
  });

  test('annotation files: extra lines after the 19th are ignored; short or bad files are named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-isbi-'));
    const lines = Array.from({ length: 19 }, (_, i) => `${i},${i * 2}`);
    writeFileSync(join(dir, 'ok.txt'), `${lines.join('\n')}\n3\n1\n`);
    const points = await readIsbiAnnotation(join(dir, 'ok.txt'));
    assert.equal(points.length, 19);
    assert.deepEqual(points[18], { x: 18, y: 36 });
    writeFileSync(join(dir, 'short.txt'), lines.slice(0, 5).join('\n'));
    await assert.rejects(
      readIsbiAnnotation(join(dir, 'short.txt')),
      /short\.txt:6: expected 19 landmark lines, found 5/,
    );
    writeFileSync(join(dir, 'bad.txt'), ['1,2', 'x,3', ...lines].join('\n'));
    await assert.rejects(
      readIsbiAnnotation(join(dir, 'bad.txt')),
      /bad\.txt:2: expected 'x,y' for landmark 2 \(nasion\), found 'x,3'/,
    );
  });
});

describe('hand X-ray layout', () => {
  test('all.csv rows with wrist-width spacing; orphans are named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-hand-'));
    mkdirSync(join(dir, 'images'));
    writePng(join(dir, 'images', '3001.png'), 40, 30);
    const coords = Array.from({ length: 37 }, (_, k) =>
      k === 1 ? [0, 0] : k === 5 ? [30, 40] : [k, k],
    ).flat();
    writeFileSync(join(dir, 'all.csv'), `3001,${coords.join(',')}\n`);
    const ds = await loadHandXray(join(dir, 'images'), join(dir, 'all.csv'));
    assert.equal(ds.images.length, 1);
    assert.deepEqual([ds.images[0]!.width, ds.images[0]!.height], [40, 30]);
    // wrist landmarks 50 px apart -> 1 mm per pixel
    assert.deepEqual(ds.images[0]!.spacing, { x: 1, y: 1, source: 'wrist-width' });
    writeFileSync(join(dir, 'all.csv'), `3001,${coords.join(',')}\n3002,${coords.join(',')}\n`);
    await assert.rejects(
      loadHandXray(join(dir, 'images'), join(dir, 'all.csv')),
      /all\.csv: image '3002' has landmarks but no file/,
    );
    writeFileSync(join(dir, 'all.csv'), `3001,1,2\n`);
    await assert.rejects(
      loadHandXray(join(dir, 'images'), join(dir, 'all.csv')),
      /all\.csv:1: expected id and 37 x,y pairs, found 3 columns/,
    );
    assert.equal(wristWidthSpacing([{ x: 0, y: 0 }]), undefined);
  });
});

describe('generic folder', () => {
  test('images with a landmarks file; a labelled id without an image is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-folder-'));
    writePng(join(dir, 'a.png'), 20, 10);
    writePng(join(dir, 'b.png'), 20, 10);
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    assert.deepEqual(
      (await listImages(dir)).map((f) => f.split('/').pop()),
      ['a.png', 'b.png'],
    );
    const labels = join(dir, 'labels.csv');
    writeFileSync(labels, 'image,x1,y1\na,1,2\n');
    const ds = await loadImageFolder(dir, { landmarks: labels, spacing: { x: 0.2, y: 0.2, source: 'user' } });
    assert.deepEqual(ds.landmarkNames, ['L1']);
    assert.deepEqual(ds.images[0]!.landmarks, [{ x: 1, y: 2 }]);
    assert.equal(ds.images[1]!.landmarks, undefined);
    assert.deepEqual([ds.images[0]!.width, ds.images[0]!.height], [20, 10]);
    writeFileSync(labels, 'image,x1,y1\na,1,2\nzzz,3,4\n');
    await assert.rejects(
      loadImageFolder(dir, { landmarks: labels }),
      /labels\.csv: image 'zzz' is labelled but has no file/,
    );
    await assert.rejects(listImages(join(dir, 'nope')), /nope: cannot list images: ENOENT/);
  });

  test('an unreadable image is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-folder-'));
    writeFileSync(join(dir, 'broken.png'), 'not a png');
    await assert.rejects(readImage(join(dir, 'broken.png')), /broken\.png: not an image fewmark can read/);
  });
});
