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
