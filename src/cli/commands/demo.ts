// `fewmark demo` (npm run demo): the main job end to end on built-in
// phantoms, in a few minutes: make phantoms, train the feature extractor,
// annotate one template (its phantom ground truth stands in for a person),
// detect on the rest, and evaluate.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EvaluationResult } from '../../eval/report.js';
import { readAnnotations, writeAnnotations } from '../../io/formats/index.js';
import { phantomSpacing } from '../../phantom/index.js';
import { detect } from './detect.js';
import { evaluate } from './evaluate.js';
import { phantom } from './phantom.js';
import { train } from './train.js';

export interface DemoOptions {
  out: string;
  images?: number;
  size?: number;
  minutes?: number;
  seed?: number;
}

export interface DemoResult {
  out: string;
  template: string;
  evaluation: EvaluationResult;
}

export async function demo(o: DemoOptions): Promise<DemoResult> {
  const out = resolve(o.out);
  const seed = o.seed ?? 1;
  const data = join(out, 'phantoms');
  const model = join(out, 'model');
  const say = (s: string) => process.stderr.write(`\n== ${s}\n`);

  if (existsSync(out)) await rm(out, { recursive: true, force: true });
  say(`1/4 phantoms: ${o.images ?? 40} synthetic hand X-rays with 17 known landmarks`);
  await phantom({ out: data, n: o.images ?? 40, seed, size: o.size ?? 256, quiet: true });

  say(`2/4 self-supervised training of the feature extractor (${o.minutes ?? 2} min)`);
  await train({
    images: join(data, 'images'),
    out: model,
    minutes: o.minutes ?? 2,
    size: o.size ?? 256,
    batch: 4,
    seed,
  });

  say('3/4 one-shot detection: the first typical phantom is the annotated template');
  const truth = await readAnnotations(join(data, 'landmarks.csv'));
  const template = truth.images.find((img) => img.points.every((p) => !Number.isNaN(p.x)))!;
  const templates = join(out, 'template.csv');
  await writeAnnotations(templates, { names: truth.names, images: [template] });
  const predictions = join(out, 'predictions.csv');
  await detect({ model, templates, images: join(data, 'images'), out: predictions });

  say("4/4 evaluation against the phantoms' ground truth (the template itself left out)");
  const targets = join(out, 'ground-truth.csv');
  await writeAnnotations(targets, {
    names: truth.names,
    images: truth.images.filter((img) => img !== template),
  });
  const evaluation = await evaluate({
    pred: predictions,
    gt: targets,
    out: join(out, 'evaluation'),
    spacing: phantomSpacing(o.size ?? 256).x,
  });
  return { out, template: template.image, evaluation };
}
