// Engine benchmark: a training step (Adam) of the feature extractor on
// 4x1x256x256, its inference on 1x1x384x384, and a 128x128 @ 128x16384
// matmul, each through fewmark's binding and as the same work in a plain
// C++ program (bench/native/engine_bench.cc), printed as one table.
//
//   node dist/bench/engine.js [--reps 12] [--rounds 2] [--json out.json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { defaultExtractorConfig, FeatureExtractor } from '../src/features/model.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '12' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const reps = Number(args.reps);
const rounds = Number(args.rounds);
const threads = E.threads();

type Timings = { train: number[]; infer: number[]; matmul: number[] };

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** The work through fewmark's TypeScript engine. */
function runFewmark(): Timings {
  E.seed(0);
  const net = new FeatureExtractor(defaultExtractorConfig);
  const adam = new E.Adam(net.parameters(), { lr: 1e-3 });
  const x = E.randn([4, 1, 256, 256]).keep();
  const xi = E.randn([1, 1, 384, 384]).keep();
  const a = E.randn([128, 128]).keep();
  const b = E.randn([128, 16384]).keep();
  const out: Timings = { train: [], infer: [], matmul: [] };
  const trainStep = () =>
    E.tidy(() => {
      const outs = net.forward(x);
      let loss = outs[0]!.square().mean();
      for (const o of outs.slice(1)) loss = loss.add(o.square().mean());
      adam.zeroGrad();
      loss.backward();
      adam.step();
    });
  for (let r = 0; r < reps + 2; r++) {
    const t = time(trainStep);
    if (r >= 2) out.train.push(t);
  }
  net.eval();
  for (let r = 0; r < reps + 2; r++) {
    const t = time(() => E.noGrad(() => E.tidy(() => void net.forward(xi))));
    if (r >= 2) out.infer.push(t);
  }
  for (let r = 0; r < reps * 5 + 2; r++) {
    const t = time(() => E.tidy(() => void E.matmul(a, b)));
    if (r >= 2) out.matmul.push(t);
  }
  for (const t of [x, xi, a, b]) t.dispose();
  net.dispose();
  adam.dispose();
  return out;
}

/** Builds (once) and runs the plain C++ version of the same work. */
function runPlainCpp(): Timings {
  const source = join(root, 'bench', 'native', 'engine_bench.cc');
  const binary = join(root, '.cache', 'bench', 'engine_bench');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(dirname(binary), { recursive: true });
    process.stderr.write('compiling bench/native/engine_bench.cc (about 20 s)...\n');
    execFileSync('g++', [
      '-O2',
      '-std=c++17',
      source,
      '-I/usr/include/torch/csrc/api/include',
      '-ltorch',
      '-ltorch_cpu',
      '-lc10',
      '-o',
      binary,
    ]);
  }
  return JSON.parse(execFileSync(binary, [String(reps), String(threads)], { encoding: 'utf8' })) as Timings;
}

const conv = FeatureExtractor.convFlops(defaultExtractorConfig, 1, 1, 1); // per pixel of a 1x1x1x1 input
const work = {
  // Forward conv FLOPs; a training step counts 3x (forward, grad of inputs, grad of weights).
  train: 3 * conv * 4 * 256 * 256,
  infer: conv * 384 * 384,
  matmul: 2 * 128 * 128 * 16384,
};
const targets = { train: 50, infer: 0, matmul: 100 };

const fewmark: Timings = { train: [], infer: [], matmul: [] };
const plain: Timings = { train: [], infer: [], matmul: [] };
for (let round = 0; round < rounds; round++) {
  process.stderr.write(`round ${round + 1}/${rounds}: plain C++...\n`);
  const c = runPlainCpp();
  process.stderr.write(`round ${round + 1}/${rounds}: fewmark...\n`);
  const f = runFewmark();
  for (const k of ['train', 'infer', 'matmul'] as const) {
    plain[k].push(...c[k]);
    fewmark[k].push(...f[k]);
  }
}

const labels = {
  train: 'train step, Adam, 4x1x256x256',
  infer: 'inference, 1x1x384x384',
  matmul: 'matmul 128x128 @ 128x16384',
};
const rows = (['train', 'infer', 'matmul'] as const).map((k) => {
  const f = median(fewmark[k]);
  const c = median(plain[k]);
  const gflops = work[k] / f / 1e6;
  return {
    work: labels[k],
    fewmarkMs: f,
    fewmarkGflops: gflops,
    plainMs: c,
    plainGflops: work[k] / c / 1e6,
    overheadPct: ((f - c) / c) * 100,
    target: targets[k] ? `>= ${targets[k]} GFLOP/s: ${gflops >= targets[k] ? 'met' : 'NOT met'}` : '',
  };
});

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nfewmark engine benchmark — ${cpu}, ${availableParallelism()} cores, ${threads} torch threads`);
console.log(`median of ${reps * rounds} timed runs (matmul ${reps * 5 * rounds}) after warm-up\n`);
console.log('| work | fewmark ms | GFLOP/s | plain C++ ms | GFLOP/s | binding overhead | target |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.work} | ${r.fewmarkMs.toFixed(1)} | ${r.fewmarkGflops.toFixed(1)} | ${r.plainMs.toFixed(1)} | ${r.plainGflops.toFixed(1)} | ${r.overheadPct >= 0 ? '+' : ''}${r.overheadPct.toFixed(1)}% | ${r.target} |`,
  );
console.log(
  '\nGFLOP/s counts convolution and matmul FLOPs only (2 per multiply-add). Overhead target: <= 5%.',
);
if (args.json)
  await writeFileAtomic(args.json, JSON.stringify({ cpu, threads, reps, rounds, rows }, null, 2));
