// A long detect that is stopped goes on where it was: each image's
// detection is kept as it is found (api/detection-parts.ts), read back by
// a rerun with the same inputs, found again when an input changed, and the
// parts are gone once the output is written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectImages } from '../../src/api/detect.js';
import { makePhantoms, train } from '../../src/api/index.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
let dir = '';
let images = '';
let templates = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fewmark-resume-'));
  await makePhantoms({ out: join(dir, 'phantoms'), n: 8, seed: 9, size: 128 });
  images = join(dir, 'phantoms', 'images');
  await train({
    images,
    out: join(dir, 'model'),
    steps: 2,
    config: { inputSize: 64, batchSize: 2, model: { widths: [8, 8, 16, 16, 16], embedding: 8 } },
  });
  const rows = readFileSync(join(dir, 'phantoms', 'landmarks.csv'), 'utf8').split('\n');
  templates = join(dir, 'templates.csv');
  writeFileSync(templates, `${rows.slice(0, 3).join('\n')}\n`); // two templates
});

test('a stopped detect is resumed from its parts; a changed input is detected again', async () => {
  const base = { model: join(dir, 'model'), templates, images, cache: false };
  const clean = await detectImages(base);
  const parts = join(dir, 'parts');
  const stop = new AbortController();
  await assert.rejects(
    detectImages({
      ...base,
      parts,
      signal: stop.signal,
      onProgress: ({ done }) => {
        if (done === 3) stop.abort();
      },
    }),
  );
  assert.equal(readdirSync(parts).filter((f) => f.endsWith('.json')).length, 3, 'three images kept');
  const resumed = await detectImages({ ...base, parts });
  assert.equal(resumed.resumed, 3);
  assert.deepEqual(resumed.detections, clean.detections, 'the same detections as one uninterrupted run');
  assert.equal(existsSync(parts), false, 'parts removed once all are found');

  // Stopped again, then rerun with another fusion: nothing read back.
  const again = new AbortController();
  await assert.rejects(
    detectImages({
      ...base,
      parts,
      signal: again.signal,
      onProgress: ({ done }) => done === 2 && again.abort(),
    }),
  );
  const changed = await detectImages({ ...base, parts, fusion: 'max-peak' });
  assert.equal(changed.resumed, 0, 'parts of other inputs are not read');
});

test('fewmark detect reads back what a stopped run kept, says so, and leaves no parts behind', async () => {
  const cli = (out: string) =>
    spawnSync(
      process.execPath,
      [
        main,
        'detect',
        '--model',
        join(dir, 'model'),
        '--templates',
        templates,
        '--images',
        images,
        '--out',
        out,
        '--no-cache',
      ],
      { encoding: 'utf8' },
    );
  const out = join(dir, 'pred.csv');
  const first = cli(out);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(existsSync(`${out}.parts`), false);
  assert.doesNotMatch(first.stderr, /read back/);
  // A run stopped after 4 images, as the CLI would have left it.
  const second = join(dir, 'again.csv');
  const stop = new AbortController();
  await assert.rejects(
    detectImages({
      model: join(dir, 'model'),
      templates,
      images,
      cache: false,
      parts: `${second}.parts`,
      keepParts: true,
      signal: stop.signal,
      onProgress: ({ done }) => done === 4 && stop.abort(),
    }),
  );
  const resumed = cli(second);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /4 of 6 images read back/);
  assert.equal(readFileSync(second, 'utf8'), readFileSync(out, 'utf8'));
  assert.equal(existsSync(`${second}.parts`), false);
});
