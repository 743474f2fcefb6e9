// One-shot detection on phantoms after a short self-supervised training:
// clearly better than predicting the template's own coordinates.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { EXTRACTOR_FILE, loadExtractor } from '../../src/features/checkpoint.js';
import { extractPyramid } from '../../src/features/pyramid.js';
import { trainExtractor } from '../../src/features/train.js';
import { resolveTrainConfig } from '../../src/features/train-config.js';
import { isMissing } from '../../src/io/types.js';
import { describeLandmarks, findPeaks, similarityMaps } from '../../src/matching/match.js';
import { generatePhantoms } from '../../src/phantom/index.js';

const SIZE = 128;

test('one-shot matching on phantoms beats copying the template coordinates', async () => {
  const { images, annotations } = generatePhantoms({ n: 24, seed: 11, size: SIZE, atypicalRate: 0 });
  const inputs = E.tidy(() =>
    E.cat(
      images.map((p) => p.image.to('float32').div(255).reshape([1, 1, SIZE, SIZE])),
      0,
    ),
  ).keep();
  for (const p of images) p.image.dispose();
  const out = mkdtempSync(join(tmpdir(), 'fewmark-oneshot-'));
  const config = resolveTrainConfig({
    inputSize: SIZE,
    batchSize: 4,
    steps: 250,
    minutes: null,
    warmupSteps: 10,
    pairs: { queriesPerImage: 32 },
    model: { widths: [16, 32, 64, 128, 128] }, // the lighter net keeps this test near a minute
  });
  await trainExtractor({ images: inputs, out, config });
  const { model } = await loadExtractor(join(out, EXTRACTOR_FILE));

  // Template: image 0; targets: the rest. Phantom pixels are working pixels here.
  const template = annotations.images[0]!;
  const pyramids = images.map((_, i) => E.tidy(() => extractPyramid(model, inputs.narrow(0, i, 1))));
  const descriptors = describeLandmarks(pyramids[0]!, template.points, SIZE);
  let matched = 0;
  let copied = 0;
  let count = 0;
  for (let i = 1; i < images.length; i++) {
    const peaks = E.tidy(() => findPeaks(similarityMaps(descriptors, pyramids[i]!, SIZE)));
    annotations.images[i]!.points.forEach((gt, k) => {
      const t = template.points[k]!;
      if (isMissing(gt) || isMissing(t)) return;
      matched += Math.hypot(peaks[k]!.point.x - gt.x, peaks[k]!.point.y - gt.y);
      copied += Math.hypot(t.x - gt.x, t.y - gt.y);
      count++;
    });
  }
  const matchedMre = matched / count;
  const copiedMre = copied / count;
  console.log(
    `# one-shot phantom MRE ${matchedMre.toFixed(2)} px vs template coordinates ${copiedMre.toFixed(2)} px`,
  );
  assert.ok(
    matchedMre < 0.6 * copiedMre,
    `matching ${matchedMre.toFixed(2)} px, copying ${copiedMre.toFixed(2)} px`,
  );
});
