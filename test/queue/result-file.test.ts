// Result files and queue URLs, without Redis: a result is read back only
// with its content key, exactly (NaN included), and a bad URL is named.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseQueueUrl } from '../../src/queue/url.js';
import {
  hasResult,
  readFloat32Result,
  readResult,
  writeFloat32Result,
  writeResult,
} from '../../src/util/result-file.js';

test('a JSON result is read back only with its key, NaN included', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fewmark-result-')), 'a.json');
  assert.equal(await readResult(path, 'k'), undefined);
  const result = { points: [{ x: 1.25, y: Number.NaN }], confidence: [0.1 + 0.2] };
  await writeResult(path, 'k', result);
  assert.deepEqual(await readResult(path, 'k'), result);
  assert.deepEqual(await readResult(path), result);
  assert.equal(await hasResult(path, 'other'), false);
  writeFileSync(path, '{"key": "k", "res');
  assert.equal(await readResult(path, 'k'), undefined, 'a damaged file is made again');
});

test('a Float32Array result round-trips exactly and checks its key and length', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'fewmark-result-')), 'row.bin');
  const row = Float32Array.from([0.1, -2.5, Math.PI, 1e-30, Number.NaN]);
  await writeFloat32Result(path, 'k1', row.subarray(1)); // a view with an offset
  assert.deepEqual(await readFloat32Result(path, 'k1'), row.subarray(1).slice());
  assert.equal(await readFloat32Result(path, 'k2'), undefined);
  writeFileSync(path, '{"key":"k1","length":4}\n123');
  assert.equal(await readFloat32Result(path, 'k1'), undefined, 'a short file is made again');
});

test('queue URLs: redis://HOST[:PORT] only, the problem named', () => {
  assert.deepEqual(parseQueueUrl('redis://queue-host'), {
    url: 'redis://queue-host',
    host: 'queue-host',
    port: 6379,
  });
  assert.deepEqual(parseQueueUrl('redis://[::1]:7000/'), {
    url: 'redis://[::1]:7000/',
    host: '::1',
    port: 7000,
  });
  assert.throws(() => parseQueueUrl('queue-host:6379'), /--queue queue-host:6379: the scheme is queue-host/);
  assert.throws(() => parseQueueUrl('nonsense'), /--queue nonsense: not a URL; expected redis:\/\/HOST/);
  assert.throws(() => parseQueueUrl('redis://h/3'), /only a host and a port are understood/);
  assert.throws(() => parseQueueUrl('rediss://h'), /the scheme is rediss/);
});
