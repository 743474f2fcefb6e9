// End-to-end training on the engine: a tiny CNN overfits a toy task, and
// memory stays flat over a long loop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { Conv2d, F, Linear, Module, ReLU, Sequential, type Tensor } from '../../src/engine/index.js';

class TinyCnn extends Module {
  readonly features = this.child(
    'features',
    new Sequential(
      new Conv2d({ inChannels: 1, outChannels: 8, kernelSize: 3, padding: 1 }),
      new ReLU(),
      new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 1, stride: 2 }),
      new ReLU(),
    ),
  );
  readonly classifier = this.child('classifier', new Linear(8, 2));
  forward(x: Tensor): Tensor {
    return E.tidy(() => this.classifier.forward(this.features.forward(x).mean([2, 3])));
  }
}

describe('training', () => {
  test('a tiny CNN overfits a toy task (bright blob left or right)', () => {
    E.seed(1);
    // 16 noisy 12x12 images, label = which half holds a bright blob.
    const labels = Array.from({ length: 16 }, (_, i) => i % 2);
    const images = E.tidy(() => {
      const noise = E.randn([16, 1, 12, 12]).mul(0.3);
      const blobs = labels.map((side) => {
        const v = new Float32Array(144);
        for (let y = 4; y < 8; y++) for (let x = 0; x < 4; x++) v[y * 12 + (side ? 8 + x : x)] = 1;
        return E.tensor(v, [1, 1, 12, 12]);
      });
      return noise.add(E.cat(blobs, 0));
    }).keep();
    const target = E.tensor(labels, [16], 'int64').keep();
    const model = new TinyCnn();
    const opt = new E.Adam(model.parameters(), { lr: 0.01 });
    const lossAt = (step: number) =>
      E.tidy(() => {
        const loss = F.crossEntropy(model.forward(images), target);
        if (step >= 0) {
          opt.zeroGrad();
          loss.backward();
          opt.step();
        }
        return loss.item();
      });
    const first = lossAt(-1);
    for (let step = 0; step < 150; step++) lossAt(step);
    const last = lossAt(-1);
    const accuracy = E.tidy(() => model.forward(images).argmax(1).eq(target).to('float32').mean().item());
    assert.ok(last < first * 0.1, `loss fell from ${first} to ${last}, expected below 10%`);
    assert.equal(accuracy, 1, `training accuracy ${accuracy}`);
  });

  test('resident memory and live tensors stay flat over 2,000 training steps', () => {
    E.seed(2);
    const model = new TinyCnn();
    const opt = new E.AdamW(model.parameters(), { lr: 1e-3 });
    const x = E.randn([8, 1, 16, 16]).keep();
    const y = E.randint(0, 2, [8]).keep();
    const step = () =>
      E.tidy(() => {
        const loss = F.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    for (let i = 0; i < 200; i++) step(); // warm up allocator and JIT
    const liveBefore = E.memory().liveTensors;
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 2000; i++) step();
    const rssAfter = process.memoryUsage().rss;
    assert.equal(E.memory().liveTensors, liveBefore, 'live native tensors grew');
    const growth = (rssAfter - rssBefore) / rssBefore;
    assert.ok(growth < 0.1, `RSS grew ${(growth * 100).toFixed(1)}% (${rssBefore} -> ${rssAfter} bytes)`);
  });

  test('module state round-trips through loadStateDict, with shape errors named', () => {
    const a = new TinyCnn();
    const b = new TinyCnn();
    b.loadStateDict(a.stateDict());
    const x = E.randn([2, 1, 8, 8]).keep();
    const same = E.tidy(() => a.forward(x).sub(b.forward(x)).abs().max().item());
    assert.equal(same, 0);
    const wrong = { ...a.stateDict(), 'classifier.weight': E.zeros([3, 8]) };
    assert.throws(
      () => b.loadStateDict(wrong, 'model.safetensors'),
      /model\.safetensors has classifier\.weight of shape \[3, 8\], model needs \[2, 8\]/,
    );
  });
});
