// Weights on disk: byte layout, round trip, atomic write, corrupt files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';

describe('safetensors', () => {
  test('writes the documented layout', () => {
    const [size, header, data] = E.encodeSafetensors({ w: E.tensor([1, 2], [2]) }, { step: '5' });
    const length = Number(new DataView(size!.buffer).getBigUint64(0, true));
    assert.equal(length, header!.length);
    assert.equal(length % 8, 0);
    const json = JSON.parse(new TextDecoder().decode(header));
    assert.deepEqual(json.w, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    assert.deepEqual(json.__metadata__, { step: '5' });
    assert.deepEqual(Array.from(new Float32Array(data!.slice().buffer)), [1, 2]);
  });

  test('round-trips every dtype through a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-st-'));
    const path = join(dir, 'model.safetensors');
    const tensors = {
      f32: E.tensor([1.5, -2], [2, 1]),
      f64: E.tensor([Math.PI], [1], 'float64'),
      i64: E.tensor([-3, 2 ** 40], [2], 'int64'),
      b: E.tensor([1, 0, 1], [3], 'bool'),
      u8: E.tensor([255, 0], [1, 2], 'uint8'),
      empty: E.zeros([0, 3]),
    };
    await E.saveSafetensors(path, tensors, { config: '{"a":1}' });
    assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temporary file left behind');
    const loaded = await E.loadSafetensors(path);
    assert.deepEqual(loaded.metadata, { config: '{"a":1}' });
    for (const [k, t] of Object.entries(tensors)) {
      const back = loaded.tensors[k]!;
      assert.equal(back.dtype, t.dtype, k);
      assert.deepEqual(back.shape, t.shape, k);
      assert.deepEqual(back.toArray(), t.toArray(), k);
    }
  });

  test('a truncated file gives an error naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-st-'));
    const path = join(dir, 'broken.safetensors');
    const chunks = E.encodeSafetensors({ w: E.zeros([16]) });
    const whole = Buffer.concat(chunks);
    writeFileSync(path, whole.subarray(0, whole.length - 10));
    await assert.rejects(E.loadSafetensors(path), (err: Error) => {
      assert.match(err.message, /broken\.safetensors: not a valid safetensors file: tensor w's byte range/);
      return true;
    });
    writeFileSync(path, 'short');
    await assert.rejects(E.loadSafetensors(path), /shorter than its 8-byte header length/);
    assert.ok(readFileSync(path).length > 0);
  });
});
