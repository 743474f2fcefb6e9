// Speed of selection (issue 5, item 7): key points, the similarity tensor
// and the search over N images whose features are already cached, for N =
// 50, 100, 150 ISBI training images, plus N synthetic images (random unit
// features, the same key point count) to show how time grows; the same for
// the default strategy (k-medoids on the global embeddings). Also
// measures how far the batched grid maximum is from the exact per-pair
// full-resolution one, on a subset.
//
//   node dist/bench/selection-speed.js --model runs/isbi-384 [--synthetic 1000]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tensor } from '../src/engine/index.js';
import * as E from '../src/engine/index.js';
import { spearman } from '../src/experiment/stats.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { loadWorkingImage } from '../src/features/load.js';
import { loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import type { Point } from '../src/io/types.js';
import { proposeKeypoints } from '../src/keypoints/propose.js';
import { pyramidOf } from '../src/matching/detect.js';
import { describeLandmarks } from '../src/matching/match.js';
import { globalEmbedding, stackEmbeddings } from '../src/selection/embeddings.js';
import { kMedoids } from '../src/selection/medoids.js';
import { exhaustiveSingle, greedySwap } from '../src/selection/search.js';
import { bestMatchScores, similarityMatrix } from '../src/selection/similarity.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string', default: 'runs/isbi-384' },
    keypoints: { type: 'string', default: '100' },
    'grid-stride': { type: 'string', default: '8' },
    synthetic: { type: 'string', default: '1000' },
    'synthetic-candidates': { type: 'string', default: '50' },
    'exact-subset': { type: 'string', default: '20' },
  },
});
const modelDir = resolve(a.model!);
const { model, meta } = await loadExtractor(join(modelDir, EXTRACTOR_FILE));
const cache = await FeatureCache.open(join(modelDir, 'cache'), join(modelDir, EXTRACTOR_FILE));
const S = meta.inputSize;
const gridStride = Number(a['grid-stride']);
const train = await loadIsbi2015(resolve(a.data!), { split: 'train', groundTruth: 'mean' });
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

process.stderr.write(`loading cached features of ${train.images.length} images...\n`);
const pyramids: Tensor[][] = [];
const images: Tensor[] = [];
for (const img of train.images) {
  pyramids.push((await pyramidOf(img.file, { model, inputSize: S, cache })).pyramid.map((t) => t.keep()));
  const w = await loadWorkingImage(img.file, S);
  images.push(E.tidy(() => w.input.reshape([S, S]).mul(255).to('uint8')).keep());
  w.input.dispose();
}

interface Timing {
  n: number;
  keypoints: number;
  tensor: number;
  search: number;
  candidates: number;
  /** Peak resident bytes while this size ran. */
  peak: number;
  matrixBytes: number;
}
/**
 * Peak resident memory since the last reset (Linux: VmHWM, reset by
 * writing 5 to clear_refs), so each size gets its own peak; NaN elsewhere.
 */
function resetPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {}
}
function peakBytes(): number {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return line ? Number(line[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function timeSelection(n: number): Timing {
  resetPeak();
  const t0 = performance.now();
  const keypoints = images
    .slice(0, n)
    .map((im) => proposeKeypoints(im, { method: 'sift', maxPoints: Number(a.keypoints) }));
  const t1 = performance.now();
  const matrix = similarityMatrix({ pyramids: pyramids.slice(0, n), keypoints, inputSize: S, gridStride });
  const t2 = performance.now();
  exhaustiveSingle(matrix);
  for (let m = 2; m <= 5; m++) greedySwap(matrix, m);
  const t3 = performance.now();
  return {
    n,
    keypoints: (t1 - t0) / 1000,
    tensor: (t2 - t1) / 1000,
    search: (t3 - t2) / 1000,
    candidates: n,
    peak: peakBytes(),
    matrixBytes: matrix.values.byteLength,
  };
}

const rows: Timing[] = [];
for (const n of [50, 100, 150].filter((n) => n <= train.images.length)) {
  process.stderr.write(`selection over ${n} images...\n`);
  rows.push(timeSelection(n));
}

// Synthetic: random unit features at the pyramid's shapes; time for a
// subset of candidate templates, scaled to all (the cost is linear in them).
const synthetic = Number(a.synthetic);
if (synthetic > 0) {
  process.stderr.write(`synthetic ${synthetic} images...\n`);
  resetPeak();
  const shapes = pyramids[0]!.map((t) => t.shape);
  const fake = Array.from({ length: synthetic }, () =>
    E.tidy(() => shapes.map((s) => E.F.normalize(E.randn([...s]), 2, 1))).map((t) => t.keep()),
  );
  const kpCount = Number(a.keypoints);
  const fakeKeypoints: Point[][] = fake.map((_, i) =>
    Array.from({ length: kpCount }, (_, k) => ({
      x: ((i * 37 + k * 53) % (S - 32)) + 16,
      y: ((k * 29) % (S - 32)) + 16,
    })),
  );
  const candidates = Array.from({ length: Number(a['synthetic-candidates']) }, (_, j) => j);
  const t0 = performance.now();
  const partial = similarityMatrix({
    pyramids: fake,
    keypoints: fakeKeypoints,
    inputSize: S,
    gridStride,
    candidates,
  });
  const seconds = ((performance.now() - t0) / 1000) * (synthetic / candidates.length);
  rows.push({
    n: synthetic,
    keypoints: Number.NaN,
    tensor: seconds,
    search: Number.NaN,
    candidates: candidates.length,
    peak: peakBytes(),
    matrixBytes: (partial.values.byteLength * synthetic) / candidates.length,
  });
  for (const p of fake) for (const t of p) t.dispose();
}

console.log(
  `Selection speed, features cached (${modelDir}), input ${S}, SIFT <= ${a.keypoints} key points, grid stride ${gridStride}`,
);
console.log(`machine: ${E.threads()} torch threads\n`);
console.log(
  '| images | key points s | similarity tensor s | search s (M=1 exhaustive, M=2..5 greedy+swap) | total s | matrix MB | peak RSS MB |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const synth = r.candidates < r.n;
  console.log(
    `| ${r.n}${synth ? ` synthetic (tensor timed on ${r.candidates} templates, scaled)` : ''} | ${Number.isNaN(r.keypoints) ? '-' : r.keypoints.toFixed(1)} | ${r.tensor.toFixed(1)} | ${Number.isNaN(r.search) ? '-' : r.search.toFixed(2)} | ${synth ? '-' : (r.keypoints + r.tensor + r.search).toFixed(1)} | ${(r.matrixBytes / 2 ** 20).toFixed(1)} | ${(r.peak / 2 ** 20).toFixed(0)} |`,
  );
}
console.log(
  '\npeak RSS: the whole process during that size (all pool features are held in memory, plus the synthetic pyramids for the last row)',
);
console.log(`peak resident memory of the run: ${mb(process.resourceUsage().maxRSS * 1024)}`);

// The default strategy: one global embedding per image (from the cached
// pyramids), then k-medoids; no key points or similarity tensor (a budget
// of one image runs the SCP above).
const medoidBudgets = [5, 10, 25];
console.log(
  `\nDefault strategy (medoids), features cached: embeddings, then k-medoids (greedy + swaps) for M = ${medoidBudgets.join(', ')}\n`,
);
console.log(
  `| images | embeddings s | ${medoidBudgets.map((m) => `search M=${m} s`).join(' | ')} | total for M=25 s |`,
);
console.log(`|---:|---:|${medoidBudgets.map(() => '---:').join('|')}|---:|`);
const medoidRow = (label: string, embed: () => Float32Array[]) => {
  const t0 = performance.now();
  const points = stackEmbeddings(embed());
  const embedSeconds = (performance.now() - t0) / 1000;
  const search = medoidBudgets.map((m) => {
    const t = performance.now();
    kMedoids(points, m);
    return (performance.now() - t) / 1000;
  });
  console.log(
    `| ${label} | ${embedSeconds.toFixed(2)} | ${search.map((x) => x.toFixed(3)).join(' | ')} | ${(embedSeconds + search.at(-1)!).toFixed(2)} |`,
  );
};
for (const n of [50, 100, 150].filter((n) => n <= train.images.length))
  medoidRow(String(n), () => pyramids.slice(0, n).map((p) => globalEmbedding(p)));
if (synthetic > 0) {
  const dim = globalEmbedding(pyramids[0]!).length;
  medoidRow(`${synthetic} synthetic (random unit embeddings)`, () =>
    Array.from({ length: synthetic }, () =>
      E.tidy(() => E.F.normalize(E.randn([1, dim]), 2, 1).data() as Float32Array),
    ),
  );
}

// Batched grid maxima against the exact per-pair full-resolution maximum,
// on the first `subset` images: value gap, and whether the templates rank
// the same (R of each single template, Spearman) and the M=1 pick agrees.
const subset = Number(a['exact-subset']);
if (subset > 0) {
  const keypoints = images
    .slice(0, subset)
    .map((im) => proposeKeypoints(im, { method: 'sift', maxPoints: Number(a.keypoints) }));
  const rowCount = keypoints.reduce((n, k) => n + k.length, 0);
  const exact = new Float32Array(rowCount * subset);
  for (let j = 0; j < subset; j++) {
    let row = 0;
    for (let i = 0; i < subset; i++) {
      const d = describeLandmarks(pyramids[i]!, keypoints[i]!, S);
      bestMatchScores(d, pyramids[j]!, S).forEach((v, k) => {
        exact[(row + k) * subset + j] = v;
      });
      for (const t of d) t.dispose();
      row += keypoints[i]!.length;
    }
  }
  const singles = (values: Float32Array) => {
    const r = new Array<number>(subset).fill(0);
    for (let p = 0; p < rowCount; p++)
      for (let j = 0; j < subset; j++) r[j]! += values[p * subset + j]! / rowCount;
    return r;
  };
  const exactSingles = singles(exact);
  const argmax = (v: number[]) => v.indexOf(Math.max(...v));
  console.log(
    `\nGrid maxima vs the exact full-resolution maximum (first ${subset} images: ${subset}x${subset} pairs, ${rowCount * subset} values; exact mean ${(exact.reduce((x, y) => x + y, 0) / exact.length).toFixed(4)})`,
  );
  console.log(
    '| grid stride | mean abs difference | largest | Spearman of R({j}) vs exact | same M=1 pick |',
  );
  console.log('|---:|---:|---:|---:|---|');
  for (const stride of [4, 8, 16]) {
    const m = similarityMatrix({
      pyramids: pyramids.slice(0, subset),
      keypoints,
      inputSize: S,
      gridStride: stride,
    });
    let sum = 0;
    let largest = 0;
    m.values.forEach((v, i) => {
      const diff = Math.abs(v - exact[i]!);
      sum += diff;
      largest = Math.max(largest, diff);
    });
    const r = singles(m.values);
    console.log(
      `| ${stride} | ${(sum / m.values.length).toFixed(4)} | ${largest.toFixed(4)} | ${spearman(r, exactSingles).toFixed(3)} | ${argmax(r) === argmax(exactSingles) ? 'yes' : 'no'} |`,
    );
  }
}
