// Refinement training runs: exact resume, refusals, config checks, and the
// saved model's round trip through the detector.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { FeatureExtractor } from '../../src/features/model.js';
import { isRefinedModel, loadRefined } from '../../src/refine/checkpoint.js';
import { type RefineConfig, resolveRefineConfig } from '../../src/refine/config.js';
import type { RefineData } from '../../src/refine/data.js';
import { predictWorking } from '../../src/refine/infer.js';
import { RefineNet } from '../../src/refine/model.js';
import { trainRefiner } from '../../src/refine/train.js';

const tiny = (over: Record<string, unknown> = {}): RefineConfig =>
  resolveRefineConfig({
    inputSize: 64,
    batchSize: 3,
    steps: 6,
    minutes: null,
    warmupSteps: 2,
    initFromExtractor: false,
    freeze: 'none',
    labeledPerBatch: 1,
    labeledWeight: 1,
    model: { widths: [4, 4, 8, 8, 8], headWidth: 4 },
    ...over,
  });

function data(): RefineData {
  E.seed(5);
  const images = E.rand([5, 1, 64, 64]).keep();
  const samples = Array.from({ length: 5 }, (_, i) => ({
    id: `im${i}`,
    points: [
      { x: 20 + i, y: 30 },
      { x: 40, y: 12 + 2 * i },
    ],
    weights: [1, i === 3 ? 0 : 1],
    labeled: i < 2,
  }));
  return { images, samples };
}

const source = { landmarks: ['A', 'B'], extractor: { path: 'x', sha256: 'y' } };

async function weights(dir: string): Promise<number[]> {
  const { model } = await loadRefined(dir);
  const values = Object.values(model.stateDict()).flatMap((t) => t.toArray());
  model.dispose();
  return values;
}

describe('refinement training', () => {
  test('a stopped and resumed run ends in the same state as an uninterrupted one', async () => {
    const d = data();
    const straight = mkdtempSync(join(tmpdir(), 'fewmark-refine-'));
    const resumed = mkdtempSync(join(tmpdir(), 'fewmark-refine-'));
    const live = E.memory().liveTensors;
    const full = await trainRefiner({ data: d, out: straight, config: tiny(), source });
    assert.equal(full.steps, 6);
    assert.equal(E.memory().liveTensors, live, 'tensors left behind by a training run');
    let calls = 0;
    const first = await trainRefiner({
      data: d,
      out: resumed,
      config: tiny(),
      source,
      shouldStop: () => ++calls === 3,
    });
    assert.equal(first.stoppedBy, 'signal');
    assert.equal(first.steps, 3);
    const second = await trainRefiner({ data: d, out: resumed, config: tiny(), source, resume: true });
    assert.equal(second.steps, 6);
    assert.equal(second.finalLoss, full.finalLoss);
    assert.deepEqual(await weights(resumed), await weights(straight));
    assert.ok(isRefinedModel(resumed));
  });

  test("a frozen encoder keeps the extractor's weights; the decoder and head learn", async () => {
    const d = data();
    E.seed(9);
    const extractor = new FeatureExtractor({
      inChannels: 1,
      widths: [4, 4, 8, 8, 8],
      embedding: 4,
      norm: 'batch',
    });
    const initial = extractor.stateDict();
    const out = mkdtempSync(join(tmpdir(), 'fewmark-refine-'));
    const config = tiny({ steps: 4, initFromExtractor: true, freeze: 'encoder' });
    await trainRefiner({ data: d, out, config, source, init: extractor });
    const { model } = await loadRefined(out);
    const trained = model.stateDict();
    const same = (k: string) => trained[k]!.toArray().every((v, i) => v === initial[k]!.toArray()[i]);
    const encoder = Object.keys(trained).filter((k) => k.startsWith('enc'));
    const decoder = Object.keys(trained).filter((k) => k.startsWith('dec') && k.endsWith('weight'));
    assert.ok(encoder.length > 0 && decoder.length > 0);
    for (const k of encoder) assert.ok(same(k), `${k} changed under a frozen encoder`);
    assert.ok(
      decoder.some((k) => !same(k)),
      'the decoder trains',
    );
    model.dispose();
    extractor.dispose();
    assert.throws(() => tiny({ freeze: 'encoder' }), /freeze needs initFromExtractor/);
  });

  test('resuming refuses an existing checkpoint unless resumed, other settings or other data', async () => {
    const d = data();
    const out = mkdtempSync(join(tmpdir(), 'fewmark-refine-'));
    await trainRefiner({ data: d, out, config: tiny({ steps: 1 }), source });
    await assert.rejects(
      trainRefiner({ data: d, out, config: tiny({ steps: 2 }), source }),
      /already holds a refinement checkpoint: resume it/,
    );
    await assert.rejects(
      trainRefiner({ data: d, out, config: tiny({ steps: 2, lr: 0.01 }), source, resume: true }),
      /trained with lr = 0\.002, this run asks for 0\.01/,
    );
    const other = { ...d, samples: d.samples.map((s, i) => (i === 4 ? { ...s, labeled: true } : s)) };
    await assert.rejects(
      trainRefiner({ data: other, out, config: tiny({ steps: 2 }), source, resume: true }),
      /trained on other images or labels/,
    );
    // More steps on the same data and settings is fine.
    const more = await trainRefiner({ data: d, out, config: tiny({ steps: 2 }), source, resume: true });
    assert.equal(more.steps, 2);
  });

  test('the saved model predicts what the network computes, in working pixels', async () => {
    const d = data();
    const out = mkdtempSync(join(tmpdir(), 'fewmark-refine-'));
    await trainRefiner({ data: d, out, config: tiny({ steps: 2 }), source });
    const { model, meta } = await loadRefined(out);
    assert.deepEqual(meta.landmarks, ['A', 'B']);
    assert.deepEqual(meta.templates, ['im0', 'im1']);
    assert.equal(meta.pseudoLabeled, 3);
    assert.equal(meta.radius, 3.2);
    const input = d.images.narrow(0, 0, 2);
    const live = E.memory().liveTensors;
    const est = predictWorking(model, input, { ...meta.vote, radius: meta.radius });
    assert.equal(E.memory().liveTensors, live, 'tensors left behind by a prediction');
    assert.equal(est.length, 2);
    assert.equal(est[0]!.length, 2);
    for (const e of est.flat()) {
      assert.ok(e.point.x > -20 && e.point.x < 84 && e.confidence > 0 && e.confidence < 1, JSON.stringify(e));
    }
    model.dispose();
  });

  test('the trunk starts from the extractor: same names and shapes', () => {
    E.seed(2);
    const extractor = new FeatureExtractor({
      inChannels: 1,
      widths: [4, 4, 8, 8, 8],
      embedding: 4,
      norm: 'batch',
    });
    const net = new RefineNet({
      inChannels: 1,
      widths: [4, 4, 8, 8, 8],
      norm: 'batch',
      outputStride: 4,
      headWidth: 4,
      landmarks: 2,
    });
    // Encoder 5 levels x 2 convs x (weight + 4 norm tensors) + decoder 3 levels likewise.
    assert.equal(net.initFrom(extractor), (5 + 3) * 2 * 5);
    assert.deepEqual(
      net.stateDict()['dec2.3.weight']!.toArray(),
      extractor.stateDict()['dec2.3.weight']!.toArray(),
    );
    const out = E.tidy(() => net.forward(E.rand([1, 1, 64, 64])));
    assert.deepEqual(out.heatmap.shape, [1, 2, 16, 16]);
    assert.deepEqual(out.offsetY.shape, [1, 2, 16, 16]);
    net.dispose();
    extractor.dispose();
  });

  test('config overrides: unknown keys, wrong types and bad ranges are errors', () => {
    assert.throws(() => resolveRefineConfig({ batchsize: 4 }), /config: unknown key 'batchsize'/);
    assert.throws(() => resolveRefineConfig({ lr: '0.1' }), /config\.lr: expected a number, got "0\.1"/);
    assert.throws(
      () => resolveRefineConfig({ model: { outputStride: 3 } }),
      /outputStride must be 2, 4 or 8/,
    );
    assert.throws(
      () => resolveRefineConfig({ labeledPerBatch: 9 }),
      /labeledPerBatch must be an integer from 0/,
    );
    assert.throws(
      () => resolveRefineConfig({ vote: { estimator: 'median' } }),
      /vote\.estimator must be one of/,
    );
    assert.equal(resolveRefineConfig({ steps: 10, minutes: null }).minutes, null);
  });
});
