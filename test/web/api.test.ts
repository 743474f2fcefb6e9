// The annotation API through Fastify's inject (no sockets): reading the
// project, saving landmarks, review of predictions, exports, and the
// safety rules (validation with 4xx messages, body limit, no file outside
// the project reachable, local hosts only).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { readAnnotations } from '../../src/io/formats/index.js';
import { DETECTIONS_FILE, predictionDir } from '../../src/project/predictions.js';
import { Project } from '../../src/project/project.js';
import { createServer } from '../../src/web/server.js';
import { type Fixture, makeFixture } from '../project/fixture.js';

let f: Fixture;
let app: FastifyInstance;
let project: Project;

async function call(o: InjectOptions) {
  const res = await app.inject(o);
  const body = res.headers['content-type']?.toString().startsWith('application/json') ? res.json() : res.body;
  return { status: res.statusCode, body, raw: res };
}
const put = (url: string, payload: unknown) => call({ method: 'PUT', url, payload: payload as object });

before(async () => {
  f = await makeFixture({
    n: 4,
    size: 64,
    landmarks: 3,
    ranked: ['phantom-001', 'phantom-003'],
    spacing: 0.5,
  });
  project = await Project.open(f.project);
  ({ app } = await createServer(project));
});
after(() => app.close());

describe('annotation API', () => {
  test('project summary, queue from the selection, an image and its PNG', async () => {
    const p = await call({ method: 'GET', url: '/api/project' });
    assert.equal(p.status, 200);
    assert.deepEqual(p.body.landmarks, f.truth.names);
    assert.equal(p.body.selection.name, 'select-out');
    assert.match(p.body.jobs.detect, /no trained model/);
    const q = await call({ method: 'GET', url: '/api/queue' });
    assert.deepEqual(
      q.body.items.map((i: { image: string }) => i.image),
      ['phantom-001', 'phantom-003'],
    );
    const im = await call({ method: 'GET', url: '/api/images/phantom-001' });
    assert.deepEqual(
      { w: im.body.width, h: im.body.height, s: im.body.spacing.x, a: im.body.annotation },
      { w: 64, h: 64, s: 0.5, a: null },
    );
    const png = await call({ method: 'GET', url: '/api/images/phantom-001/display.png' });
    assert.equal(png.status, 200);
    assert.equal(png.raw.headers['content-type'], 'image/png');
    assert.deepEqual([...png.raw.rawPayload.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    const page = await call({ method: 'GET', url: '/' });
    assert.match(String(page.body), /fewmark annotator/);
    assert.equal((await call({ method: 'GET', url: '/js/app.js' })).status, 200);
  });

  test('place, move and delete landmarks: each reply is on disk, previous versions kept', async () => {
    const url = '/api/images/phantom-003/landmarks';
    let r = await put(`${url}/0`, { x: 10.25, y: 20.5 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.annotation.points, [[10.25, 20.5], null, null]);
    assert.equal(r.body.annotation.status, 'partial');
    r = await put(`${url}/0`, { x: 11, y: 21 });
    r = await put(`${url}/1`, { x: 30, y: 40 });
    r = await put(`${url}/2`, { x: -0.5, y: 63.5 });
    assert.equal(r.body.annotation.status, 'done');
    assert.equal(r.body.annotation.revision, 4);
    const onDisk = JSON.parse(readFileSync(join(f.project, 'annotations', 'phantom-003.json'), 'utf8'));
    assert.deepEqual(onDisk.points, [
      [11, 21],
      [30, 40],
      [-0.5, 63.5],
    ]);
    r = await call({ method: 'DELETE', url: `${url}/1` });
    assert.deepEqual(r.body.annotation.points[1], null);
    assert.deepEqual(readdirSync(join(f.project, 'annotations', 'history', 'phantom-003')).sort(), [
      '1.json',
      '2.json',
      '3.json',
      '4.json',
    ]);
    // All at once (a corrected prediction, an undo).
    r = await put('/api/images/phantom-003/annotation', {
      points: [[1, 2], null, [3, 4]],
      source: 'corrected',
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.annotation.source, 'corrected');
    const q = await call({ method: 'GET', url: '/api/queue' });
    assert.equal(q.body.items[1].status, 'partial');
  });

  test('bad requests: 4xx with a message saying what is wrong', async () => {
    const url = '/api/images/phantom-001/landmarks/0';
    const cases: [string, InjectOptions, number, RegExp][] = [
      ['string coordinate', { method: 'PUT', url, payload: { x: '3', y: 4 } }, 400, /body\/x must be number/],
      ['missing y', { method: 'PUT', url, payload: { x: 3 } }, 400, /must have required property 'y'/],
      ['extra field', { method: 'PUT', url, payload: { x: 3, y: 4, z: 1 } }, 400, /must NOT have additional/],
      [
        'off the image',
        { method: 'PUT', url, payload: { x: 64, y: 4 } },
        400,
        /\(64, 4\) is off the image \(64 x 64/,
      ],
      [
        'unknown landmark',
        { method: 'PUT', url: '/api/images/phantom-001/landmarks/3', payload: { x: 1, y: 1 } },
        404,
        /no landmark 3: this project has landmarks 0 to 2/,
      ],
      [
        'landmark not a number',
        { method: 'PUT', url: '/api/images/phantom-001/landmarks/x', payload: { x: 1, y: 1 } },
        400,
        /params\/landmark must match pattern/,
      ],
      [
        'unknown image',
        { method: 'PUT', url: '/api/images/nope/landmarks/0', payload: { x: 1, y: 1 } },
        404,
        /no image 'nope' in this project/,
      ],
      [
        'not JSON',
        { method: 'PUT', url, payload: '{x:', headers: { 'content-type': 'application/json' } },
        400,
        /not valid JSON/,
      ],
      [
        'wrong content type',
        {
          method: 'PUT',
          url,
          payload: 'x=1',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        415,
        /Unsupported Media Type/i,
      ],
      [
        'too large',
        {
          method: 'PUT',
          url,
          payload: JSON.stringify({ x: 1, y: 1, pad: 'a'.repeat(70_000) }),
          headers: { 'content-type': 'application/json' },
        },
        413,
        /too large/,
      ],
      [
        'wrong point count',
        { method: 'PUT', url: '/api/images/phantom-001/annotation', payload: { points: [[1, 1]] } },
        400,
        /expected 3 \(one per landmark/,
      ],
      [
        'bad point',
        { method: 'PUT', url: '/api/images/phantom-001/annotation', payload: { points: [[1], null, null] } },
        400,
        /body\/points\/0/,
      ],
      [
        'bad source',
        {
          method: 'PUT',
          url: '/api/images/phantom-001/annotation',
          payload: { points: [null, null, null], source: 'robot' },
        },
        400,
        /body\/source/,
      ],
      [
        'no prediction',
        { method: 'POST', url: '/api/images/phantom-001/accept' },
        404,
        /no prediction for image 'phantom-001'/,
      ],
      [
        'unknown job kind',
        { method: 'POST', url: '/api/jobs', payload: { kind: 'train' } },
        400,
        /body\/kind must be equal to one of the allowed values/,
      ],
      [
        'job without a model',
        { method: 'POST', url: '/api/jobs', payload: { kind: 'detect' } },
        409,
        /cannot start detect: no trained model/,
      ],
      [
        'unknown export format',
        { method: 'POST', url: '/api/exports', payload: { kind: 'annotations', format: 'pdf' } },
        400,
        /unknown format 'pdf' \(known: wide-csv/,
      ],
      ['unknown route', { method: 'GET', url: '/api/nothing' }, 404, /not found: GET \/api\/nothing/],
    ];
    for (const [what, o, status, message] of cases) {
      const r = await call(o);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, message, what);
    }
    // None of these changed anything.
    assert.equal(project.annotations.get('phantom-001'), undefined);
  });

  test('nothing outside the project can be read or written', async () => {
    writeFileSync(join(f.root, 'secret.txt'), 'SECRET');
    const exportsDir = join(f.project, 'exports');
    mkdirSync(exportsDir, { recursive: true });
    symlinkSync(join(f.root, 'secret.txt'), join(exportsDir, 'link.csv'));
    const before = readdirSync(f.root).sort();
    const reads = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/js/../../secret.txt',
      '/js/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/api/images/..%2F..%2Fsecret/display.png',
      '/api/images/%2e%2e/display.png',
      '/api/images/..%2Fphantoms%2Flandmarks.csv',
      '/api/exports/..%2Fsecret.txt',
      '/api/exports/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/api/exports/link.csv',
      '/api/exports/..',
      '/api/exports/%2Fetc%2Fpasswd',
      '/fewmark-project.json',
      '/..%2f..%2fproject%2ffewmark-project.json',
    ];
    for (const url of reads) {
      const r = await call({ method: 'GET', url });
      assert.ok(r.status >= 400 && r.status < 500, `${url}: ${r.status}`);
      assert.doesNotMatch(JSON.stringify(r.body), /SECRET|"imagesDir"|root:/, url);
    }
    const writes = ['..%2F..%2Fevil', '..', '.', '%2Ftmp%2Fevil'];
    for (const id of writes) {
      const r = await put(`/api/images/${id}/landmarks/0`, { x: 1, y: 1 });
      assert.equal(r.status, 404, id);
    }
    assert.deepEqual(readdirSync(f.root).sort(), before);
  });

  test('only local host names; no changes from another origin', async () => {
    const evil = await call({ method: 'GET', url: '/api/project', headers: { host: 'evil.example:8765' } });
    assert.equal(evil.status, 403);
    assert.match(evil.body.error, /host 'evil.example:8765' is not served here/);
    const cross = await call({
      method: 'POST',
      url: '/api/images/phantom-001/accept',
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(cross.status, 403);
    assert.match(cross.body.error, /changes from origin http:\/\/evil.example are refused/);
    const same = await call({
      method: 'PUT',
      url: '/api/images/phantom-000/landmarks/0',
      payload: { x: 1, y: 1 },
      headers: { host: '127.0.0.1:8765', origin: 'http://127.0.0.1:8765' },
    });
    assert.equal(same.status, 200);
  });

  test('review: confidence order, accept one prediction, correct another; export both', async () => {
    const run = 'run-1';
    mkdirSync(predictionDir(f.project, run), { recursive: true });
    const det = (image: string, c: number[]) => ({
      image,
      points: c.map((_, k) => ({ x: 10 + k, y: 20 + k })),
      confidence: c,
      templateOf: c.map(() => 'phantom-003'),
    });
    writeFileSync(
      join(predictionDir(f.project, run), DETECTIONS_FILE),
      JSON.stringify({
        landmarks: f.truth.names,
        templates: ['phantom-003'],
        detections: [
          det('phantom-000', [0.9, 0.8, 0.95]),
          det('phantom-001', [0.7, 0.2, 0.9]),
          det('phantom-002', [0.6, 0.6, null as unknown as number]),
        ],
      }),
    );
    await project.usePredictions(run);
    const review = await call({ method: 'GET', url: '/api/review' });
    const byLowest = review.body.items
      .filter((i: { predicted: boolean }) => i.predicted)
      .sort((a: { lowest: number }, b: { lowest: number }) => a.lowest - b.lowest)
      .map((i: { image: string }) => i.image);
    assert.deepEqual(byLowest, ['phantom-001', 'phantom-002', 'phantom-000']);
    const im = await call({ method: 'GET', url: '/api/images/phantom-002' });
    assert.deepEqual(im.body.prediction.confidence, [0.6, 0.6, null]);

    const accepted = await call({ method: 'POST', url: '/api/images/phantom-001/accept' });
    assert.equal(accepted.status, 200);
    assert.deepEqual(accepted.body.annotation.points, [
      [10, 20],
      [11, 21],
      [12, 22],
    ]);
    assert.equal(accepted.body.annotation.source, 'accepted');
    assert.equal(accepted.body.annotation.status, 'done');
    const corrected = await put('/api/images/phantom-002/annotation', {
      points: [
        [10, 20],
        [30, 31],
        [12, 22],
      ],
      source: 'corrected',
    });
    assert.equal(corrected.body.annotation.status, 'done');
    assert.deepEqual(
      project.labeled().images.map((i) => i.image),
      ['phantom-001', 'phantom-002'].filter((id) => project.annotations.get(id)),
    );

    const ex = await call({
      method: 'POST',
      url: '/api/exports',
      payload: { kind: 'annotations', format: 'wide-csv' },
    });
    assert.equal(ex.status, 201);
    assert.match(ex.body.name, /^annotations-.*\.csv$/);
    const text = await call({ method: 'GET', url: ex.body.url });
    assert.equal(text.status, 200);
    assert.match(String(text.raw.headers['content-disposition']), /attachment; filename="annotations-/);
    const back = await readAnnotations(ex.body.path);
    assert.deepEqual(back.names, f.truth.names);
    assert.deepEqual(back.images.find((i) => i.image === 'phantom-002')!.points[1], { x: 30, y: 31 });

    const pe = await call({
      method: 'POST',
      url: '/api/exports',
      payload: { kind: 'predictions', format: 'slicer' },
    });
    assert.equal(pe.status, 201, JSON.stringify(pe.body));
    const slicer = await readAnnotations(pe.body.path);
    assert.equal(slicer.images.length, 3);
    assert.ok(Math.abs(slicer.images[0]!.points[0]!.x - 10) < 1e-6);
    const listed = await call({ method: 'GET', url: '/api/exports' });
    assert.ok(listed.body.exports.includes(pe.body.name));
  });
});
