// One process against local workers on a Redis queue (issue 16, item 5):
// the same per-image work (`fewmark features --embeddings-only` on a fresh
// cache, and `fewmark detect` from 5 templates without a cache) done by one
// fewmark process with FEWMARK_THREADS=2, and by two `fewmark worker`s with
// FEWMARK_THREADS=1 each behind the coordinating command. Starts its own
// redis-server on a free loopback port. Run it alone on the machine.
//
//   node dist/bench/queue-scaling.js --model runs/isbi-384-spin --images DIR --templates T.csv [--count 300]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXTRACTOR_FILE } from '../src/features/checkpoint.js';
import { readAnnotations } from '../src/io/formats/index.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    images: { type: 'string' },
    templates: { type: 'string' },
    count: { type: 'string', default: '300' },
  },
});
if (!a.model || !a.images || !a.templates) throw new Error('pass --model, --images and --templates');
const cli = join(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const log = (s: string) => process.stderr.write(`${s}\n`);
const work = mkdtempSync(join(tmpdir(), 'fewmark-queue-scaling-'));

// The first --count images (templates included, detect skips them), as links in a folder of their own.
const templateIds = new Set((await readAnnotations(a.templates)).images.map((i) => i.image));
const all = readdirSync(a.images).sort();
const chosen = [
  ...all.filter((f) => templateIds.has(f.replace(/\.[^.]+$/, ''))),
  ...all.filter((f) => !templateIds.has(f.replace(/\.[^.]+$/, ''))),
].slice(0, Number(a.count));
const images = join(work, 'images');
mkdirSync(images);
for (const f of chosen) symlinkSync(resolve(a.images, f), join(images, f));

/** A model folder with an empty cache. */
let models = 0;
function freshModel(): string {
  const dir = join(work, `model-${models++}`);
  mkdirSync(dir);
  copyFileSync(join(resolve(a.model!), EXTRACTOR_FILE), join(dir, EXTRACTOR_FILE));
  return dir;
}

function run(args: string[], threads: number): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], {
    env: { ...process.env, FEWMARK_THREADS: String(threads) },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`fewmark ${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - t) / 1000;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const port = await freePort();
const queue = `redis://127.0.0.1:${port}`;
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
await new Promise((r) => setTimeout(r, 500));

async function withWorkers<T>(count: number, threads: number, fn: () => T): Promise<T> {
  const workers: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [cli, 'worker', '--queue', queue], {
      env: { ...process.env, FEWMARK_THREADS: String(threads) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    await new Promise<void>((ready) =>
      child.stderr!.on('data', (d) => {
        text += d;
        if (/ready on/.test(text)) ready();
      }),
    );
    workers.push(child);
  }
  try {
    return fn();
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => w.on('exit', r))));
  }
}

const detectArgs = (model: string, out: string) => [
  'detect',
  '--model',
  model,
  '--templates',
  resolve(a.templates!),
  '--images',
  images,
  '--out',
  join(work, out, 'pred.csv'),
  '--no-cache',
];
const featuresArgs = (model: string) => [
  'features',
  '--model',
  model,
  '--images',
  images,
  '--embeddings-only',
];
const n = chosen.length;
const detected = n - templateIds.size;
const rows: [string, string, number, number][] = [];
try {
  log(`features (embeddings only) of ${n} images`);
  rows.push(['features --embeddings-only', 'one process, 2 threads', n, run(featuresArgs(freshModel()), 2)]);
  rows.push([
    'features --embeddings-only',
    'two local workers, 1 thread each',
    n,
    await withWorkers(2, 1, () => run([...featuresArgs(freshModel()), '--queue', queue], 1)),
  ]);
  log(`detect, ${detected} images from ${templateIds.size} templates, no cache`);
  rows.push([
    'detect --no-cache',
    'one process, 2 threads',
    detected,
    run(detectArgs(freshModel(), 'one'), 2),
  ]);
  rows.push([
    'detect --no-cache',
    'two local workers, 1 thread each',
    detected,
    await withWorkers(2, 1, () => run([...detectArgs(freshModel(), 'two'), '--queue', queue], 1)),
  ]);
} finally {
  redis.kill('SIGKILL');
  spawnSync('rm', ['-rf', work]);
}

console.log(
  `\nOne process against two local workers (this machine: ${(await import('node:os')).cpus().length} cores; wall time of the command, workers started before)\n`,
);
console.log('| work | how | images | wall s | images/s |');
console.log('|---|---|---:|---:|---:|');
for (const [what, how, count, seconds] of rows)
  console.log(`| ${what} | ${how} | ${count} | ${seconds.toFixed(1)} | ${(count / seconds).toFixed(1)} |`);
