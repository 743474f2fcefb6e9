// fewmark as a library, imported by its package name as another project
// would: train an extractor on phantoms, choose templates, detect, evaluate,
// with progress and cancellation; errors without CLI words.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  type Annotations,
  DataError,
  detect,
  detectionsAsLandmarks,
  evaluate,
  loadModel,
  makePhantoms,
  type Progress,
  readLandmarks,
  refine,
  select,
  train,
} from 'fewmark';

let dir = '';
let images = '';
let truth: Annotations;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fewmark-api-'));
  await makePhantoms({ out: join(dir, 'phantoms'), n: 8, seed: 5, size: 128 });
  images = join(dir, 'phantoms', 'images');
  truth = await readLandmarks(join(dir, 'phantoms', 'landmarks.csv'));
});

describe("import { ... } from 'fewmark'", () => {
  test('train, select, detect, evaluate: options in, data out, typed progress', async () => {
    const steps: Progress[] = [];
    const trained = await train({
      images,
      out: join(dir, 'model'),
      steps: 3,
      config: { inputSize: 128, batchSize: 2, model: { widths: [8, 8, 16, 16, 16], embedding: 8 } },
      onProgress: (p) => steps.push(p),
    });
    assert.equal(trained.steps, 3);
    assert.deepEqual(
      steps.filter((p) => p.phase === 'training').map((p) => p.done),
      [1, 2, 3],
    );

    const model = await loadModel(join(dir, 'model'));
    try {
      assert.equal(model.kind, 'extractor');
      const chosen = await select({ images, model, budget: 2 });
      assert.equal(chosen.strategy, 'medoids');
      assert.equal(chosen.ranked.length, 2);
      assert.equal(chosen.scale, 'exact', 'a small pool is chosen from exactly');
      assert.equal(chosen.estimate, null);
      const sampled = await select({ images, model, budget: 2, scale: 'sampled' });
      assert.equal(sampled.scale, 'sampled');
      assert.equal(sampled.estimate?.score, 'C');
      assert.equal(sampled.ranked.length, 2);
      const templates: Annotations = {
        names: truth.names,
        images: truth.images.filter((t) => chosen.ranked.some((r) => r.image === t.image)),
      };
      const seen: Progress[] = [];
      const detections = await detect({ model, templates, images, onProgress: (p) => seen.push(p) });
      assert.equal(detections.length, 6, 'every image but the two templates');
      assert.deepEqual(seen.at(-1), { phase: 'detecting', done: 6, total: 6 });
      const result = evaluate(detectionsAsLandmarks(detections, truth.names), truth, { spacing: 0.2 });
      assert.equal(result.perImage.length, 6);
      assert.ok(result.overall.mre > 0 && Number.isFinite(result.overall.mre));

      // Refinement from the same templates; the refined model detects too.
      const phases = new Set<string>();
      const refined = await refine({
        model: join(dir, 'model'),
        templates,
        images,
        out: join(dir, 'refined'),
        steps: 2,
        rounds: 2,
        cycles: 2,
        fineSteps: 2,
        config: { batchSize: 2 },
        onProgress: (p) => phases.add(p.phase),
      });
      assert.equal(refined.rounds, 2);
      assert.equal(refined.cycles, 2);
      assert.deepEqual([...phases].sort(), [
        'detecting',
        'detecting (refined)',
        'loading images',
        'loading images (fine)',
        'training',
        'training (fine stage)',
      ]);
      const byRefined = await detect({ model: join(dir, 'refined'), templates, images });
      assert.equal(byRefined.length, 6);

      // Labeling in rounds: the next image around those two.
      const next = await select({ images, model, budget: 1, labeled: chosen.ranked.map((r) => r.image) });
      assert.ok(chosen.ranked.every((r) => r.image !== next.ranked[0]!.image));
    } finally {
      model.dispose();
    }
  });

  test('an AbortSignal stops a call; errors name the problem without CLI flags', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      detect({
        model: join(dir, 'model'),
        templates: { names: truth.names, images: truth.images.slice(0, 1) },
        images,
        signal: controller.signal,
      }),
      (err: Error) => err.name === 'AbortError',
    );
    await assert.rejects(
      select({ images, model: join(dir, 'model'), budget: 2, signal: controller.signal }),
      (err: Error) => err.name === 'AbortError',
    );
    // Aborted while it runs: it stops after the image in hand.
    const running = new AbortController();
    let done = 0;
    await assert.rejects(
      detect({
        model: join(dir, 'model'),
        templates: { names: truth.names, images: truth.images.slice(0, 1) },
        images,
        signal: running.signal,
        onProgress: (p) => {
          done = p.done;
          if (p.done === 2) running.abort();
        },
      }),
      (err: Error) => err.name === 'AbortError',
    );
    assert.equal(done, 2);
    await assert.rejects(
      loadModel(join(dir, 'nowhere')),
      (err: Error) => err instanceof DataError && !/--|fewmark /.test(err.message),
    );
    await assert.rejects(
      select({ images, model: join(dir, 'model'), budget: 1, labeled: ['not-there'] }),
      /labeled image 'not-there' is not in/,
    );
    assert.throws(() => evaluate(truth, truth, { spacing: -1 }), /spacing: '-1' is not a positive number/);
  });
});
