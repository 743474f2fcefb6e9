// Interruption never loses a run: SIGTERM and Ctrl-C stop `fewmark train`
// after the current step with a checkpoint that --resume continues; a second
// signal quits at once and leaves the last checkpoint whole; temporary files
// of killed writes are removed by the next run.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { env, fewmark, lastCheckpoint, main, startUntilStep } from './long-run.js';

/** `fewmark train` of tiny phantoms, up to `steps` steps. */
const training = (images: string, out: string, steps: string) => [
  'train',
  '--images',
  images,
  '--out',
  out,
  '--size',
  '64',
  '--batch',
  '2',
  '--steps',
  steps,
];

/** A long training run of them, for as long as it is let run. */
const longTraining = (images: string, out: string) => training(images, out, '100000');

/** A long training run, followed until it reports `steps` steps. */
const startTraining = (images: string, out: string, steps: number, ...extra: string[]) =>
  startUntilStep([...longTraining(images, out), ...extra], steps);

/** `fewmark train --resume` of such a run, up to `steps` steps. */
const resumeTraining = (images: string, out: string, steps: string) =>
  fewmark(...training(images, out, steps), '--resume');

describe('interrupting training', () => {
  let images: string;
  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'fewmark-interrupt-'));
    const r = fewmark('phantom', '--out', join(dir, 'ph'), '--n', '4', '--size', '128');
    assert.equal(r.code, 0, r.err);
    images = join(dir, 'ph', 'images');
  });

  test('SIGTERM stops after the step with a checkpoint; --resume goes on from it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-model-'));
    const run = startTraining(images, out, 2);
    await run.reached;
    const code = await run.stop('SIGTERM');
    assert.equal(code, 143, run.output().err);
    const saved = lastCheckpoint(run.output().err);
    assert.ok(saved >= 2, run.output().err);
    assert.ok(existsSync(join(out, 'checkpoint.safetensors')));

    const resumed = resumeTraining(images, out, String(saved + 1));
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, new RegExp(`trained ${saved + 1} steps`));
  });

  test('Ctrl-C twice quits at once and the last checkpoint stays whole; stale temporaries go', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-model-'));
    const first = startTraining(images, out, 1);
    await first.reached;
    assert.equal(await first.stop('SIGINT'), 130);
    const saved = lastCheckpoint(first.output().err);

    // A write killed mid-way leaves a temporary file named after a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    const stale = `.checkpoint.safetensors.${dead}.1.tmp`;
    writeFileSync(join(out, stale), Buffer.alloc(1024));

    const second = startTraining(images, out, saved + 1, '--resume');
    await second.reached;
    assert.ok(!existsSync(join(out, stale)), 'the stale temporary file was not removed');
    second.child.kill('SIGINT');
    second.child.kill('SIGINT');
    const code = await second.stop('SIGINT');
    assert.equal(code, 130, second.output().err);

    // Whatever the second signal cut short, a checkpoint loads and resumes.
    const resumed = resumeTraining(images, out, String(saved + 3));
    assert.equal(resumed.code, 0, resumed.err);
    assert.deepEqual(
      readdirSync(out).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  test('started with FEWMARK_EXIT_WITH_PARENT (as the server does), it stops when that process is killed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-model-'));
    // A stand-in server: starts training detached, as src/web/jobs.ts does, and waits.
    const server = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         const child = spawn(process.execPath, process.argv.slice(1), {
           detached: true, stdio: 'ignore', env: { ...process.env, FEWMARK_EXIT_WITH_PARENT: String(process.pid) },
         });
         console.log(child.pid);
         setInterval(() => {}, 1000);`,
        main,
        ...longTraining(images, out),
      ],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pid = await new Promise<number>((resolve) =>
      server.stdout!.once('data', (d) => resolve(Number(String(d).trim()))),
    );
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(alive(), 'the job did not start');
    server.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const survived = alive();
    if (survived) process.kill(pid, 'SIGKILL');
    assert.ok(!survived, 'the job outlived the process that started it');
  });

  test('--resume without a checkpoint says so', () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-model-'));
    const r = fewmark('train', '--images', images, '--out', out, '--size', '64', '--steps', '2', '--resume');
    assert.equal(r.code, 2);
    assert.match(r.err, /nothing to resume/);
  });

  test('--steps 0 is refused (it trained forever)', () => {
    const out = mkdtempSync(join(tmpdir(), 'fewmark-model-'));
    for (const verb of [['train'], ['refine', '--model', out, '--templates', 'labels.csv']]) {
      const r = fewmark(...verb, '--images', images, '--out', out, '--steps', '0');
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /--steps/);
    }
  });
});
