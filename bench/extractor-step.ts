// The engine benchmarks' training step: the extractor's forward pass, the
// sum of its outputs' mean squares as the loss, backward and one optimiser
// step. Returns the loss (kept: the caller disposes it).
import * as E from '../src/engine/index.js';
import type { FeatureExtractor } from '../src/features/model.js';

export function extractorStep(net: FeatureExtractor, optimizer: E.Optimizer, x: E.Tensor): E.Tensor {
  return E.tidy(() => {
    const outs = net.forward(x);
    let loss = outs[0]!.square().mean();
    for (const o of outs.slice(1)) loss = loss.add(o.square().mean());
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return loss.keep();
  });
}
