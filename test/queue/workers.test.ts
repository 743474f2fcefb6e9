// Work fanned out through a Redis queue to two workers: the output equals
// the single-process run byte for byte, a worker killed mid-job loses and
// duplicates nothing, a job that keeps failing is retried and then named,
// and feature extraction done twice writes nothing new. Starts its own
// redis-server on a free loopback port; skips when there is none.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const env = {
  ...process.env,
  FEWMARK_THREADS: '1',
  // A killed worker's job comes back after ~2 s instead of ~20 s.
  FEWMARK_QUEUE_LOCK_MS: '1500',
  FEWMARK_QUEUE_STALLED_MS: '500',
};

const hasRedis = !spawnSync('redis-server', ['--version']).error;

function fewmark(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Worker {
  child: ChildProcess;
  log: string;
  exit: Promise<number | null>;
}

async function startWorker(queue: string, delayMs: number): Promise<Worker> {
  const child = spawn(process.execPath, [main, 'worker', '--queue', queue], {
    env: { ...env, FEWMARK_QUEUE_TEST_DELAY_MS: String(delayMs) },
  });
  const w: Worker = { child, log: '', exit: new Promise((r) => child.on('exit', r)) };
  child.stderr!.on('data', (d) => (w.log += d));
  await until('a worker to be ready', () => /ready on/.test(w.log));
  return w;
}

/** The images each worker reported done in its log since `from` (a log length per worker). */
const doneIn = (log: string, from = 0) =>
  [...log.slice(from).matchAll(/done detect \S+\/([^/\s]+)\.png/g)].map((m) => m[1]!);

describe('workers on a Redis queue', { skip: hasRedis ? false : 'redis-server is not on PATH' }, () => {
  let dir: string;
  let queue: string;
  let redis: ChildProcess;
  let images: string;
  let labels: string;
  const workers: Worker[] = [];
  /** detect's arguments for the phantoms, writing `out`. */
  const detectArgs = (out: string, folder = images) => [
    'detect',
    '--model',
    join(dir, 'model'),
    '--templates',
    labels,
    '--images',
    folder,
    '--out',
    out,
    '--no-cache',
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fewmark-queue-'));
    const port = await freePort();
    queue = `redis://127.0.0.1:${port}`;
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let redisLog = '';
    redis.stdout!.on('data', (d) => (redisLog += d));
    const ph = await fewmark('phantom', '--out', join(dir, 'ph'), '--n', '6', '--size', '128');
    assert.equal(ph.code, 0, ph.err);
    images = join(dir, 'ph', 'images');
    const tr = await fewmark(
      'train',
      '--images',
      images,
      '--out',
      join(dir, 'model'),
      '--size',
      '64',
      '--steps',
      '2',
    );
    assert.equal(tr.code, 0, tr.err);
    labels = join(dir, 'templates.csv');
    const rows = readFileSync(join(dir, 'ph', 'landmarks.csv'), 'utf8').split('\n');
    writeFileSync(labels, `${rows.slice(0, 3).join('\n')}\n`); // two templates
    await until('redis-server', () => /Ready to accept connections/.test(redisLog));
    workers.push(await startWorker(queue, 300), await startWorker(queue, 300));
  });

  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  test('detect --queue writes the single-process output byte for byte', async () => {
    const single = await fewmark(...detectArgs(join(dir, 'single.csv')));
    assert.equal(single.code, 0, single.err);
    const q = await fewmark(...detectArgs(join(dir, 'queued.csv')), '--queue', queue);
    assert.equal(q.code, 0, q.err);
    assert.match(q.out, /detected landmarks on 4 images with 2 template\(s\)/);
    assert.deepEqual(readFileSync(join(dir, 'queued.csv')), readFileSync(join(dir, 'single.csv')));
    assert.deepEqual(
      readFileSync(join(dir, 'queued.csv.detections.json')),
      readFileSync(join(dir, 'single.csv.detections.json')),
    );
    assert.ok(!existsSync(join(dir, 'queued.csv.parts')), 'the parts folder is removed');
    // Both workers took part (4 jobs of 0.3 s each, taken one at a time).
    assert.ok(
      workers.every((w) => doneIn(w.log).length > 0),
      workers.map((w) => w.log).join('\n'),
    );
  });

  test('a refined model (both stages) detects the same through the queue', async () => {
    const refined = join(dir, 'refined');
    const r = await fewmark(
      'refine',
      ...['--model', join(dir, 'model'), '--templates', labels, '--images', images, '--out', refined],
      ...['--steps', '2', '--rounds', '1', '--cycles', '1', '--fine-steps', '2', '--size', '64'],
    );
    assert.equal(r.code, 0, r.err);
    const args = (out: string) => ['detect', '--model', refined, '--images', images, '--out', join(dir, out)];
    const single = await fewmark(...args('refined-single.csv'));
    assert.equal(single.code, 0, single.err);
    const q = await fewmark(...args('refined-queued.csv'), '--queue', queue);
    assert.equal(q.code, 0, q.err);
    assert.deepEqual(
      readFileSync(join(dir, 'refined-queued.csv.detections.json')),
      readFileSync(join(dir, 'refined-single.csv.detections.json')),
    );
    assert.deepEqual(
      readFileSync(join(dir, 'refined-queued.csv')),
      readFileSync(join(dir, 'refined-single.csv')),
    );
  });

  test('a worker killed mid-job loses and duplicates nothing', async () => {
    const from = workers.map((w) => w.log.length);
    const run = fewmark(...detectArgs(join(dir, 'killed.csv')), '--queue', queue);
    const [victim, survivor] = workers as [Worker, Worker];
    await until('the first job to start', () => /started detect/.test(victim.log.slice(from[0])));
    victim.child.kill('SIGKILL');
    await victim.exit;
    const r = await run;
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readFileSync(join(dir, 'killed.csv')), readFileSync(join(dir, 'single.csv')));
    assert.deepEqual(
      readFileSync(join(dir, 'killed.csv.detections.json')),
      readFileSync(join(dir, 'single.csv.detections.json')),
    );
    // Every image done exactly once, all by the survivor (the victim died before finishing any).
    assert.deepEqual(doneIn(victim.log, from[0]), []);
    assert.deepEqual(doneIn(survivor.log, from[1]).sort(), [
      'phantom-002',
      'phantom-003',
      'phantom-004',
      'phantom-005',
    ]);
    assert.match(survivor.log.slice(from[1]), /left by a worker that stopped/);
    workers[0] = await startWorker(queue, 0);
  });

  test('a job that keeps failing is retried, then the image is named', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    for (const name of readdirSync(images)) copyFileSync(join(images, name), join(broken, name));
    writeFileSync(join(broken, 'phantom-zzz.png'), 'not a png');
    const from = workers.map((w) => w.log.length);
    const r = await fewmark(...detectArgs(join(dir, 'broken.csv'), broken), '--queue', queue);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /phantom-zzz\.png: job detect-\w+ failed 3 times: /);
    assert.ok(!existsSync(join(dir, 'broken.csv')), 'no output');
    const tries = workers
      .map((w, i) => w.log.slice(from[i]))
      .join('')
      .match(/failed detect \S+phantom-zzz/g);
    assert.equal(tries?.length, 3, 'three tries');
  });

  test('features --queue fills the cache, and a second run writes nothing new', async () => {
    // A model folder of its own, so that no earlier test has filled its cache.
    const model = join(dir, 'model-features');
    mkdirSync(model);
    copyFileSync(join(dir, 'model', 'extractor.safetensors'), join(model, 'extractor.safetensors'));
    const features = (...extra: string[]) =>
      fewmark('features', '--model', model, '--images', images, ...extra);
    const logs = (from: number[]) => workers.map((w, i) => w.log.slice(from[i])).join('');
    let from = workers.map((w) => w.log.length);
    const first = await features('--queue', queue);
    assert.equal(first.code, 0, first.err);
    assert.equal(logs(from).match(/features \S+: computed/g)?.length, 6, logs(from));
    const cache = /in the cache: (.+)$/m.exec(first.out)![1]!;
    const snapshot = () =>
      readdirSync(cache)
        .sort()
        .map((n) => `${n} ${statSync(join(cache, n)).mtimeMs}`);
    const files = snapshot();
    assert.equal(files.length, 12, files.join('\n'));
    assert.equal(files.filter((f) => /^[0-9a-f]{24}\.safetensors /.test(f)).length, 6, 'pyramids');
    assert.equal(files.filter((f) => /^[0-9a-f]{24}\.embedding-v1\.f32 /.test(f)).length, 6, 'embeddings');
    from = workers.map((w) => w.log.length);
    const second = await features('--queue', queue);
    assert.equal(second.code, 0, second.err);
    assert.deepEqual(snapshot(), files);
    assert.equal(logs(from).match(/already in the cache/g)?.length, 6, logs(from));
    // The single-process run agrees: everything is there already.
    const local = await features();
    assert.match(local.out, /\(0 computed, 6 already there\)/);
  });

  test("select --queue: the SCP's similarity columns on the workers give the same choice", async () => {
    const select = (out: string, ...extra: string[]) =>
      fewmark(
        'select',
        '--images',
        images,
        '--model',
        join(dir, 'model'),
        '--budget',
        '2',
        '--strategy',
        'scp',
        '--max-keypoints',
        '20',
        '--out',
        join(dir, out),
        ...extra,
      );
    const chosen = (out: string) => {
      const j = JSON.parse(readFileSync(join(dir, out, 'selection.json'), 'utf8'));
      return { ranked: j.ranked.map((r: { image: string; score: number }) => [r.image, r.score]), R: j.R };
    };
    for (const scale of ['exact', 'sampled']) {
      const from = workers.map((w) => w.log.length);
      const queued = await select(`select-q-${scale}`, '--scale', scale, '--queue', queue);
      assert.equal(queued.code, 0, queued.err);
      const jobs = workers.map((w, i) => w.log.slice(from[i]!)).join('');
      assert.ok((jobs.match(/done similarity/g)?.length ?? 0) >= 6, jobs);
      assert.equal(jobs.match(/done features/g)?.length, 6, "the pool's features first, on the workers");
      const local = await select(`select-l-${scale}`, '--scale', scale);
      assert.equal(local.code, 0, local.err);
      assert.deepEqual(chosen(`select-q-${scale}`), chosen(`select-l-${scale}`), scale);
    }
  });

  test('a bad URL and an unreachable server are named, fast', async () => {
    const bad = await fewmark(...detectArgs(join(dir, 'x.csv')), '--queue', 'http://127.0.0.1');
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /'http:\/\/127\.0\.0\.1' is invalid\. the scheme is http; expected redis:\/\/HOST/);
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const t0 = Date.now();
    const gone = await fewmark(...detectArgs(join(dir, 'x.csv')), '--queue', closed);
    assert.equal(gone.code, 1, gone.err);
    assert.ok(gone.err.includes(`--queue ${closed}: no Redis server answers there (ECONNREFUSED)`), gone.err);
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(!existsSync(join(dir, 'x.csv')));
  });

  test('a worker stops cleanly on SIGTERM', async () => {
    const w = workers.pop()!;
    w.child.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.log);
    assert.match(w.log, /SIGTERM: finishing the job in hand[\s\S]*stopped/);
  });
});
