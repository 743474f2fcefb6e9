// Disk targets, the balanced loss and the estimators on hand-checkable cases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { MISSING } from '../../src/io/types.js';
import { refineLoss } from '../../src/refine/loss.js';
import { cellCentre, makeTargets } from '../../src/refine/targets.js';
import { densityMode, type Estimator, estimate, type LandmarkMaps } from '../../src/refine/vote.js';
import { assertClose } from '../helpers.js';

describe('disk targets', () => {
  test('cells within R of the point are 1 and point at it in units of R', () => {
    // 16 px, stride 4: cell centres 1.5, 5.5, 9.5, 13.5.
    const t = makeTargets([[{ x: 5.5, y: 9.5 }, MISSING]], { inputSize: 16, stride: 4, radius: 4 });
    assert.deepEqual(t.heatmap.shape, [1, 2, 4, 4]);
    // Landmark 0 sits on cell (x 1, y 2): its 4-neighbours are exactly R away (inside), diagonals not.
    assert.deepEqual(
      t.heatmap.select(1, 0).toArray(),
      [0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0].map(Number),
    );
    const ox = t.offsetX.select(1, 0).toArray();
    const oy = t.offsetY.select(1, 0).toArray();
    assert.equal(ox[2 * 4 + 0], 1); // cell (0, 2): the point is one radius to the right
    assert.equal(ox[2 * 4 + 2], -1);
    assert.equal(oy[1 * 4 + 1], 1); // cell (1, 1): one radius below
    assert.equal(ox[2 * 4 + 1], 0);
    // A missing landmark has no disk and no offsets.
    assert.equal(t.heatmap.select(1, 1).sum().item(), 0);
    assert.equal(t.offsetX.select(1, 1).abs().sum().item(), 0);
    assert.equal(cellCentre(3, 4), 13.5);
  });

  test('the loss is small for a confident exact prediction and weights pick channels', () => {
    const t = makeTargets([[{ x: 5.5, y: 9.5 }], [{ x: 2, y: 2 }]], { inputSize: 16, stride: 4, radius: 4 });
    const out = {
      heatmap: t.heatmap.mul(20).sub(10),
      offsetX: t.offsetX,
      offsetY: t.offsetY,
    };
    const good = refineLoss(out, t, [1, 1]);
    assert.ok(good.total.item() < 1e-3, `loss ${good.total.item()}`);
    // Wrong offsets in image 1 only: a zero weight there hides them.
    const bad = { ...out, offsetX: t.offsetX.add(0.5) };
    assert.ok(refineLoss(bad, t, [1, 1]).offset.item() > 0.4);
    assert.ok(refineLoss(bad, t, [1, 0]).offset.item() > 0.4);
    const halfBad = {
      ...out,
      offsetX: E.cat([t.offsetX.narrow(0, 0, 1), t.offsetX.narrow(0, 1, 1).add(1)], 0),
    };
    assert.ok(refineLoss(halfBad, t, [1, 0]).offset.item() < 1e-6);
    assert.throws(() => refineLoss(out, t, [1]), /refineLoss: 1 weights for 2 x 1 channels/);
  });
});

/** Maps for a point on a g x g grid: a disk of probability 0.9 and exact offsets. */
function fieldFor(px: number, py: number, g: number, stride: number, radius: number): LandmarkMaps {
  const probability = new Float32Array(g * g);
  const offsetX = new Float32Array(g * g);
  const offsetY = new Float32Array(g * g);
  for (let y = 0; y < g; y++)
    for (let x = 0; x < g; x++) {
      const dx = (px - cellCentre(x, stride)) / radius;
      const dy = (py - cellCentre(y, stride)) / radius;
      const i = y * g + x;
      probability[i] = dx * dx + dy * dy <= 1 ? 0.9 - 0.3 * Math.hypot(dx, dy) : 0.05;
      offsetX[i] = dx;
      offsetY[i] = dy;
    }
  return { cells: g, probability, offsetX, offsetY };
}

describe('estimators', () => {
  const base = { stride: 4, radius: 12, threshold: 0.5, minVoters: 4, bandwidth: 2 };

  test('voting recovers a sub-pixel point exactly; argmax only to the cell', () => {
    const maps = fieldFor(37.3, 21.8, 16, 4, 12);
    const at = (estimator: Estimator) => estimate(maps, { ...base, estimator }).point;
    for (const e of ['vote', 'mean', 'argmax-offset'] as const)
      assertClose([at(e).x, at(e).y], [37.3, 21.8], 1e-4, e);
    const a = at('argmax');
    assert.ok(Math.abs(a.x - 37.3) <= 2 && Math.abs(a.y - 21.8) <= 2, `argmax ${a.x}, ${a.y}`);
    assert.ok(Math.abs(estimate(maps, { ...base, estimator: 'vote' }).confidence - 0.9) < 0.1);
  });

  test('the vote mode ignores a minority of wrong votes that pull the mean', () => {
    const maps = fieldFor(30, 30, 16, 4, 12) as {
      probability: Float32Array;
      offsetX: Float32Array;
    } & LandmarkMaps;
    // Five confident cells far away, all voting for (60, 2).
    for (const i of [15, 14, 31, 30, 47]) {
      maps.probability[i] = 0.95;
      maps.offsetX[i] = (60 - cellCentre(i % 16, 4)) / 12;
      (maps.offsetY as Float32Array)[i] = (2 - cellCentre(Math.floor(i / 16), 4)) / 12;
    }
    const vote = estimate(maps, { ...base, estimator: 'vote' }).point;
    const mean = estimate(maps, { ...base, estimator: 'mean' }).point;
    assertClose([vote.x, vote.y], [30, 30], 1e-3, 'vote');
    assert.ok(Math.hypot(mean.x - 30, mean.y - 30) > 3, `mean ${mean.x}, ${mean.y}`);
  });

  test('mean shift finds the denser of two clusters, at its centre', () => {
    const votes = [
      ...[-1, 0, 1].flatMap((d) => [
        { x: 10 + d, y: 10, w: 1 },
        { x: 10, y: 10 + d, w: 1 },
      ]),
      { x: 40, y: 40, w: 1 },
      { x: 41, y: 40, w: 1 },
    ];
    const m = densityMode(votes, 1.5);
    assertClose([m.x, m.y], [10, 10], 1e-3);
  });
});
