// Fusing several templates' peaks for one landmark.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fusePeaks } from '../../src/matching/detect.js';

const peaks = [
  { point: { x: 10, y: 50 }, value: 0.6, template: 'a' },
  { point: { x: 90, y: 10 }, value: 0.9, template: 'b' }, // the confident outlier
  { point: { x: 12, y: 54 }, value: 0.5, template: 'c' },
];

test('max-peak (paper eq. 3): the highest peak wins', () => {
  assert.deepEqual(fusePeaks(peaks, 'max-peak'), peaks[1]);
});

test('median: coordinate-wise median point, median value, nearest template named', () => {
  assert.deepEqual(fusePeaks(peaks, 'median'), { point: { x: 12, y: 50 }, value: 0.6, template: 'a' });
  // Two templates: the midpoint.
  assert.deepEqual(fusePeaks(peaks.slice(0, 2), 'median')!.point, { x: 50, y: 30 });
  // One template, or none.
  assert.deepEqual(fusePeaks(peaks.slice(2), 'median'), peaks[2]);
  assert.equal(fusePeaks([], 'median'), undefined);
});
