// Interrupting `fewmark refine`: SIGTERM stops after the current step with
// a checkpoint (exit 143), and --resume continues from it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadFine } from '../../src/refine/fine/model-file.js';
import { fewmark, lastCheckpoint, startUntilStep } from '../cli/long-run.js';
import { TINY_FINE } from './tiny-fine.js';

test('SIGTERM stops refine after the step with a checkpoint; --resume goes on from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-refine-stop-'));
  const images = join(dir, 'phantoms', 'images');
  const made = fewmark(
    'phantom',
    '--out',
    join(dir, 'phantoms'),
    '--n',
    '6',
    '--size',
    '64',
    '--landmarks',
    '4',
  );
  assert.equal(made.code, 0, made.err);
  const rows = readFileSync(join(dir, 'phantoms', 'landmarks.csv'), 'utf8')
    .trim()
    .split('\n');
  const templates = join(dir, 'templates.csv');
  writeFileSync(templates, `${rows.slice(0, 3).join('\n')}\n`);
  const extractorConfig = join(dir, 'extractor.json');
  writeFileSync(extractorConfig, JSON.stringify({ model: { widths: [4, 4, 8, 8, 8], embedding: 4 } }));
  const model = join(dir, 'model');
  const trained = fewmark(
    ...['train', '--images', images, '--out', model, '--steps', '2', '--size', '64', '--batch', '2'],
    ...['--config', extractorConfig],
  );
  assert.equal(trained.code, 0, trained.err);
  const refineConfig = join(dir, 'refine.json');
  writeFileSync(refineConfig, JSON.stringify({ model: { headWidth: 4 }, warmupSteps: 1, fine: TINY_FINE }));
  const out = join(dir, 'refined');
  const args = ['refine', '--model', model, '--templates', templates, '--images', images, '--out', out];
  const common = ['--rounds', '1', '--cycles', '1', '--batch', '2', '--config', refineConfig];

  const run = startUntilStep([...args, ...common, '--steps', '100000'], 2);
  await run.reached;
  assert.equal(await run.stop('SIGTERM'), 143, run.output().err);
  const saved = lastCheckpoint(run.output().err);
  assert.ok(saved >= 2, run.output().err);
  assert.ok(existsSync(join(out, 'checkpoint.safetensors')));

  const resumed = fewmark(...args, ...common, '--steps', String(saved + 1), '--resume');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, new RegExp(`refined ${saved + 1} steps`));

  // The fine stage, stopped the same way, resumes from its own checkpoint.
  const long = [...args, ...common, '--steps', String(saved + 1), '--resume'];
  rmSync(join(out, 'fine.safetensors'));
  rmSync(join(out, 'fine-checkpoint.safetensors'));
  const fine = startUntilStep([...long, '--fine-steps', '100000'], saved + 3);
  await fine.reached;
  assert.equal(await fine.stop('SIGTERM'), 143, fine.output().err);
  const fineSaved = lastCheckpoint(fine.output().err);
  assert.ok(existsSync(join(out, 'fine-checkpoint.safetensors')), fine.output().err);
  const fineResumed = fewmark(...long, '--fine-steps', String(fineSaved + 2));
  assert.equal(fineResumed.code, 0, fineResumed.err);
  const { meta } = await loadFine(out);
  assert.equal(meta.steps, fineSaved + 2);
});
