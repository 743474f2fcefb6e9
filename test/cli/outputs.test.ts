// Outputs never overwrite inputs, and are checked before any work: an
// output that is an input, an existing folder given as a file, an unknown
// output format, an output inside the image folder unless asked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkOutput } from '../../src/io/output-check.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

function fewmark(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `fewmark detect` in a workspace: no trained model there, so only the checks before any work can pass. */
const detect = (w: ReturnType<typeof workspace>, out: string, ...extra: string[]) =>
  fewmark(
    'detect',
    '--model',
    join(w.dir, 'model'),
    '--templates',
    w.labels,
    '--images',
    w.images,
    '--out',
    out,
    ...extra,
  );

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-outputs-'));
  const images = join(dir, 'images');
  mkdirSync(images);
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, 'image,x1,y1\na,1,2\n');
  return { dir, images, labels };
}

describe('outputs and inputs', () => {
  test('detect --out onto its --templates is refused and the annotations survive', () => {
    const w = workspace();
    const r = detect(w, w.labels);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /the output .*labels\.csv is the input .*labels\.csv: it would be overwritten/);
    assert.equal(readFileSync(w.labels, 'utf8'), 'image,x1,y1\na,1,2\n');
  });

  test('the same file by another path (a symbolic link, ./) is still the input', () => {
    const w = workspace();
    assert.throws(
      () =>
        checkOutput({ path: join(w.dir, '.', 'x', '..', 'labels.csv'), kind: 'file', inputs: [w.labels] }),
      /would be overwritten/,
    );
  });

  test('an existing folder given as an output file, and the reverse', () => {
    const w = workspace();
    // A folder is an output only for a folder format (ISBI txt); a CSV must be a file.
    const r = detect(w, w.dir, '--format', 'wide-csv');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /is an existing folder; the output is a file/);
    const e = fewmark(
      'evaluate',
      '--pred',
      w.labels,
      '--gt',
      w.labels,
      '--spacing',
      '0.1',
      '--out',
      w.labels,
    );
    assert.equal(e.code, 2, e.err);
    assert.match(e.err, /is an existing file; the output is a folder/);
  });

  test('an unknown output format is refused before any work', () => {
    const w = workspace();
    const r = detect(w, join(w.dir, 'x.foo'));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /x\.foo: cannot tell the landmark format from the file name/);
  });

  test('an output inside the image folder needs --allow-inside-images', () => {
    const w = workspace();
    const inside = join(w.images, 'pred.csv');
    const r = detect(w, inside);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /inside the image folder/);
    // Allowed, it goes on to the next check (here: no trained model), exit 1.
    const allowed = detect(w, inside, '--allow-inside-images');
    assert.equal(allowed.code, 1, allowed.err);
    assert.match(allowed.err, /no trained extractor/);
    const train = fewmark('train', '--images', w.images, '--out', w.images, '--steps', '1');
    assert.equal(train.code, 2, train.err);
    assert.match(train.err, /the output .*images is the input folder .*images/);
  });
});
