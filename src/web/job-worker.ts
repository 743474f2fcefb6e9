// One background job of the annotator, run in a child process through the
// library (src/api), not the CLI: native ops are synchronous and would stall
// every request if run in the server. The job comes as JSON in argv[2];
// progress, log lines and the result go back as typed IPC messages; a
// 'cancel' message aborts the job's AbortSignal (it stops within one image
// or one training step; the server kills the process group if it does not).
import { join } from 'node:path';
import { detect, refine, select } from '../api/index.js';
import { readAnnotations } from '../io/formats/index.js';
import { writeDetections } from '../matching/detections-file.js';
import { readRefinedMeta } from '../refine/checkpoint.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { exitWithParent } from '../util/parent-watch.js';

/** What the server asks for. */
export interface JobSpec {
  kind: 'detect' | 'refine' | 'select';
  /** The project's newest feature extractor folder. */
  model: string;
  /** The labeled images as a wide CSV (absent: none labeled yet). */
  templates?: string;
  images: string;
  /** detect and refine: the predictions file; select: the selection folder. */
  out: string;
  /** refine: the folder of the refined model it trains, and settings other than the defaults. */
  refinedOut?: string;
  refineConfig?: Record<string, unknown>;
  /** select: how many images to choose. */
  budget?: number;
}

/** What the job tells the server. */
export type JobMessage =
  | { type: 'progress'; label: string; done: number; total: number }
  | { type: 'log'; text: string }
  | { type: 'failed'; message: string }
  | { type: 'done' };

const send = (m: JobMessage) => process.send?.(m);
const controller = new AbortController();
process.on('message', (m: { type?: string }) => {
  if (m?.type === 'cancel') controller.abort();
});
const progress = (p: { phase: string; done: number; total: number }) =>
  send({ type: 'progress', label: p.phase, done: p.done, total: p.total });

async function run(spec: JobSpec): Promise<void> {
  const { signal } = controller;
  const labels = spec.templates ? await readAnnotations(spec.templates) : undefined;
  if (spec.kind === 'select') {
    const chosen = await select({
      images: spec.images,
      model: spec.model,
      budget: spec.budget ?? 5,
      labeled: labels?.images.map((i) => i.image),
      signal,
      onProgress: progress,
    });
    const record = {
      strategy: chosen.strategy,
      budget: chosen.ranked.length,
      model: spec.model,
      created: new Date().toISOString(),
      ranked: chosen.ranked,
      labeled: chosen.labeled,
    };
    await writeFileAtomic(join(spec.out, 'selection.json'), `${JSON.stringify(record, null, 1)}\n`);
    return;
  }
  let model = spec.model;
  if (spec.kind === 'refine') {
    if (!labels || !spec.refinedOut) throw new Error('refinement needs labeled images');
    send({ type: 'log', text: `training a refined model from ${labels.images.length} labeled image(s)` });
    await refine({
      model: spec.model,
      templates: labels,
      images: spec.images,
      out: spec.refinedOut,
      config: spec.refineConfig,
      signal,
      onProgress: progress,
    });
    signal.throwIfAborted(); // a stopped training leaves a checkpoint, not a model to detect with
    model = spec.refinedOut;
  }
  const found = await detect({ model, templates: labels, images: spec.images, signal, onProgress: progress });
  if (spec.kind === 'refine') {
    const meta = await readRefinedMeta(model); // names and templates, without loading the weights again
    await writeDetections(spec.out, meta.landmarks, meta.templates, found);
  } else
    await writeDetections(
      spec.out,
      labels!.names,
      labels!.images.map((i) => i.image),
      found,
    );
}

/** Runs the job of argv[2]; the exit status says whether it finished (0) or not (1). */
async function main(): Promise<void> {
  exitWithParent();
  try {
    await run(JSON.parse(process.argv[2] ?? '{}') as JobSpec);
    send({ type: 'done' });
  } catch (err) {
    const message = controller.signal.aborted ? 'cancelled' : (err as Error).message;
    send({ type: 'failed', message });
    process.exitCode = 1;
  }
  process.disconnect?.();
}

void main();
