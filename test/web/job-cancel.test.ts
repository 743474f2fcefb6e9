// Cancelling a job ends its whole process tree before the API says
// 'cancelled', and nothing the run writes afterwards becomes the project's
// predictions; one job runs at a time, even when two starts arrive in the
// same tick. The job runs a stand-in for the job worker (fast, no model):
// it starts a grandchild that keeps writing, like a tool that spawns
// workers, and prints both process ids.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { EXTRACTOR_FILE } from '../../src/features/checkpoint.js';
import { initProject } from '../../src/project/init.js';
import { DETECTIONS_FILE } from '../../src/project/predictions.js';
import { Project } from '../../src/project/project.js';
import type { Job } from '../../src/web/jobs.js';
import { createServer, type ServerContext } from '../../src/web/server.js';
import { type Fixture, makeFixture } from '../project/fixture.js';

// The stand-in worker (the job's JSON in argv[2]). Modes (fake.json): 'done' writes detections and exits 0;
// 'slow' exits 0 only 300 ms after SIGTERM, writing detections first (a run
// that finishes its work on the way out); 'stubborn' ignores SIGTERM.
const FAKE_WORKER = `
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
const { mode, detections } = JSON.parse(readFileSync(new URL('./fake.json', import.meta.url), 'utf8'));
const out = JSON.parse(process.argv[2]).out;
const finish = () => { writeFileSync(out + '.detections.json', detections); process.exit(0); };
if (mode === 'done') setTimeout(finish, 50);
else {
  // The SIGTERM handlers come first: once the pids line is out, the test may signal at once.
  if (mode === 'slow') process.on('SIGTERM', () => setTimeout(finish, 300));
  if (mode === 'stubborn') process.on('SIGTERM', () => {});
  const ticks = JSON.stringify(out + '.ticks');
  const worker = spawn(process.execPath, ['-e', 'setInterval(() => require("fs").appendFileSync(' + ticks + ', "x"), 10)'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  process.stderr.write('pids ' + process.pid + ' ' + worker.pid + '\\n');
  process.stderr.write('detecting 0/4\\n');
  setInterval(() => {}, 1000);
}
`;

let f: Fixture;
let app: FastifyInstance;
let context: ServerContext;

const GRACE_MS = 400;

function setMode(mode: 'done' | 'slow' | 'stubborn') {
  const detections = JSON.stringify({
    landmarks: f.truth.names,
    templates: [],
    detections: f.truth.images.map((im) => ({
      image: im.image,
      points: im.points.map(() => ({ x: 1, y: 1 })),
      confidence: im.points.map(() => 0.5),
    })),
  });
  writeFileSync(join(f.root, 'fake.json'), JSON.stringify({ mode, detections }));
}

/** Whether a process exists and is not a zombie (PID 1 here need not reap orphans). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const get = async (url: string) => (await app.inject({ method: 'GET', url })).json();
const start = () => app.inject({ method: 'POST', url: '/api/jobs', payload: { kind: 'detect' } });
const cancel = async (id: string) => (await app.inject({ method: 'DELETE', url: `/api/jobs/${id}` })).json();

/** Starts a job and waits for its process ids line. */
async function startRunning(): Promise<{ job: Job; pids: number[] }> {
  const r = await start();
  assert.equal(r.statusCode, 202, r.body);
  const id = r.json().job.id;
  for (let i = 0; i < 200; i++) {
    const { job } = await get(`/api/jobs/${id}`);
    const line = (job.log as string[]).find((l) => l.startsWith('pids '));
    if (line) return { job, pids: line.split(' ').slice(1).map(Number) };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the job never printed its process ids');
}

const ticksOf = (job: Job) => join(f.project, 'predictions', job.output, 'predictions.csv.ticks');
const sizeOf = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** Cancels through the API and checks the whole tree is gone when it answers. */
async function cancelAndCheck(job: Job, pids: number[]): Promise<Job> {
  const reply = await cancel(job.id);
  assert.equal(reply.job.state, 'cancelled', JSON.stringify(reply));
  for (const pid of pids) assert.ok(!alive(pid), `process ${pid} still runs after the API said cancelled`);
  const size = sizeOf(ticksOf(job));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sizeOf(ticksOf(job)), size, 'something of the job still writes');
  return reply.job;
}

before(async () => {
  f = await makeFixture({ n: 4, size: 64, landmarks: 3 });
  const model = join(f.root, 'model');
  mkdirSync(model);
  writeFileSync(join(model, EXTRACTOR_FILE), '');
  await initProject({ project: f.project, model });
  const worker = join(f.root, 'fake-worker.mjs');
  writeFileSync(worker, FAKE_WORKER);
  setMode('done');
  ({ app, context } = await createServer(await Project.open(f.project), { worker, graceMs: GRACE_MS }));
  const template = f.truth.images[0]!;
  await context.project.setPoints(
    template.image,
    template.points.map(() => ({ x: 2, y: 3 })),
    'manual',
  );
});
after(() => app.close());

describe('job cancellation', () => {
  test('cancel ends the process tree before it says cancelled; late output is not used', async () => {
    setMode('slow');
    const { job, pids } = await startRunning();
    await cancelAndCheck(job, pids);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(context.project.predictions, null, 'a cancelled run became the predictions');
    assert.equal(context.project.manifest.predictions, null);
  });

  test('cancel, start another at once, cancel it: neither keeps running', async () => {
    setMode('slow');
    for (let i = 0; i < 3; i++) {
      const a = await startRunning();
      await cancelAndCheck(a.job, a.pids);
      const b = await startRunning();
      await cancelAndCheck(b.job, b.pids);
    }
    assert.equal(context.project.predictions, null);
  });

  test('a run that ignores SIGTERM is killed after the grace period; no start while it ends', async () => {
    setMode('stubborn');
    const { job, pids } = await startRunning();
    const t0 = Date.now();
    const pending = cancel(job.id);
    await new Promise((r) => setTimeout(r, 50));
    const during = await start();
    assert.equal(during.statusCode, 409, 'a second job while the first is still ending');
    const reply = await pending;
    assert.equal(reply.job.state, 'cancelled');
    assert.ok(Date.now() - t0 >= GRACE_MS, `answered after ${Date.now() - t0} ms`);
    for (const pid of pids) assert.ok(!alive(pid), `process ${pid} survived SIGKILL`);
    assert.match(reply.job.message, /cancelled by the user/);
    const again = await cancel(job.id);
    assert.match(again.error, /is cancelled, not running/);
  });

  test('cancelled while its files are being written: it never starts a process', async () => {
    setMode('slow');
    const starting = context.jobs.start('detect');
    const job = context.jobs.running()!;
    const cancelled = await context.jobs.cancel(job.id);
    assert.equal((await starting).id, job.id);
    assert.equal(cancelled.state, 'cancelled');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(job.log, [], 'no process ran');
    assert.equal(context.jobs.running(), undefined);
  });

  test('two starts in the same tick: one runs, the other gets 409', async () => {
    setMode('done');
    const replies = await Promise.all([start(), start()]);
    assert.deepEqual(replies.map((r) => r.statusCode).sort(), [202, 409]);
    const conflict = replies.find((r) => r.statusCode === 409)!;
    assert.match(conflict.json().error, /cannot start detect: job .* is running/);
    await context.jobs.idle();
    const [direct, other] = await Promise.allSettled([
      context.jobs.start('detect'),
      context.jobs.start('detect'),
    ]);
    assert.equal(direct.status, 'fulfilled');
    assert.equal(other.status, 'rejected');
    await context.jobs.idle();
    const done = context.jobs.get((direct as PromiseFulfilledResult<Job>).value.id);
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.equal(context.project.predictions?.name, done.output);
    const file = join(f.project, 'predictions', done.output, DETECTIONS_FILE);
    assert.ok(statSync(file).size > 0);
  });
});
