// The command line as a user meets it: exit codes and messages that name
// the file and the problem, and no partial output on bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

function fewmark(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fewmark CLI', () => {
  test('doctor checks the engine', () => {
    const r = fewmark('doctor');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /matmul: ok; image codec: ok; SIFT: ok/);
  });

  test('evaluate: a missing file is named, exit 1, nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-cli-'));
    writeFileSync(join(dir, 'gt.csv'), 'image,x1,y1\na,1,1\n');
    const r = fewmark(
      'evaluate',
      '--pred',
      join(dir, 'nope.csv'),
      '--gt',
      join(dir, 'gt.csv'),
      '--out',
      join(dir, 'ev'),
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /^fewmark: .*nope\.csv: cannot read: ENOENT/);
    assert.ok(!existsSync(join(dir, 'ev')));
  });

  test('evaluate: a non-numeric value is named with its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-cli-'));
    writeFileSync(join(dir, 'gt.csv'), 'image,x1,y1\na,1,1\n');
    writeFileSync(join(dir, 'pred.csv'), 'image,x1,y1\na,1,oops\n');
    const r = fewmark(
      'evaluate',
      '--pred',
      join(dir, 'pred.csv'),
      '--gt',
      join(dir, 'gt.csv'),
      '--spacing',
      '0.1',
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /pred\.csv:2: .*'oops' is not a number/);
  });

  test('evaluate prints the table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-cli-'));
    writeFileSync(join(dir, 'gt.csv'), 'image,x1,y1\na,0,0\nb,0,0\n');
    writeFileSync(join(dir, 'pred.csv'), 'image,x1,y1\na,30,40\nb,0,10\n');
    const r = fewmark(
      'evaluate',
      '--pred',
      join(dir, 'pred.csv'),
      '--gt',
      join(dir, 'gt.csv'),
      '--spacing',
      '0.1',
      '--out',
      join(dir, 'ev'),
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /MRE 3\.000/);
    assert.deepEqual(readdirSync(join(dir, 'ev')).sort(), [
      'evaluation.json',
      'evaluation.txt',
      'per-image.csv',
      'per-landmark.csv',
    ]);
  });

  test('train: a missing image folder is named; bad flags are usage errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-cli-'));
    const r = fewmark('train', '--images', join(dir, 'none'), '--out', join(dir, 'model'), '--steps', '1');
    assert.equal(r.code, 1);
    assert.match(r.err, /none: cannot list images: ENOENT/);
    const bad = fewmark('train', '--images', dir, '--out', join(dir, 'model'), '--steps', 'many');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /expected a whole number of at least 1 for --steps/);
  });

  test('detect: a model folder without weights is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-cli-'));
    const out = mkdtempSync(join(tmpdir(), 'fewmark-cli-out-'));
    writeFileSync(join(dir, 't.csv'), 'image,x1,y1\na,1,1\n');
    const r = fewmark(
      'detect',
      '--model',
      dir,
      '--templates',
      join(dir, 't.csv'),
      '--images',
      dir,
      '--out',
      join(out, 'p.csv'),
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /no trained extractor \(extractor\.safetensors\); run fewmark train first/);
    assert.ok(!existsSync(join(out, 'p.csv')));
  });
});
