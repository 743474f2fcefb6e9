// `evaluate` end to end on small wide-CSV files: the numbers, the four
// report files, and bad inputs that fail with messages naming the file and
// leave no output behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { EVALUATION_FILES, evaluate, evaluateAnnotations } from '../../src/cli/commands/evaluate.js';
import { UsageError } from '../../src/cli/errors.js';
import { DataError } from '../../src/io/errors.js';
import { type Annotations, MISSING } from '../../src/io/types.js';
import { assertClose } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fewmark-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const header = 'image,x1,y1,x2,y2,x3,y3';
const gt = file('gt.csv', [header, 'a,100,100,50,50,10,10', 'b,0,0,20,20,40,40', 'c,1,1,2,2,3,3']);
// At 0.5 mm per pixel:
//   b: L1 (3,4) px -> 1.5, 2 mm -> 2.5 mm; L2 missing; L3 0 mm
//   a: L1 (6,8) px -> 3, 4 mm -> 5 mm; L2 4 px -> 2 mm; L3 4 px -> 2 mm
//   c: no prediction (reported, not evaluated)
// Valid errors 2.5, 0, 5, 2, 2: n 5, MRE 11.5 / 5 = 2.3,
// population std sqrt((39.25 - 11.5^2 / 5) / 5) = sqrt(2.56) = 1.6, median 2, max 5.
const pred = file('pred.csv', [header, 'b,3,4,,,40,40', 'a,106,108,54,50,10,14']);

let outN = 0;
const freshOut = () => join(dir, `out${++outN}`);

describe('evaluate', () => {
  test('numbers, missing predictions and the four files', async () => {
    const out = freshOut();
    const r = await evaluate({ pred, gt, out, spacing: 0.5 });
    assert.deepEqual(r.names, ['L1', 'L2', 'L3']);
    assert.deepEqual(r.missingPredictions, ['c']);
    assert.deepEqual(r.spacing, { from: 'option', x: 0.5, y: 0.5 });
    assert.deepEqual(r.counts, { images: 2, points: 6, predicted: 5, groundTruth: 6, both: 5 });
    assertClose([r.overall.mre, r.overall.std, r.overall.median, r.overall.max], [2.3, 1.6, 2, 5], 1e-12);
    assert.deepEqual(
      r.overall.sdr.map((s) => s.percent),
      [60, 80, 80, 80],
    );
    assert.deepEqual(
      r.perImage.map((i) => i.errors),
      [
        [2.5, Number.NaN, 0],
        [5, 2, 2],
      ],
    );

    for (const name of EVALUATION_FILES) assert.ok(existsSync(join(out, name)), name);
    assert.equal(
      readFileSync(join(out, 'per-landmark.csv'), 'utf8'),
      [
        'landmark,n_valid,n_pred,n_gt,mre_mm,std_mm,median_mm,max_mm,sdr_2mm_pct,sdr_2.5mm_pct,sdr_3mm_pct,sdr_4mm_pct',
        'L1,2,2,2,3.750,1.250,3.750,5.000,0.00,50.00,50.00,50.00',
        'L2,1,1,2,2.000,0.000,2.000,2.000,100.00,100.00,100.00,100.00',
        'L3,2,2,2,1.000,1.000,1.000,2.000,100.00,100.00,100.00,100.00',
        '',
      ].join('\n'),
    );
    assert.equal(
      readFileSync(join(out, 'per-image.csv'), 'utf8'),
      [
        'image,n_valid,n_pred,n_gt,mre_mm,max_mm,max_landmark,spacing_x_mm,spacing_y_mm',
        'b,2,2,3,1.250,2.500,L1,0.5,0.5',
        'a,3,3,3,3.000,5.000,L1,0.5,0.5',
        '',
      ].join('\n'),
    );
    const text = readFileSync(join(out, 'evaluation.txt'), 'utf8').split('\n');
    assert.ok(text.includes('images: 2 evaluated, 1 without prediction (c)'), text.join('\n'));
    assert.ok(text.includes('SDR uses error <= r mm; std is the population std (divide by n)'));
    assert.ok(
      text.includes(
        'overall: MRE 2.300 ± 1.600 mm, median 2.000 mm, max 5.000 mm, SDR 2mm 60.00%, 2.5mm 80.00%, 3mm 80.00%, 4mm 80.00%',
      ),
      text.join('\n'),
    );
    assert.ok(
      text.includes('L2        1  2.000  0.000   2.000  2.000  100.00%    100.00%  100.00%  100.00%'),
    );
    const json = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    assert.equal(json.overall.mre, 2.3);
    assert.deepEqual(json.perImage[0].errors, [2.5, null, 0]);
    assert.equal(json.conventions.sdr, 'SDR uses error <= r mm');
    assert.deepEqual(json.missingPredictions, ['c']);
  });

  test('strict SDR, custom radii, anisotropic spacing, no output folder', async () => {
    const r = await evaluate({ pred, gt, spacing: 0.5, sdrStrict: true, radii: [2.5, 2] });
    assert.equal(r.sdrRule, '<');
    assert.deepEqual(
      r.overall.sdr.map((s) => [s.radius, s.percent]),
      [
        [2, 20],
        [2.5, 60],
      ],
    );
    // a, L1: 6 px x 0.5 = 3 mm, 8 px x 0.25 = 2 mm
    const an = await evaluate({ pred, gt, spacing: [0.5, 0.25] });
    assertClose([an.perImage[1]!.errors[0]!], [Math.sqrt(13)], 1e-12);
  });

  test('spacing from the ground truth, and landmarks matched by name', () => {
    const names = ['S', 'N'];
    const truth: Annotations = {
      names,
      images: [
        {
          image: 'x',
          points: [
            { x: 0, y: 0 },
            { x: 10, y: 10 },
          ],
          spacing: { x: 0.1, y: 0.2, source: 'dicom-pixel-spacing' },
        },
        { image: 'y', points: [MISSING, MISSING], spacing: { x: 1, y: 1, source: 'file' } },
      ],
    };
    const guess: Annotations = {
      names: ['N', 'S'],
      images: [
        {
          image: 'x',
          points: [
            { x: 10, y: 10 },
            { x: 30, y: 20 },
          ],
        },
      ],
    };
    const r = evaluateAnnotations(guess, truth, { pred: 'p.json', gt: 'g.json' });
    assert.deepEqual(r.spacing, { from: 'ground-truth' });
    assert.deepEqual(r.perImage[0]!.spacing, { x: 0.1, y: 0.2 });
    assertClose(r.perImage[0]!.errors, [5, 0], 1e-12); // S: 30 px x 0.1 = 3 mm, 20 px x 0.2 = 4 mm
    assert.deepEqual(r.missingPredictions, ['y']);
    // --spacing overrides the file
    const o = evaluateAnnotations(guess, truth, { pred: 'p.json', gt: 'g.json', spacing: 0.1 });
    assertClose([o.perImage[0]!.errors[0]!], [Math.hypot(3, 2)], 1e-12);
  });
});

describe('evaluate: bad inputs', () => {
  async function fails(options: Parameters<typeof evaluate>[0], message: string, file?: string) {
    const out = options.out!;
    await assert.rejects(evaluate(options), (err: Error) => {
      assert.equal(err.message, message);
      if (file !== undefined) {
        assert.ok(err instanceof DataError, `${err.name}: ${err.message}`);
        assert.equal(err.file, file);
      }
      return true;
    });
    assert.ok(!existsSync(out), `${out} should not exist`);
  }

  test('a predicted image without ground truth', async () => {
    const p = file('extra.csv', [header, 'a,1,1,2,2,3,3', 'z,1,1,2,2,3,3']);
    await fails(
      { pred: p, gt, out: freshOut(), spacing: 1 },
      `${p}: image 'z' has no ground truth in ${gt}`,
      p,
    );
    const q = file('extra2.csv', [header, 'y,1,1,2,2,3,3', 'a,1,1,2,2,3,3', 'z,1,1,2,2,3,3']);
    await fails(
      { pred: q, gt, out: freshOut(), spacing: 1 },
      `${q}: 2 images have no ground truth in ${gt}: 'y', 'z'`,
      q,
    );
  });

  test('a different number of landmarks', async () => {
    const p = file('two.csv', ['image,x1,y1,x2,y2', 'a,1,1,2,2']);
    await fails(
      { pred: p, gt, out: freshOut(), spacing: 1 },
      `${p}: 2 landmarks (L1, L2) but the ground truth ${gt} has 3 (L1, L2, L3)`,
      p,
    );
  });

  test('different landmark names', async () => {
    const p = file('named.csv', ['image,S_x,S_y,N_x,N_y,Or_x,Or_y', 'a,1,1,2,2,3,3']);
    await fails(
      { pred: p, gt, out: freshOut(), spacing: 1 },
      `${p}: landmark 1 is 'S' but 'L1' in the ground truth ${gt}`,
      p,
    );
  });

  test('no pixel spacing', async () => {
    await fails(
      { pred, gt, out: freshOut() },
      `${gt}: no pixel spacing for image 'b': pass --spacing MM`,
      gt,
    );
  });

  test('an unreadable file', async () => {
    const p = join(dir, 'nowhere.csv');
    await fails({ pred: p, gt, out: freshOut(), spacing: 1 }, `${p}: cannot read: ENOENT`, p);
  });

  test('an empty prediction file', async () => {
    const p = file('empty.csv', [header]);
    await fails({ pred: p, gt, out: freshOut(), spacing: 1 }, `${p}: no images to evaluate`, p);
  });

  test('bad --spacing and --radii', async () => {
    const out = freshOut();
    await assert.rejects(
      evaluate({ pred, gt, out, spacing: 0 }),
      (err: Error) =>
        err instanceof UsageError &&
        err.message === "--spacing: '0' is not a positive number of millimetres per pixel",
    );
    await assert.rejects(
      evaluate({ pred, gt, out, spacing: 1, radii: [2, -1] }),
      (err: Error) =>
        err instanceof UsageError && err.message === "--radii: '-1' is not a positive number of millimetres",
    );
    assert.ok(!existsSync(out));
  });
});
