// The feature cache hits for the same model and image bytes and misses
// (and prunes) when either changes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { FeatureCache } from '../../src/features/cache.js';

test('feature cache: hit, miss on changed image, prune on changed model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-cache-'));
  const model = join(dir, 'extractor.safetensors');
  const image = join(dir, 'a.png');
  writeFileSync(model, 'weights v1');
  writeFileSync(image, 'pixels v1');
  const root = join(dir, 'cache');
  const cache = await FeatureCache.open(root, model);
  const key = await cache.keyOf(image, 64);
  assert.equal(await cache.get(key), undefined);
  await cache.put(key, [E.tensor([1, 2], [1, 2]), E.tensor([3], [1, 1])]);
  const hit = await cache.get(key);
  assert.deepEqual(
    hit!.map((t) => t.toArray()),
    [[1, 2], [3]],
  );
  assert.notEqual(await cache.keyOf(image, 128), key, 'working size is part of the key');
  writeFileSync(image, 'pixels v2');
  const changed = await cache.keyOf(image, 64);
  assert.notEqual(changed, key);
  assert.equal(await cache.get(changed), undefined);

  writeFileSync(model, 'weights v2');
  const retrained = await FeatureCache.open(root, model);
  assert.equal(readdirSync(root).length, 1, 'the old model folder is pruned');
  assert.ok(!existsSync(cache.dir));
  assert.equal(await retrained.get(key), undefined);
});

test('a damaged cache entry is dropped and recomputed, not an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-cache-'));
  const model = join(dir, 'm');
  writeFileSync(model, 'x');
  const cache = await FeatureCache.open(join(dir, 'c'), model);
  writeFileSync(join(cache.dir, 'bad.safetensors'), 'garbage');
  assert.equal(await cache.get('bad'), undefined);
  assert.ok(!existsSync(join(cache.dir, 'bad.safetensors')));
});

test('feature cache: a disk without room for a pyramid stops the writes, once told, and nothing fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-cache-'));
  const model = join(dir, 'extractor.safetensors');
  writeFileSync(model, 'weights');
  const told: string[] = [];
  const cache = await FeatureCache.open(join(dir, 'cache'), model, {
    reserveBytes: Number.MAX_SAFE_INTEGER,
    onFull: (m) => told.push(m),
  });
  const layers = [E.tensor([1, 2], [1, 2])];
  await cache.put('aaaa', layers);
  await cache.put('bbbb', layers);
  assert.equal(cache.full, true);
  assert.equal(told.length, 1, 'told once');
  assert.match(told[0]!, /no longer cached/);
  assert.equal(await cache.get('aaaa'), undefined);
  assert.deepEqual(readdirSync(cache.dir), [], 'nothing written, no temporary file left');
  // Vectors (2 KB each) are still written: they are what large pools are chosen from.
  await cache.putVector('aaaa', 'embedding-v1', new Float32Array([1, 2]));
  assert.deepEqual(Array.from((await cache.getVector('aaaa', 'embedding-v1'))!), [1, 2]);
});
