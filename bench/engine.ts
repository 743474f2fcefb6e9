// Engine benchmark: a training step (Adam) of the feature extractor on
// 4x1x256x256, its inference on 1x1x384x384, and a 128x128 @ 128x16384
// matmul, each through fewmark's binding and as the same work in a plain
// C++ program (bench/native/engine_bench.cc), printed as one table.
//
//   node dist/bench/engine.js [--reps 12] [--rounds 2] [--json out.json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { median } from '../src/eval/metrics.js';
import { defaultExtractorConfig, FeatureExtractor } from '../src/features/model.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { extractorStep } from './extractor-step.js';

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
/** What each side computed, to check they did the same work. */
type Checks = { losses: number[]; outputSums: number[] };

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** The CPU's SIMD extensions that matter to oneDNN and ATen's kernels. */
function vectorExtensions(): string[] {
  const flags = new Set(
    (existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')
      .match(/^flags\s*:(.*)$/m)?.[1]
      ?.trim()
      .split(/\s+/) ?? [],
  );
  return [
    'avx',
    'avx2',
    'fma',
    'avx512f',
    'avx512bw',
    'avx512vl',
    'avx512_vnni',
    'avx512_bf16',
    'amx_tile',
  ].filter((f) => flags.has(f));
}

/** libtorch's settings that decide which kernels run on how many threads, in one line. */
function engineSettings(text: string): string {
  const find = (re: RegExp) => text.match(re)?.[1]?.trim() ?? '?';
  const env = [
    'OMP_WAIT_POLICY',
    'GOMP_SPINCOUNT',
    'ONEDNN_MAX_CPU_ISA',
    'DNNL_MAX_CPU_ISA',
    'ATEN_CPU_CAPABILITY',
  ]
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`);
  return [
    `libtorch ${find(/TORCH_VERSION=([^,]+)/)}`,
    `${find(/at::get_num_threads\(\) : (\d+)/)} threads`,
    `OpenMP ${find(/a\.k\.a\. OpenMP ([\d.]+)/)}`,
    `oneDNN ${find(/MKL-DNN (v[\d.]+)/)}`,
    `ATen CPU capability ${find(/CPU capability usage: (\w+)/)}`,
    `BLAS ${find(/BLAS_INFO=([^,]+)/)}`,
    ...env,
  ].join(', ');
}

const config = defaultExtractorConfig;

/**
 * fewmark's initial weights in the plain C++ program's order (per double
 * conv: conv1, conv2, norm1 weight and bias, norm2 weight and bias; then
 * the heads' weight and bias), followed by the two inputs.
 */
function stateForPlainCpp(net: FeatureExtractor, inputs: E.Tensor[]): Buffer {
  const state = net.stateDict();
  const names: string[] = [];
  for (const level of ['enc0', 'enc1', 'enc2', 'enc3', 'enc4', 'dec0', 'dec1', 'dec2', 'dec3'])
    for (const k of ['0.weight', '3.weight', '1.weight', '1.bias', '4.weight', '4.bias'])
      names.push(`${level}.${k}`);
  for (let k = 0; k < 5; k++) names.push(`head${k}.weight`, `head${k}.bias`);
  const tensors = [...names.map((n) => state[n]!), ...inputs];
  if (names.length !== net.parameters().length) throw new Error('the plain C++ network has other parameters');
  return Buffer.concat(tensors.map((t) => Buffer.from((t.data() as Float32Array).buffer)));
}

/** The work through fewmark's TypeScript engine; writes its starting state for the C++ side. */
function runFewmark(stateFile: string): Timings & Checks {
  E.seed(0);
  const net = new FeatureExtractor(config);
  const adam = new E.Adam(net.parameters(), { lr: 1e-3 });
  const x = E.randn([4, 1, 256, 256]).keep();
  const xi = E.randn([1, 1, 384, 384]).keep();
  const a = E.randn([128, 128]).keep();
  const b = E.randn([128, 16384]).keep();
  writeFileSync(stateFile, stateForPlainCpp(net, [x, xi]));
  const out: Timings & Checks = { train: [], infer: [], matmul: [], losses: [], outputSums: [] };
  const trainStep = () => extractorStep(net, adam, x);
  for (let r = 0; r < reps + 2; r++) {
    let loss: E.Tensor | undefined;
    const t = time(() => {
      loss = trainStep();
    });
    out.losses.push(loss!.item());
    loss!.dispose();
    if (r >= 2) out.train.push(t);
  }
  net.eval();
  for (let r = 0; r < reps + 2; r++) {
    let sums: number[] = [];
    const t = time(() =>
      E.noGrad(() =>
        E.tidy(() => {
          const outs = net.forward(xi);
          if (r === 0) sums = outs.map((o) => o.abs().sum().item());
        }),
      ),
    );
    if (r === 0) out.outputSums = sums;
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

/** Builds (once) and runs the plain C++ version of the same work, from fewmark's state. */
function runPlainCpp(stateFile: string): Timings & Checks & { config: string } {
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
  const out = execFileSync(
    binary,
    [String(reps), String(threads), config.widths.join(','), String(config.embedding), stateFile],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as Timings & Checks & { config: string };
}

const conv = FeatureExtractor.convFlops(config, 1, 1, 1); // per pixel of a 1x1x1x1 input
const work = {
  // Forward conv FLOPs; a training step counts 3x (forward, grad of inputs, grad of weights).
  train: 3 * conv * 4 * 256 * 256,
  infer: conv * 384 * 384,
  matmul: 2 * 128 * 128 * 16384,
};
const targets = { train: 50, infer: 0, matmul: 100 };

const stateFile = join(root, '.cache', 'bench', 'engine-state.f32');
mkdirSync(dirname(stateFile), { recursive: true });
const fewmark: Timings = { train: [], infer: [], matmul: [] };
const plain: Timings = { train: [], infer: [], matmul: [] };
let check: { fewmark: Checks; plain: Checks } | undefined;
let plainConfig = '';
for (let round = 0; round < rounds; round++) {
  process.stderr.write(`round ${round + 1}/${rounds}: fewmark...\n`);
  const f = runFewmark(stateFile);
  process.stderr.write(`round ${round + 1}/${rounds}: plain C++...\n`);
  const c = runPlainCpp(stateFile);
  check ??= { fewmark: f, plain: c };
  plainConfig = c.config;
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

/** Largest relative difference between what the two sides computed from the same weights and inputs. */
function sameWork(c: { fewmark: Checks; plain: Checks }): { lossDiff: number; outputDiff: number } {
  const rel = (p: number[], q: number[]) =>
    Math.max(...p.map((v, i) => Math.abs(v - q[i]!) / Math.max(Math.abs(q[i]!), 1e-12)));
  const steps = 3; // later steps drift apart as float rounding compounds through Adam
  return {
    lossDiff: rel(c.fewmark.losses.slice(0, steps), c.plain.losses.slice(0, steps)),
    outputDiff: rel(c.fewmark.outputSums, c.plain.outputSums),
  };
}
const same = sameWork(check!);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nfewmark engine benchmark — ${cpu}, ${availableParallelism()} cores, ${threads} torch threads`);
console.log(`vector extensions: ${vectorExtensions().join(' ') || 'unknown'}`);
console.log(`engine: ${engineSettings(E.engineConfig())}`);
console.log(
  `network: extractor widths ${config.widths.join('-')}, embedding ${config.embedding}, both sides`,
);
console.log(
  `same work: first ${3} training losses within ${(same.lossDiff * 100).toExponential(1)}%, inference outputs within ${(same.outputDiff * 100).toExponential(1)}% (same weights and inputs on both sides)`,
);
const threadLine = (t: string) => t.match(/at::get_num_threads\(\) : (\d+)/)?.[1];
if (threadLine(plainConfig) !== threadLine(E.engineConfig()))
  console.log(
    `plain C++ ran on ${threadLine(plainConfig)} threads, fewmark on ${threadLine(E.engineConfig())}`,
  );
console.log(`median of ${reps * rounds} timed runs (matmul ${reps * 5 * rounds}) after warm-up\n`);
console.log('| work | fewmark ms | GFLOP/s | plain C++ ms | GFLOP/s | binding overhead | target |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of rows)
  console.log(
    `| ${r.work} | ${r.fewmarkMs.toFixed(1)} | ${r.fewmarkGflops.toFixed(1)} | ${r.plainMs.toFixed(1)} | ${r.plainGflops.toFixed(1)} | ${r.overheadPct >= 0 ? '+' : ''}${r.overheadPct.toFixed(1)}% | ${r.target} |`,
  );
console.log(
  '\nGFLOP/s counts convolution and matmul FLOPs only (2 per multiply-add). Overhead target: <= 10%.',
);
if (same.lossDiff > 1e-3 || same.outputDiff > 1e-3) {
  console.log('\nThe two sides did NOT compute the same thing: the comparison above is not valid.');
  process.exitCode = 1;
}
if (args.json)
  await writeFileAtomic(
    args.json,
    JSON.stringify({ cpu, threads, reps, rounds, same, rows, fewmark, plain }, null, 2),
  );
