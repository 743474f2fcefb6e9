// Where a `fewmark train` step spends its time: the default training step
// (batch 8 at 384 px, the pairs, both forward passes, the multi-layer
// InfoNCE, backward and AdamW) split into phases, on random images (timing
// does not depend on content), printed as a table with steps per minute.
//
//   node dist/bench/train-step.js [--steps 12] [--size 384] [--batch 8]
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { median } from '../src/eval/metrics.js';
import { infoNceLosses } from '../src/features/loss.js';
import { FeatureExtractor, OUTPUT_STRIDES } from '../src/features/model.js';
import { samplePairs } from '../src/features/pairs.js';
import { defaultTrainConfig } from '../src/features/train-config.js';
import { Rng } from '../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '12' },
    size: { type: 'string', default: String(defaultTrainConfig.inputSize) },
    batch: { type: 'string', default: String(defaultTrainConfig.batchSize) },
  },
});
const steps = Number(args.steps);
const size = Number(args.size);
const batch = Number(args.batch);
const c = defaultTrainConfig;
const cropSize = Math.round((size * c.pairs.cropFraction) / 32) * 32;

const phases = [
  'pairs',
  'forward whole',
  'forward crop',
  'loss',
  'backward',
  'optimizer',
  'read losses',
] as const;
type Phase = (typeof phases)[number];
const totals = new Map<Phase, number[]>(phases.map((p) => [p, []]));
const stepTimes: number[] = [];

E.seed(0);
const images = E.rand([20, 1, size, size]).keep();
const model = new FeatureExtractor(c.model);
const optimizer = new E.AdamW(model.parameters(), { lr: c.lr, weightDecay: c.weightDecay });
const rng = new Rng(0);
model.train();
for (let s = 0; s < steps + 2; s++) {
  const times = new Map<Phase, number>();
  const timed = <T>(phase: Phase, fn: () => T): T => {
    const t0 = performance.now();
    const out = fn();
    times.set(phase, performance.now() - t0);
    return out;
  };
  const t0 = performance.now();
  E.tidy(() => {
    const indices = Array.from({ length: batch }, () => rng.int(0, 20));
    const pairs = timed('pairs', () => samplePairs(images, indices, rng, c.pairs));
    const whole = timed('forward whole', () => model.forward(pairs.whole));
    const crop = timed('forward crop', () => model.forward(pairs.crop));
    const losses = timed('loss', () =>
      infoNceLosses(whole, crop, pairs.queryInCrop, pairs.queryInWhole, OUTPUT_STRIDES, cropSize, c.loss),
    );
    const total = losses.reduce((a, b) => a.add(b));
    timed('backward', () => {
      optimizer.zeroGrad();
      total.backward();
    });
    timed('optimizer', () => optimizer.step());
    timed('read losses', () => losses.map((l) => l.item()));
  });
  if (s < 2) continue; // warm-up
  stepTimes.push(performance.now() - t0);
  for (const p of phases) totals.get(p)!.push(times.get(p)!);
}

const step = median(stepTimes);
const convFlops =
  3 *
  (FeatureExtractor.convFlops(c.model, batch, size, size) +
    FeatureExtractor.convFlops(c.model, batch, cropSize, cropSize));
console.log(
  `\ntraining step — ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${E.threads()} torch threads; batch ${batch} at ${size} px (crops ${cropSize} px); median of ${steps} steps\n`,
);
console.log('| phase | ms | share |');
console.log('|---|---:|---:|');
for (const p of phases) {
  const ms = median(totals.get(p)!);
  console.log(`| ${p} | ${ms.toFixed(1)} | ${((ms / step) * 100).toFixed(1)}% |`);
}
console.log(`| **step** | **${step.toFixed(0)}** | |`);
console.log(
  `\n${(60_000 / step).toFixed(1)} steps per minute; convolutions ${(convFlops / 1e9).toFixed(0)} GFLOP per step (forward x3), ${(convFlops / step / 1e6).toFixed(0)} GFLOP/s`,
);
