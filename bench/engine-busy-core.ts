// A busy core: the extractor's training step (Adam, 4x1x256x256) on 1 and 2
// torch threads, alone and next to one CPU-bound competitor that this
// benchmark starts itself, under each OpenMP wait policy. Each setting runs
// in a fresh process, since libgomp reads its policy once, at load.
//
//   node dist/bench/engine-busy-core.js [--reps 12] [--policies fewmark,libgomp,PASSIVE,spin=3000]
// Policies: fewmark (nothing set: fewmark's own choice, src/engine/native.ts),
// libgomp (its default: spin 300,000 rounds), PASSIVE, ACTIVE, spin=N (GOMP_SPINCOUNT=N).
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SPIN_COUNT } from '../src/engine/wait-policy.js';
import { median } from '../src/eval/metrics.js';

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '12' },
    policies: { type: 'string', default: 'fewmark,libgomp,PASSIVE,spin=3000' },
    worker: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
  },
});
const reps = Number(args.reps);

/** In a child: time `reps` training steps after two warm-up steps; print JSON. */
async function worker(): Promise<void> {
  const E = await import('../src/engine/index.js');
  const { defaultExtractorConfig, FeatureExtractor } = await import('../src/features/model.js');
  const { extractorStep } = await import('./extractor-step.js');
  E.threads(Number(args.threads));
  E.seed(0);
  const net = new FeatureExtractor(defaultExtractorConfig);
  const adam = new E.Adam(net.parameters(), { lr: 1e-3 });
  const x = E.randn([4, 1, 256, 256]).keep();
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    extractorStep(net, adam, x).dispose();
    if (r >= 2) times.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ threads: E.threads(), times }));
}

/** Starts a process that keeps one core busy until killed. */
function startCompetitor() {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  return () => child.kill('SIGKILL');
}

function measure(policy: string, threads: number, busy: boolean): number[] {
  const env = { ...process.env };
  delete env.OMP_WAIT_POLICY;
  delete env.GOMP_SPINCOUNT;
  if (policy === 'libgomp') env.GOMP_SPINCOUNT = '300000';
  else if (policy.startsWith('spin=')) env.GOMP_SPINCOUNT = policy.slice(5);
  else if (policy !== 'fewmark') env.OMP_WAIT_POLICY = policy;
  const stop = busy ? startCompetitor() : () => {};
  try {
    const out = execFileSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--worker', '--threads', String(threads), '--reps', String(reps)],
      { env, encoding: 'utf8' },
    );
    return (JSON.parse(out.trim().split('\n').pop()!) as { times: number[] }).times;
  } finally {
    stop();
  }
}

async function main(): Promise<void> {
  const policies = args.policies.split(',');
  const rows: string[] = [];
  for (const policy of policies) {
    const cells: number[] = [];
    for (const busy of [false, true])
      for (const threads of [1, 2]) {
        process.stderr.write(
          `${policy}, ${threads} thread(s), ${busy ? 'competitor running' : 'alone'}...\n`,
        );
        cells.push(median(measure(policy, threads, busy)));
      }
    const [alone1, alone2, busy1, busy2] = cells as [number, number, number, number];
    const label =
      policy === 'fewmark'
        ? `fewmark's default (GOMP_SPINCOUNT=${DEFAULT_SPIN_COUNT})`
        : policy === 'libgomp'
          ? "libgomp's default (spin 300,000)"
          : policy;
    rows.push(
      `| ${label} | ${alone1.toFixed(0)} | ${alone2.toFixed(0)} | ${busy1.toFixed(0)} | ${busy2.toFixed(0)} | ${busy2 <= busy1 * 1.05 ? 'yes' : 'NO'} |`,
    );
  }
  console.log(
    `\nbusy core — ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; extractor train step (Adam, 4x1x256x256), median ms of ${reps} steps`,
  );
  console.log(
    '"competitor": one `node -e "for(;;){}"` started by this benchmark; each cell a fresh process\n',
  );
  console.log(
    '| OpenMP wait policy | alone, 1 thread | alone, 2 threads | competitor, 1 thread | competitor, 2 threads | 2 threads no slower than 1 |',
  );
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of rows) console.log(r);
}

if (args.worker) await worker();
else await main();
