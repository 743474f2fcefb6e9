// `fewmark refine` and `fewmark detect` with a refined model, end to end on
// a few tiny phantoms (the numbers are not the point here: the files are).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadFine } from '../../src/refine/fine/model-file.js';
import { TINY_FINE } from './tiny-fine.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

function fewmark(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function ok(r: ReturnType<typeof fewmark>) {
  assert.equal(r.code, 0, r.err);
  return r;
}

/** Six 64-pixel phantoms, two of them templates, and a tiny extractor trained on them. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-refine-cli-'));
  const images = join(dir, 'phantoms', 'images');
  ok(fewmark('phantom', '--out', join(dir, 'phantoms'), '--n', '6', '--size', '64', '--landmarks', '4'));
  const rows = readFileSync(join(dir, 'phantoms', 'landmarks.csv'), 'utf8')
    .trim()
    .split('\n');
  const templates = join(dir, 'templates.csv');
  writeFileSync(templates, `${rows.slice(0, 3).join('\n')}\n`); // header + two templates
  const extractorConfig = join(dir, 'extractor.json');
  writeFileSync(
    extractorConfig,
    JSON.stringify({ model: { widths: [4, 4, 8, 8, 8], embedding: 4 }, pairs: { queriesPerImage: 4 } }),
  );
  const model = join(dir, 'model');
  ok(
    fewmark(
      'train',
      ...['--images', images, '--out', model, '--steps', '2', '--size', '64', '--batch', '2'],
      ...['--config', extractorConfig],
    ),
  );
  const refineConfig = join(dir, 'refine.json');
  writeFileSync(refineConfig, JSON.stringify({ model: { headWidth: 4 }, warmupSteps: 1, fine: TINY_FINE }));
  return { dir, images, templates, model, refineConfig };
}

test('refine makes pseudo-labels, trains, resumes; detect uses the refined model', async () => {
  const { dir, images, templates, model, refineConfig } = setup();
  const refined = join(dir, 'refined');
  // One cycle here (cycles have their own test below).
  const args = [
    '--model',
    model,
    '--templates',
    templates,
    '--images',
    images,
    '--out',
    refined,
    '--cycles',
    '1',
  ];
  const first = ok(fewmark('refine', ...args, '--steps', '2', '--batch', '2', '--config', refineConfig));
  assert.match(first.err, /making pseudo-labels by template matching/);
  assert.match(first.out, /refined 2 steps x 3 rounds .* on 4 pseudo-labeled images and 2 template\(s\)/);
  for (const f of ['refined.json', 'refined.safetensors', 'checkpoint.safetensors', 'pseudo-labels.csv'])
    assert.ok(existsSync(join(refined, f)), f);
  // Self-training: rounds 1 and 2 relabel the 4 unlabeled images for the next; the last is the model.
  assert.match(first.err, /round 3 of 3: training on .*round-2.relabeled\.csv/);
  for (const k of [1, 2]) {
    const relabeled = readFileSync(join(refined, `round-${k}`, 'relabeled.csv'), 'utf8');
    assert.equal(relabeled.trim().split('\n').length, 1 + 4, `round ${k}`);
    const roundMeta = JSON.parse(readFileSync(join(refined, `round-${k}`, 'refined.json'), 'utf8'));
    assert.ok(roundMeta.steps === 2 && roundMeta.trainSeconds > 0, `round ${k}`);
  }
  assert.ok(!existsSync(join(refined, 'round-3')));
  const meta = JSON.parse(readFileSync(join(refined, 'refined.json'), 'utf8'));
  assert.equal(meta.inputSize, 96); // 4/3 of the extractor's 64, to a multiple of 32
  assert.deepEqual(meta.net.widths, [4, 4, 8, 8, 8]);
  assert.equal(meta.landmarks.length, 4);

  const again = fewmark('refine', ...args, '--steps', '3', '--batch', '2', '--config', refineConfig);
  assert.equal(again.code, 2);
  assert.match(again.err, /already holds a refinement checkpoint: pass --resume/);
  const resumed = ok(
    fewmark('refine', ...args, '--steps', '3', '--batch', '2', '--config', refineConfig, '--resume'),
  );
  assert.doesNotMatch(resumed.err, /making pseudo-labels/);
  assert.match(resumed.err, /round 1 is done/);
  assert.match(resumed.err, /round 2 is done/);
  assert.match(resumed.out, /refined 3 steps/);
  // The last round trained on, so its labels changed: the fine stage was trained again, not resumed on stale labels.
  assert.match(
    resumed.err,
    /the first stage has changed since the fine stage was trained: the fine stage starts over/,
  );

  // One round: template matching's labels only, no round folders.
  const single = join(dir, 'single');
  const one = ok(
    fewmark(
      'refine',
      ...['--model', model, '--templates', templates, '--images', images, '--out', single],
      ...['--pseudo', join(refined, 'pseudo-labels.csv'), '--rounds', '1', '--steps', '2', '--batch', '2'],
      ...['--cycles', '1', '--config', refineConfig],
    ),
  );
  assert.match(one.out, /refined 2 steps in/);
  assert.ok(existsSync(join(single, 'refined.json')) && !existsSync(join(single, 'round-1')));

  // A time budget covers the rounds and the fine stage: the fine stage gets 40% of it.
  const timed = join(dir, 'timed');
  const byTime = ok(
    fewmark(
      'refine',
      ...['--model', model, '--templates', templates, '--images', images, '--out', timed],
      ...[
        '--pseudo',
        join(refined, 'pseudo-labels.csv'),
        '--rounds',
        '1',
        '--cycles',
        '1',
        '--minutes',
        '0.05',
        '--batch',
        '2',
      ],
      ...['--config', refineConfig],
    ),
  );
  assert.match(byTime.out, /stopped by time/);
  const round = JSON.parse(readFileSync(join(timed, 'refined.json'), 'utf8'));
  const { meta: fine, model: fineModel } = await loadFine(timed);
  fineModel.dispose();
  // 3 s in all: 1.8 s for the round, 1.2 s for the fine stage, each overshooting by a step or so.
  assert.ok(round.trainSeconds >= 1.8 && round.trainSeconds < 3, `round: ${round.trainSeconds} s`);
  assert.ok(fine.trainSeconds >= 1.2 && fine.trainSeconds < 2.4, `fine stage: ${fine.trainSeconds} s`);
  assert.ok(fine.steps > 3, `the fine stage ran by time, not its step count: ${fine.steps} steps`);
  const zero = fewmark('refine', ...args, '--rounds', '0', '--resume');
  assert.equal(zero.code, 2);
  assert.match(zero.err, /expected a whole number of at least 1 for --rounds/);

  // Without --templates every image is detected; with them, the templates are skipped.
  const pred = join(dir, 'pred.csv');
  ok(fewmark('detect', '--model', refined, '--images', images, '--out', pred));
  assert.equal(readFileSync(pred, 'utf8').trim().split('\n').length, 1 + 6);
  const detections = JSON.parse(readFileSync(`${pred}.detections.json`, 'utf8'));
  assert.equal(detections.detections[0].templateOf[0], 'refined');
  assert.ok(detections.detections[0].confidence.every((c: number) => c > 0 && c < 1));
  ok(fewmark('detect', '--model', refined, '--templates', templates, '--images', images, '--out', pred));
  assert.equal(readFileSync(pred, 'utf8').trim().split('\n').length, 1 + 4);

  const noTemplates = fewmark('detect', '--model', model, '--images', images, '--out', pred);
  assert.equal(noTemplates.code, 2);
  assert.match(noTemplates.err, /--templates is needed with a template-matching model/);
});

test('refine in cycles: each later cycle trains on the labels both stages of the last gave', () => {
  const { dir, images, templates, model, refineConfig } = setup();
  const out = join(dir, 'cycled');
  const args = ['--model', model, '--templates', templates, '--images', images, '--out', out];
  const common = ['--steps', '2', '--rounds', '2', '--cycles', '2', '--batch', '2', '--config', refineConfig];
  const first = ok(fewmark('refine', ...args, ...common));
  assert.match(first.out, /refined 2 steps x 2 rounds \+ 1 cycle\(s\) in/);
  // Cycle 1 is a whole two-stage model in OUT/cycle-1 (its rounds inside), which labels the unlabeled images.
  for (const f of ['refined.json', 'fine.safetensors', 'round-1/relabeled.csv', 'cycle.json'])
    assert.ok(existsSync(join(out, 'cycle-1', f)), f);
  const both = readFileSync(join(out, 'cycle-1', 'both-labels.csv'), 'utf8');
  assert.equal(both.trim().split('\n').length, 1 + 4);
  assert.notEqual(both, readFileSync(join(out, 'cycle-1', 'stage1-labels.csv'), 'utf8'));
  // Cycle 2, the last, trains one round on them into OUT itself.
  assert.match(first.err, /cycle 2 of 2: training on .*cycle-1.both-labels\.csv/);
  assert.ok(!existsSync(join(out, 'round-1')) && !existsSync(join(out, 'cycle-2')));
  for (const f of ['refined.json', 'fine.safetensors']) assert.ok(existsSync(join(out, f)), f);

  const resumed = ok(fewmark('refine', ...args, ...common, '--resume'));
  assert.match(resumed.err, /cycle 1 is done/);
  assert.doesNotMatch(resumed.err, /making pseudo-labels|relabeling/);
});
