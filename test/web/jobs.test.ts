// Detection as a background job from the API: it needs a model and a
// labeled image, runs `fewmark detect` in a child process with progress,
// and its predictions become the project's; a failing run says why, and a
// job can be cancelled.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { train } from '../../src/api/index.js';
import { isMissing } from '../../src/io/types.js';
import { initProject } from '../../src/project/init.js';
import { Project } from '../../src/project/project.js';
import type { Job } from '../../src/web/jobs.js';
import { createServer, type ServerContext } from '../../src/web/server.js';
import { type Fixture, makeFixture } from '../project/fixture.js';

let f: Fixture;
let app: FastifyInstance;
let context: ServerContext;
let model: string;

const get = async (url: string) => (await app.inject({ method: 'GET', url })).json();
const startJob = async (kind: string, more: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: '/api/jobs', payload: { kind, ...more } });

async function waitFor(id: string, timeoutMs = 30_000): Promise<Job> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { job } = await get(`/api/jobs/${id}`);
    if (job.state !== 'running') return job;
    if (Date.now() > until) throw new Error(`job ${id} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  f = await makeFixture({ n: 4, size: 64, landmarks: 3 });
  model = join(f.root, 'model');
  await train({ images: f.images, out: model, steps: 2, config: { inputSize: 64, batchSize: 2 } });
  await initProject({ project: f.project, model });
  ({ app, context } = await createServer(await Project.open(f.project)));
});
after(() => app.close());

describe('background jobs', () => {
  test('detection needs a labeled image, then runs with progress and its predictions are shown', async () => {
    const early = await startJob('detect');
    assert.equal(early.statusCode, 409);
    assert.match(early.json().error, /no labeled image yet/);

    const template = f.truth.images.find((im) => im.points.every((p) => !isMissing(p)))!;
    const points = template.points.map((p) => [p.x, p.y]);
    const saved = await app.inject({
      method: 'PUT',
      url: `/api/images/${template.image}/annotation`,
      payload: { points },
    });
    assert.equal(saved.statusCode, 200);

    const started = await startJob('detect');
    assert.equal(started.statusCode, 202);
    const again = await startJob('detect');
    assert.equal(again.statusCode, 409, 'one job at a time');
    const job = await waitFor(started.json().job.id);
    assert.equal(job.state, 'done', JSON.stringify(job));
    assert.deepEqual(job.progress, { label: 'detecting', done: 3, total: 3 });

    const review = await get('/api/review');
    assert.equal(review.predictions, job.output);
    const predicted = review.items.filter((i: { predicted: boolean }) => i.predicted);
    assert.equal(predicted.length, 3);
    for (const i of predicted) assert.ok(i.lowest > 0 && i.lowest <= 1, JSON.stringify(i));
    const other = predicted[0].image;
    const view = await get(`/api/images/${other}`);
    assert.equal(view.prediction.points.length, 3);
    assert.equal(view.prediction.templateOf[0], template.image);
    assert.equal((await get('/api/project')).predictions.name, job.output);
  });

  test('choose next: fewmark select --labeled picks images around the labeled one, and its ranking becomes the queue', async () => {
    const labeled = (await get('/api/review')).items.filter((i: { status: string }) => i.status === 'done');
    assert.equal(labeled.length, 1, 'the detection test labeled one image');
    assert.equal((await startJob('select', { budget: 0 })).statusCode, 400);

    const started = await startJob('select', { budget: 2 });
    assert.equal(started.statusCode, 202, started.body);
    const job = await waitFor(started.json().job.id, 60_000);
    assert.equal(job.state, 'done', JSON.stringify(job));
    const project = await get('/api/project');
    assert.equal(project.selection.name, job.output);
    assert.equal(project.selection.strategy, 'medoids');
    const queue = await get('/api/queue');
    assert.equal(queue.selection, job.output);
    assert.equal(queue.items.length, 2);
    assert.ok(
      queue.items.every((i: { image: string }) => i.image !== labeled[0].image),
      'the labeled image is not chosen again',
    );
    assert.deepEqual(
      queue.items.map((i: { rank: number }) => i.rank),
      [1, 2],
    );
    // The new queue is the project's: it is there after a reopen.
    const reopened = await Project.open(f.project);
    assert.equal(reopened.manifest.selection, job.output);
    assert.deepEqual(
      reopened.queue().map((i) => i.image),
      queue.items.map((i: { image: string }) => i.image),
    );

    // Asking for more than is left chooses what is left.
    const rest = await waitFor((await startJob('select', { budget: 50 })).json().job.id, 60_000);
    assert.equal(rest.state, 'done', JSON.stringify(rest));
    assert.equal((await get('/api/queue')).items.length, 3);
  });

  test('a job can be cancelled; a failing run says why', async () => {
    const started = await startJob('detect');
    const id = started.json().job.id;
    const cancelled = await app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    assert.equal(cancelled.json().job.state, 'cancelled');
    await context.jobs.idle();
    assert.equal((await waitFor(id)).state, 'cancelled');

    rmSync(join(model, 'extractor.safetensors'));
    const failing = await startJob('detect');
    const job = await waitFor(failing.json().job.id);
    assert.equal(job.state, 'failed');
    assert.match(job.message ?? '', /no trained extractor \(extractor\.safetensors\)/);
    assert.equal(
      (await get('/api/jobs')).available.refine,
      null,
      'refinement is offered once images are labeled',
    );
  });
});
