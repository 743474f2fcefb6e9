// Report rendering: NaN in JSON, CSV quoting, the SDR rule line and the
// aligned landmark table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluatePairs } from '../../src/eval/metrics.js';
import { renderImageCsv, renderJson, renderLandmarkCsv, renderText } from '../../src/eval/report.js';
import { MISSING } from '../../src/io/types.js';

const result = (sdrRule: '<=' | '<' = '<=') =>
  evaluatePairs(
    ['Sella', 'Nasion, soft'],
    [
      { image: 'i1', spacing: 0.5, pred: [{ x: 6, y: 8 }, MISSING], gt: [{ x: 0, y: 0 }, MISSING] },
      { image: 'i2', spacing: 0.5, pred: [MISSING, MISSING], gt: [{ x: 0, y: 0 }, MISSING] },
    ],
    { sdrRule },
  );

test('JSON writes NaN as null', () => {
  const json = JSON.parse(renderJson(result()));
  assert.equal(json.overall.mre, 5);
  assert.equal(json.perLandmark[1].mre, null);
  assert.deepEqual(json.perImage[1].errors, [null, null]);
  assert.equal(json.perImage[1].maxLandmark, null);
});

test('CSV quotes names and leaves NaN cells empty', () => {
  const lines = renderLandmarkCsv(result()).split('\n');
  assert.equal(lines[1], 'Sella,1,1,2,5.000,0.000,5.000,5.000,0.00,0.00,0.00,0.00');
  assert.equal(lines[2], '"Nasion, soft",0,0,0,,,,,,,,');
  assert.equal(renderImageCsv(result()).split('\n')[2], 'i2,0,0,1,,,,0.5,0.5');
});

test('text names the SDR rule and aligns the landmark table', () => {
  const text = renderText(result()).split('\n');
  assert.ok(text.includes('SDR uses error <= r mm; std is the population std (divide by n)'));
  assert.ok(renderText(result('<')).includes('SDR uses error < r mm;'));
  assert.ok(
    text.includes(
      'overall: MRE 5.000 ± 0.000 mm, median 5.000 mm, max 5.000 mm, SDR 2mm 0.00%, 2.5mm 0.00%, 3mm 0.00%, 4mm 0.00%',
    ),
  );
  const at = text.findIndex((l) => l.startsWith('landmark'));
  assert.deepEqual(text.slice(at, at + 3), [
    'landmark      n    MRE    std  median    max  SDR@2mm  SDR@2.5mm  SDR@3mm  SDR@4mm',
    'Sella         1  5.000  0.000   5.000  5.000    0.00%      0.00%    0.00%    0.00%',
    'Nasion, soft  0      -      -       -      -        -          -        -        -',
  ]);
  assert.ok(text.includes('outliers: 1 point > 4 mm (1 image), 0 points > 10 mm (0 images)'));
  assert.ok(text.includes('  1 ground-truth point without a prediction: not in MRE or SDR'));
});
