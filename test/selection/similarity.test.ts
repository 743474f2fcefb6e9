// The similarity matrix in both directions on a few phantoms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { FeatureExtractor } from '../../src/features/model.js';
import { extractPyramid } from '../../src/features/pyramid.js';
import { proposeKeypoints } from '../../src/keypoints/propose.js';
import { generatePhantoms } from '../../src/phantom/index.js';
import { similarityMatrix } from '../../src/selection/similarity.js';

test('similarity matrix: shapes, range, and an image found in itself', () => {
  const size = 128;
  E.seed(0);
  const model = new FeatureExtractor({
    inChannels: 1,
    widths: [8, 8, 16, 16, 16],
    embedding: 8,
    norm: 'batch',
  }).eval();
  const { images } = generatePhantoms({ n: 3, seed: 2, size, atypicalRate: 0 });
  const pyramids = images.map((p) =>
    E.tidy(() => extractPyramid(model, p.image.to('float32').div(255).reshape([1, 1, size, size]))).map((t) =>
      t.keep(),
    ),
  );
  const keypoints = images.map((p) =>
    proposeKeypoints(p.image, { method: 'sift', maxPoints: 12, minDistance: 6 }),
  );
  const paper = similarityMatrix({ pyramids, keypoints, inputSize: size, gridStride: 1 });
  const rows = keypoints.reduce((n, k) => n + k.length, 0);
  assert.equal(paper.rows, rows);
  assert.equal(paper.candidates, 3);
  for (const v of paper.values) assert.ok(v >= 0 && v <= 1 + 1e-5, `value ${v}`);
  // Image 0's key points searched in image 0 itself: cosine 1 at every layer.
  for (let k = 0; k < keypoints[0]!.length; k++)
    assert.ok(paper.values[k * 3]! > 0.97, `self-match ${paper.values[k * 3]}`);
  const reference = similarityMatrix({
    pyramids,
    keypoints,
    inputSize: size,
    direction: 'template-in-image',
  });
  assert.equal(reference.rows, 3);
  assert.ok(reference.values[0]! > 0.9, 'template 0 in image 0');
  // The stride-4 grid approximates the full-resolution maximum closely.
  const coarse = similarityMatrix({ pyramids, keypoints, inputSize: size, gridStride: 4 });
  let gap = 0;
  paper.values.forEach((v, i) => {
    gap += Math.abs(v - coarse.values[i]!);
  });
  assert.ok(gap / paper.values.length < 0.1, `mean gap ${gap / paper.values.length}`);
  for (const p of images) p.image.dispose();
});
