// Nothing changes for users between the two faces of fewmark, and a seeded
// run repeats exactly: train -> select -> detect -> refine on phantoms gives
// byte-identical weights and the same predictions through the library and
// through the CLI, and again on a second run. (The refactors of the
// training loop, checkpoints and trunk were checked the same way: the run
// of runs before and after gave identical weights and predictions.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Annotations, detect, makePhantoms, readLandmarks, refine, select, train } from 'fewmark';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const fewmark = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};

let dir = '';
let images = '';
let truth: Annotations;
const config = { inputSize: 128, batchSize: 2, seed: 7 };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fewmark-same-'));
  await makePhantoms({ out: join(dir, 'phantoms'), n: 8, seed: 11, size: 128 });
  images = join(dir, 'phantoms', 'images');
  truth = await readLandmarks(join(dir, 'phantoms', 'landmarks.csv'));
});

describe('the same predictions through the library and the CLI', () => {
  test('train, select, detect and refine agree, and repeat exactly', async () => {
    // Train twice through the library, once through the CLI: the same weights.
    await train({ images, out: join(dir, 'model-a'), steps: 3, config });
    await train({ images, out: join(dir, 'model-b'), steps: 3, config });
    fewmark(
      'train',
      '--images',
      images,
      '--out',
      join(dir, 'model-c'),
      '--steps',
      '3',
      '--size',
      '128',
      '--batch',
      '2',
      '--seed',
      '7',
    );
    const weights = (m: string) => readFileSync(join(dir, m, 'extractor.safetensors'));
    assert.ok(weights('model-a').equals(weights('model-b')), 'a seeded run repeats');
    assert.ok(weights('model-a').equals(weights('model-c')), 'the CLI trains the same model');

    const model = join(dir, 'model-a');
    const chosen = await select({ images, model, budget: 2 });
    fewmark('select', '--images', images, '--model', model, '--budget', '2', '--out', join(dir, 'selection'));
    const cliChosen = JSON.parse(readFileSync(join(dir, 'selection', 'selection.json'), 'utf8'));
    assert.deepEqual(
      cliChosen.ranked.map((r: { image: string }) => r.image),
      chosen.ranked.map((r) => r.image),
    );

    const templates: Annotations = {
      names: truth.names,
      images: truth.images.filter((t) => chosen.ranked.some((r) => r.image === t.image)),
    };
    const templatesFile = join(dir, 'templates.csv');
    const { writeLandmarks } = await import('fewmark');
    await writeLandmarks(templatesFile, templates);
    const points = async (file: string) =>
      (await readLandmarks(file)).images.map((i) => [i.image, i.points.map((p) => [p.x, p.y])]);

    const found = await detect({ model, templates, images });
    fewmark(
      'detect',
      '--model',
      model,
      '--templates',
      templatesFile,
      '--images',
      images,
      '--out',
      join(dir, 'pred.csv'),
    );
    const fromCli = await points(join(dir, 'pred.csv'));
    assert.deepEqual(
      fromCli.map(([id]) => id),
      found.map((d) => d.id),
    );
    found.forEach((d, k) => {
      d.points.forEach((p, l) => {
        const [x, y] = (fromCli[k]![1] as number[][])[l]!;
        // The CSV keeps a few decimals.
        assert.ok(Math.abs(p.x - x!) < 1e-3 && Math.abs(p.y - y!) < 1e-3, `${d.id} landmark ${l}`);
      });
    });

    // Refinement: two rounds of two steps, through each face, then detection with each refined model.
    await refine({
      model,
      templates,
      images,
      out: join(dir, 'refined-api'),
      steps: 2,
      rounds: 2,
      fineSteps: 2,
      config: { batchSize: 2 },
    });
    fewmark(
      'refine',
      '--model',
      model,
      '--templates',
      templatesFile,
      '--images',
      images,
      '--out',
      join(dir, 'refined-cli'),
      '--steps',
      '2',
      '--rounds',
      '2',
      '--fine-steps',
      '2',
      '--batch',
      '2',
    );
    const byApi = await detect({ model: join(dir, 'refined-api'), templates, images });
    const byCli = await detect({ model: join(dir, 'refined-cli'), templates, images });
    assert.deepEqual(
      byApi.map((d) => d.points),
      byCli.map((d) => d.points),
    );
  });
});
