// Coarse-to-fine peaks (src/matching/coarse-to-fine.ts) against the exact
// full-resolution maps: how often the prediction is the same, the MRE of
// both, and the time per template-target pair, on ISBI 2015 training
// templates and Test1 targets.
//
//   node dist/bench/detect-coarse-to-fine.js --model runs/isbi-384 [--templates 5] [--targets 30]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { FeatureCache } from '../src/features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../src/features/checkpoint.js';
import { toWorkingPoint } from '../src/features/preprocess.js';
import { ISBI_SPACING_MM, loadIsbi2015 } from '../src/io/datasets/isbi2015.js';
import { coarseGrid, coarseToFinePeaks, defaultCoarseToFine } from '../src/matching/coarse-to-fine.js';
import { pyramidOf } from '../src/matching/detect.js';
import { describeLandmarks, findPeaks, type Peak, similarityMaps } from '../src/matching/match.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string', default: 'runs/isbi-384' },
    templates: { type: 'string', default: '5' },
    targets: { type: 'string', default: '30' },
  },
});
const modelDir = resolve(a.model!);
const { model, meta } = await loadExtractor(join(modelDir, EXTRACTOR_FILE));
const cache = await FeatureCache.open(join(modelDir, 'cache'), join(modelDir, EXTRACTOR_FILE));
const S = meta.inputSize;
const o = { model, inputSize: S, cache };
const train = await loadIsbi2015(resolve(a.data!), { split: 'train', groundTruth: 'mean' });
const test = await loadIsbi2015(resolve(a.data!), { split: 'test1', groundTruth: 'mean' });
const targets = [];
for (const img of test.images.slice(0, Number(a.targets))) {
  const p = await pyramidOf(img.file, o);
  // The coarse grid is made once per target image and reused for every template.
  const grid = coarseGrid(p.pyramid, S, defaultCoarseToFine.gridStride).keep();
  targets.push({ img, ...p, grid, pyramid: p.pyramid.map((t) => t.keep()) });
}
let exactSeconds = 0;
let fastSeconds = 0;
let same = 0;
let total = 0;
let sumShift = 0;
const errors = { exact: [] as number[], fast: [] as number[] };
for (const tpl of train.images.slice(0, Number(a.templates))) {
  const tp = await pyramidOf(tpl.file, o);
  const work = tpl.landmarks!.map((p) => toWorkingPoint(p, tp.width, tp.height, S));
  const d = describeLandmarks(tp.pyramid, work, S).map((t) => t.keep());
  for (const t of targets) {
    const gt = t.img.landmarks!.map((p) => toWorkingPoint(p, t.width, t.height, S));
    const t0 = performance.now();
    const exact: Peak[] = E.tidy(() => findPeaks(similarityMaps(d, t.pyramid, S)));
    const t1 = performance.now();
    const fast = E.tidy(() => coarseToFinePeaks(d, t.pyramid, S, defaultCoarseToFine, t.grid));
    fastSeconds += (performance.now() - t1) / 1000;
    exactSeconds += (t1 - t0) / 1000;
    exact.forEach((e, k) => {
      const f = fast[k]!;
      const shift = Math.hypot(e.point.x - f.point.x, e.point.y - f.point.y);
      if (shift < 1e-3) same++;
      sumShift += shift;
      total++;
      // Working pixels to mm: the working image is S x S over width x height.
      const mm = (p: Peak) =>
        Math.hypot(((p.point.x - gt[k]!.x) * t.width) / S, ((p.point.y - gt[k]!.y) * t.height) / S) *
        ISBI_SPACING_MM;
      errors.exact.push(mm(e));
      errors.fast.push(mm(f));
    });
  }
  for (const t of [...tp.pyramid, ...d]) t.dispose();
}
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
const pairs = Number(a.templates) * targets.length;
console.log(
  `Coarse-to-fine peaks vs exact full-resolution maps (${pairs} template-target pairs, ${total} landmarks)`,
);
console.log('| method | ms per pair | MRE mm |');
console.log('|---|---:|---:|');
console.log(
  `| exact (full-size maps) | ${((1000 * exactSeconds) / pairs).toFixed(1)} | ${mean(errors.exact).toFixed(3)} |`,
);
console.log(
  `| coarse-to-fine (grid ${defaultCoarseToFine.gridStride}, ${defaultCoarseToFine.candidates} candidates, radius ${defaultCoarseToFine.radius}) | ${((1000 * fastSeconds) / pairs).toFixed(1)} | ${mean(errors.fast).toFixed(3)} |`,
);
console.log(
  `\nsame prediction: ${((100 * same) / total).toFixed(2)}% of landmarks; mean shift ${(sumShift / total).toFixed(3)} working px`,
);
for (const t of targets) for (const x of [...t.pyramid, t.grid]) x.dispose();
