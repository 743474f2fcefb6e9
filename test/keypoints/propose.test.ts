// Key point proposals: border band, greedy suppression, cap, every method.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proposeKeypoints, suppress } from '../../src/keypoints/propose.js';
import { generatePhantoms } from '../../src/phantom/index.js';

test('greedy suppression keeps the strongest of close points, up to the cap', () => {
  const pts = [
    { x: 0, y: 0, response: 9 },
    { x: 3, y: 4, response: 8 }, // 5 px from the first: dropped at radius 10
    { x: 20, y: 0, response: 7 },
    { x: 40, y: 0, response: 6 },
  ];
  assert.deepEqual(
    suppress(pts, 10, 0).map((p) => p.response),
    [9, 7, 6],
  );
  assert.deepEqual(
    suppress(pts, 5, 2).map((p) => p.response),
    [9, 8],
  );
});

test('every proposal method respects the border, spacing and cap on a phantom', () => {
  const { images } = generatePhantoms({ n: 1, seed: 3, size: 256, atypicalRate: 0 });
  const image = images[0]!.image;
  for (const method of ['sift', 'orb', 'akaze', 'random', 'grid'] as const) {
    const points = proposeKeypoints(image, { method, border: 12, minDistance: 10, maxPoints: 50 });
    assert.ok(points.length > 10 && points.length <= 50, `${method}: ${points.length} points`);
    for (const p of points)
      assert.ok(p.x >= 12 && p.y >= 12 && p.x < 244 && p.y < 244, `${method}: ${p.x},${p.y}`);
    for (let i = 0; i < points.length; i++)
      for (let j = 0; j < i; j++)
        assert.ok(Math.hypot(points[i]!.x - points[j]!.x, points[i]!.y - points[j]!.y) >= 10 - 1e-9, method);
    const responses = points.map((p) => p.response);
    assert.deepEqual(
      responses,
      [...responses].sort((a, b) => b - a),
      `${method}: strongest first`,
    );
  }
  image.dispose();
});
