// Label files are checked and forgiving where it is safe: 1e309 and rows
// with no points are refused with file and line; template points off the
// image are refused before detection; image names written with their
// extension ('120.jpg') meet image '120'.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as E from '../../src/engine/index.js';
import { listImages } from '../../src/io/folder.js';
import { parseLongCsv } from '../../src/io/formats/long-csv.js';
import { parseWideCsv } from '../../src/io/formats/wide-csv.js';
import { comparableIds, findImage } from '../../src/io/image-ids.js';
import { pairTemplates } from '../../src/matching/templates.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

function pool(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-labels-'));
  for (const id of ['120', '121'])
    writeFileSync(
      join(dir, `${id}.png`),
      E.tidy(() => E.encodeImage(E.zeros([50, 80], 'uint8'), '.png')),
    );
  return dir;
}

describe('label files', () => {
  test('1e309 is refused with file and line, in both CSV forms', () => {
    assert.throws(
      () => parseWideCsv('image,x1,y1\na,1,2\nb,1e309,3\n', 'l.csv'),
      /l\.csv:3: landmark L1: '1e309' is not a number fewmark can use \(it is too large\)$/,
    );
    assert.throws(
      () => parseLongCsv('image,landmark,x,y\na,p,1,-1e400\n', 'l.long.csv'),
      /l\.long\.csv:2: .*'-1e400' is not a number fewmark can use/,
    );
  });

  test('evaluate refuses 1e309 (it printed MRE Infinity)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-labels-'));
    writeFileSync(join(dir, 'gt.csv'), 'image,x1,y1\na,0,0\n');
    writeFileSync(join(dir, 'pred.csv'), 'image,x1,y1\na,1e309,0\n');
    const r = spawnSync(
      process.execPath,
      [main, 'evaluate', '--pred', join(dir, 'pred.csv'), '--gt', join(dir, 'gt.csv'), '--spacing', '0.1'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /pred\.csv:2: .*1e309/);
    assert.doesNotMatch(r.stdout, /Infinity/);
  });

  test('a row with no points is refused with its line', () => {
    assert.throws(
      () => parseWideCsv('image,x1,y1,x2,y2\na,1,2,3,4\nb,,,,\n', 'w.csv'),
      /w\.csv:3: image 'b' has no points/,
    );
    assert.throws(
      () => parseLongCsv('image,landmark,x,y\na,p,1,1\nb,p,,\nb,q,,\n', 'l.long.csv'),
      /l\.long\.csv:3: image 'b' has no points/,
    );
  });

  test('template points off the image are refused with file and line', async () => {
    const dir = pool();
    const files = await listImages(dir);
    const labels = parseWideCsv('image,x1,y1\n120,10,10\n121,79.4,60\n', 't.csv');
    await assert.rejects(
      pairTemplates(labels, 't.csv', files, dir),
      /^DataError: t\.csv:3: template image '121' landmark 'L1' at \(79\.4, 60\) is off the image \(80 x 50 pixels\)$/,
    );
    const edge = parseWideCsv('image,x1,y1\n121,79.4,49.5\n', 't.csv');
    assert.equal((await pairTemplates(edge, 't.csv', files, dir)).length, 1);
  });

  test("image names with their extension meet the image ('120.jpg' for image 120)", async () => {
    const dir = pool();
    const files = await listImages(dir);
    const labels = parseWideCsv('image,x1,y1\n120.jpg,10,10\nimages/121.PNG,5,5\n', 't.csv');
    const templates = await pairTemplates(labels, 't.csv', files, dir);
    assert.deepEqual(
      templates.map((t) => t.id),
      ['120', '121'],
    );
    const byId = new Map([
      ['120', 'a'],
      ['case.v2', 'b'],
    ]);
    assert.equal(findImage('120.jpg', byId), 'a');
    assert.equal(findImage('case.v2', byId), 'b');
    assert.equal(findImage('121.jpg', byId), undefined);
    // Names that would collide without extensions keep them.
    assert.equal(comparableIds(['a.png', 'a.jpg'])('a.png'), 'a.png');
    assert.equal(comparableIds(['a.png', 'b.jpg'])('a.png'), 'a');
  });

  test('evaluate matches 120.jpg in the ground truth with 120 in the predictions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-labels-'));
    writeFileSync(join(dir, 'gt.csv'), 'image,x1,y1\n120.jpg,0,0\n121.jpg,0,0\n');
    writeFileSync(join(dir, 'pred.csv'), 'image,x1,y1\n120,3,4\n121,0,10\n');
    const r = spawnSync(
      process.execPath,
      [main, 'evaluate', '--pred', join(dir, 'pred.csv'), '--gt', join(dir, 'gt.csv'), '--spacing', '1'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /MRE 7\.500/);
  });
});
