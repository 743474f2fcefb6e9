// Phantom generator benchmark: n images of size x size, rendered in memory
// and written to disk by `writePhantomDataset()` (PNG encoding, files, landmarks.csv),
// printed as a table. Everything runs twice and the second round is shown.
//
//   node dist/bench/phantom.js [--n 20] [--size 512] [--seed 1]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { writePhantomDataset } from '../src/phantom/dataset.js';
import { encodePhantom, planPhantom, renderPhantom } from '../src/phantom/index.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '20' },
    size: { type: 'string', default: '512' },
    seed: { type: 'string', default: '1' },
  },
});
const n = Number(args.n);
const size = Number(args.size);
const seed = Number(args.seed);

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

for (let i = 0; i < 3; i++) encodePhantom(planPhantom(seed + 1, i, { size }));

async function measure(): Promise<[string, number][]> {
  const rows: [string, number][] = [];
  rows.push([
    'render (tensor, in memory)',
    time(() => {
      for (let i = 0; i < n; i++) renderPhantom(planPhantom(seed, i, { size })).dispose();
    }),
  ]);
  rows.push([
    'render + PNG encode',
    time(() => {
      for (let i = 0; i < n; i++) encodePhantom(planPhantom(seed, i, { size }));
    }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'fewmark-bench-phantom-'));
  try {
    const t0 = performance.now();
    await writePhantomDataset({ out: join(dir, 'set'), n, seed, size });
    rows.push(['writePhantomDataset() to disk (PNG, CSV, json)', (performance.now() - t0) / 1000]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

// Two rounds; the second is reported (the first settles the JIT and allocator).
await measure();
const rows = await measure();

console.log(
  `phantom benchmark: ${size}x${size}, n=${n}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), ${E.threads()} torch threads, node ${process.version}`,
);
console.log('');
console.log(`| ${'what'.padEnd(36)} | images | seconds | s/image |`);
console.log(`| ${'-'.repeat(36)} | -----: | ------: | ------: |`);
for (const [what, seconds] of rows)
  console.log(
    `| ${what.padEnd(36)} | ${String(n).padStart(6)} | ${seconds.toFixed(2).padStart(7)} | ${(seconds / n).toFixed(3).padStart(7)} |`,
  );
