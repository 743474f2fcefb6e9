// Detection speed of a refined model (issue 13, item 4): seconds per image
// for the first stage alone and for both stages, on real ISBI images (1935 x
// 2400, 19 landmarks). No feature cache is involved: a refined model reads
// the image and runs its networks. Run it alone on the machine.
//
//   node dist/bench/refined-detect-speed.js --model runs/label-curve/labels-5/medoids-0/refined [--images 20]

import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as E from '../src/engine/index.js';
import { listImages } from '../src/io/folder.js';
import { RefinedDetector } from '../src/refine/infer.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/isbi2015' },
    model: { type: 'string' },
    images: { type: 'string', default: '20' },
  },
});
if (!a.model) throw new Error('pass --model (a refined model folder with a fine stage)');
const files = (await listImages(join(resolve(a.data!), 'RawImage', 'Test1Data'))).slice(0, Number(a.images));

async function secondsPerImage(fine: boolean): Promise<number> {
  const detector = await RefinedDetector.load(a.model!, { fine });
  if (fine && !detector.fine) throw new Error(`${a.model}: no fine stage (fine.safetensors)`);
  try {
    await detector.detect('warm-up', files[0]!); // first call: allocations, oneDNN primitives
    const t0 = performance.now();
    for (const [i, f] of files.entries()) await detector.detect(String(i), f);
    return (performance.now() - t0) / 1000 / files.length;
  } finally {
    detector.dispose();
  }
}

const stage1 = await secondsPerImage(false);
const both = await secondsPerImage(true);
console.log(
  [
    `# Refined detection speed: ${files.length} ISBI Test1 images (1935 x 2400, 19 landmarks), no feature cache`,
    '',
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${E.threads()} torch threads`,
    '',
    '| stages | s per image |',
    '|---|---:|',
    `| first stage alone | ${stage1.toFixed(3)} |`,
    `| first + fine stage | ${both.toFixed(3)} |`,
    `| the fine stage's share | ${(both - stage1).toFixed(3)} |`,
  ].join('\n'),
);
