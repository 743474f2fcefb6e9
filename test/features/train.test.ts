// Training runs: exact resume, time budget, checkpoint refusal, config checks.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { EXTRACTOR_FILE, loadExtractor, saveExtractor } from '../../src/features/checkpoint.js';
import { defaultExtractorConfig, type ExtractorConfig, FeatureExtractor } from '../../src/features/model.js';
import { trainExtractor } from '../../src/features/train.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/features/train-config.js';

const tiny = (over: Partial<TrainConfig> = {}): TrainConfig =>
  resolveTrainConfig({
    inputSize: 64,
    batchSize: 2,
    steps: 6,
    minutes: null,
    warmupSteps: 2,
    model: { inChannels: 1, widths: [4, 4, 8, 8, 8], embedding: 4, norm: 'batch' },
    pairs: { queriesPerImage: 4 },
    loss: { window: 3 },
    ...over,
  });

function images(): E.Tensor {
  E.seed(5);
  return E.rand([4, 1, 64, 64]).keep();
}

async function weights(dir: string): Promise<number[]> {
  const { model } = await loadExtractor(join(dir, EXTRACTOR_FILE));
  const values = model.parameters().flatMap((p) => p.toArray());
  model.dispose();
  return values;
}

describe('feature extractor training', () => {
  test('a stopped and resumed run ends in the same state as an uninterrupted one', async () => {
    const data = images();
    const straight = mkdtempSync(join(tmpdir(), 'fewmark-train-'));
    const resumed = mkdtempSync(join(tmpdir(), 'fewmark-train-'));
    const full = await trainExtractor({ images: data, out: straight, config: tiny() });
    assert.equal(full.steps, 6);
    let calls = 0;
    const first = await trainExtractor({
      images: data,
      out: resumed,
      config: tiny(),
      shouldStop: () => ++calls === 3,
    });
    assert.equal(first.stoppedBy, 'signal');
    assert.equal(first.steps, 3);
    const second = await trainExtractor({ images: data, out: resumed, config: tiny(), resume: true });
    assert.equal(second.steps, 6);
    assert.equal(second.finalLoss, full.finalLoss);
    const a = await weights(straight);
    const b = await weights(resumed);
    assert.deepEqual(b, a);
  });

  test('an existing checkpoint is not overwritten unless resumed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-train-'));
    await trainExtractor({ images: images(), out, config: tiny({ steps: 1 }) });
    await assert.rejects(
      trainExtractor({ images: images(), out, config: tiny({ steps: 1 }) }),
      /already holds a training checkpoint: resume it, or train into another folder/,
    );
  });

  test('a time budget stops the run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-train-'));
    const r = await trainExtractor({ images: images(), out, config: tiny({ steps: null, minutes: 0.03 }) });
    assert.equal(r.stoppedBy, 'time');
    assert.ok(r.elapsed >= 1.8 && r.elapsed < 10, `elapsed ${r.elapsed}`);
  });

  test('config overrides: unknown keys and wrong types are errors', () => {
    assert.throws(() => resolveTrainConfig({ batchsize: 4 }), /config: unknown key 'batchsize'/);
    assert.throws(() => resolveTrainConfig({ lr: '0.1' }), /config\.lr: expected a number, got "0\.1"/);
    assert.throws(
      () => resolveTrainConfig({ model: { widths: [1, 2] } }),
      /config\.model\.widths: expected 5 numbers/,
    );
    assert.throws(() => resolveTrainConfig({ inputSize: 100 }), /inputSize must be a multiple of 64/);
    assert.equal(resolveTrainConfig({ pairs: { queriesPerImage: 8 } }).pairs.queriesPerImage, 8);
  });
});

test('weights saved with the removed full-resolution stem are refused by name, not run at the wrong stride', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'fewmark-stem-')), EXTRACTOR_FILE);
  const config = {
    ...defaultExtractorConfig,
    widths: [4, 4, 4, 4, 4] as ExtractorConfig['widths'],
    embedding: 4,
  };
  await saveExtractor(file, new FeatureExtractor(config), {
    config: { ...config, stem: 'full' } as ExtractorConfig,
    inputSize: 64,
    steps: 0,
  });
  await assert.rejects(
    loadExtractor(file),
    /full-resolution stem, which this version of fewmark no longer builds/,
  );
});
