// `fewmark detect`: finds the templates' landmarks in every other image of a
// folder by template matching or a refined model (the API's detect), and
// writes them in any supported format, with per-landmark confidences in a
// JSON file beside them.
import { type DetectedImages, detectImages } from '../../api/detect.js';
import { DetectionParts } from '../../api/detection-parts.js';
import { extractorFile, loadModel } from '../../api/models.js';
import { DataError } from '../../io/errors.js';
import { outputFormat } from '../../io/formats/index.js';
import { checkOutput } from '../../io/output-check.js';
import type { Detection, Fusion } from '../../matching/detect.js';
import { writeDetections } from '../../matching/detections-file.js';
import { isRefinedModel } from '../../refine/checkpoint.js';
import { UsageError } from '../errors.js';
import { type Progress, startProgress } from '../progress.js';

export interface DetectOptions {
  model: string;
  /** Needed for template matching; with a refined model only skips these images. */
  templates?: string;
  images: string;
  out: string;
  format?: string;
  subpixel?: boolean;
  /** A refined model: run its fine stage when it has one (default true). */
  fine?: boolean;
  /** Several templates: 'median' (default) or 'max-peak' (paper eq. 3). */
  fusion?: string;
  cache?: boolean;
  /** Allow --out inside the images folder. */
  allowInsideImages?: boolean;
  /** `redis://HOST[:PORT]`: the queue's workers detect, one job per image, parts in OUT.parts/. */
  queue?: string;
}

export interface DetectResult {
  detections: Detection[];
  templates: string[];
}

/** The extractor file of a model folder (or the file itself); the error says how to make one. */
export function extractorPath(model: string): string {
  try {
    return extractorFile(model);
  } catch (err) {
    if (err instanceof DataError) throw new DataError(model, `${err.problem}; run fewmark train first`);
    throw err;
  }
}

/** Before any work: the output is not an input, has a known format and is the right kind of path. */
async function checkDetectOutput(o: DetectOptions): Promise<void> {
  let folder: boolean;
  try {
    ({ folder } = await outputFormat(o.out, o.format));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  checkOutput({
    path: o.out,
    kind: folder ? 'folder' : 'file',
    inputs: [o.templates, o.model, o.images],
    imageFolders: [o.images],
    allowInsideImages: o.allowInsideImages,
  });
  checkOutput({
    path: `${o.out}.detections.json`,
    kind: 'file',
    inputs: [o.templates],
    allowInsideImages: true,
  });
  checkOutput({
    path: partsOf(o.out),
    kind: 'folder',
    inputs: [o.templates, o.model, o.images],
    allowInsideImages: true,
  });
}

/**
 * Per-image results beside the output until it is written: the workers'
 * with --queue (shared storage), else this run's, so that a stopped run
 * goes on where it was when run again.
 */
const partsOf = (out: string) => `${out}.parts`;

export async function detect(o: DetectOptions): Promise<DetectResult> {
  await checkDetectOutput(o);
  const refined = isRefinedModel(o.model);
  if (!refined && !o.templates)
    throw new UsageError(
      '--templates is needed with a template-matching model (only a refined model goes without)',
    );
  const path = refined ? o.model : extractorPath(o.model);
  // With a queue the workers load the model; here only its path is needed.
  const model = o.queue ? path : await loadModel(path, { cache: o.cache, fine: o.fine });
  let bar: Progress | undefined;
  let found: DetectedImages;
  try {
    found = await detectImages({
      model,
      cache: o.cache,
      fine: o.fine,
      queue: o.queue,
      queueParts: o.queue ? partsOf(o.out) : undefined,
      parts: o.queue ? undefined : partsOf(o.out),
      keepParts: true,
      onQueueNote: (message) => process.stderr.write(`fewmark: ${message}\n`),
      templates: o.templates,
      images: o.images,
      subpixel: o.subpixel,
      fusion: fusionOf(o.fusion),
      onProgress: ({ phase, done, total }) => {
        bar ??= startProgress(phase, total, 5);
        bar.update(done);
      },
    });
  } finally {
    bar?.stop();
    if (typeof model !== 'string') model.dispose();
  }
  if (found.resumed)
    process.stderr.write(
      `fewmark: ${found.resumed} of ${found.detections.length} images read back from the stopped run's ${partsOf(o.out)}\n`,
    );
  await writeDetections(o.out, found.names, found.templates, found.detections, o.format);
  // Only now that the output is written are the per-image results no longer needed.
  await new DetectionParts(partsOf(o.out), '').remove(found.detections.map((d) => d.file));
  return { detections: found.detections, templates: found.templates };
}

function fusionOf(value: string | undefined): Fusion {
  if (value === undefined || value === 'median' || value === 'max-peak') return value ?? 'median';
  throw new UsageError(`--fusion must be median or max-peak, got ${value}`);
}
