// The refinement loss: balanced BCE on the disk heatmaps plus L1 on the
// offsets inside the disks, per landmark channel, then a weighted mean over
// channels (weights: 0 for missing landmarks, the pseudo-label confidence
// weight, a larger weight for the labeled templates).
//
// Balanced: positives and negatives each contribute half of a channel's
// heatmap loss. Unbalanced BCE over a 96x96 grid with ~70 positive cells
// would learn "nowhere" first; balanced, a probability of 0.5 sits on the
// disk's rim, which gives the voting threshold a meaning.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { RefineOutput } from './model.js';
import type { Targets } from './targets.js';

export interface RefineLoss {
  total: Tensor;
  heatmap: Tensor;
  offset: Tensor;
}

/** weights [B, L] (a plain array, row-major); offsetWeight scales the L1 term. */
export function refineLoss(out: RefineOutput, t: Targets, weights: number[], offsetWeight = 1): RefineLoss {
  const [b, l] = t.heatmap.shape as [number, number];
  if (weights.length !== b * l)
    throw new RangeError(`refineLoss: ${weights.length} weights for ${b} x ${l} channels`);
  if (out.heatmap.shape.join() !== t.heatmap.shape.join())
    throw new RangeError(
      `refineLoss: output [${out.heatmap.shape.join(', ')}] does not match targets [${t.heatmap.shape.join(', ')}]`,
    );
  const wsum = weights.reduce((a, v) => a + v, 0);
  return E.tidy(() => {
    const pos = t.heatmap;
    const neg = E.scalar(1).sub(pos);
    const bce = E.F.bceWithLogits(out.heatmap, pos, 'none');
    const npos = pos.sum([2, 3]).clamp(1); // [B, L]
    const nneg = neg.sum([2, 3]).clamp(1);
    const heat = bce
      .mul(pos)
      .sum([2, 3])
      .div(npos)
      .add(bce.mul(neg).sum([2, 3]).div(nneg))
      .mul(0.5);
    const l1 = out.offsetX.sub(t.offsetX).abs().add(out.offsetY.sub(t.offsetY).abs());
    const offset = l1.mul(pos).sum([2, 3]).div(npos);
    const w = E.tensor(weights, [b, l]).div(Math.max(wsum, 1e-12));
    const heatmap = heat.mul(w).sum();
    const off = offset.mul(w).sum();
    return { total: heatmap.add(off.mul(offsetWeight)), heatmap, offset: off };
  });
}

/** Back-propagates the total, steps the optimiser, and returns the losses as numbers for the progress line. */
export function minimise(
  optimizer: E.Optimizer,
  losses: RefineLoss,
): { loss: number; heatmapLoss: number; offsetLoss: number } {
  optimizer.zeroGrad();
  losses.total.backward();
  optimizer.step();
  return { loss: losses.total.item(), heatmapLoss: losses.heatmap.item(), offsetLoss: losses.offset.item() };
}
