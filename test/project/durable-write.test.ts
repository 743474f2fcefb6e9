// Durable writes leave either the old or the new file, never a temporary
// one, and previous versions are kept up to a bound.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { keepPrevious, writeFileDurable } from '../../src/project/durable-write.js';

describe('durable writes', () => {
  test('write, replace, no temporary files left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-durable-'));
    const file = join(dir, 'sub', 'a.json');
    await writeFileDurable(file, 'one');
    await writeFileDurable(file, 'two');
    assert.equal(readFileSync(file, 'utf8'), 'two');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.json']);
  });

  test('a failed write leaves the old file and no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-durable-'));
    const file = join(dir, 'a.json');
    writeFileSync(file, 'old');
    // Renaming a file over a folder fails.
    await assert.rejects(writeFileDurable(dir, 'new'));
    assert.equal(readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['a.json']);
  });

  test('keepPrevious keeps the last versions only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-durable-'));
    const file = join(dir, 'a.json');
    const history = join(dir, 'history');
    await keepPrevious(file, history, 0, 3); // nothing to keep yet
    for (let v = 1; v <= 5; v++) {
      await writeFileDurable(file, `v${v}`);
      await keepPrevious(file, history, v, 3);
    }
    assert.deepEqual(readdirSync(history).sort(), ['3.json', '4.json', '5.json']);
    assert.equal(readFileSync(join(history, '4.json'), 'utf8'), 'v4');
  });
});
