// `fewmark detect`: finds the templates' landmarks in every other image of a
// folder by template matching, and writes them in any supported format,
// with per-landmark confidences in a JSON file beside them.
import { dirname, join } from 'node:path';
import { extractorFile } from '../../api/models.js';
import { FeatureCache } from '../../features/cache.js';
import { loadExtractor } from '../../features/checkpoint.js';
import { DataError } from '../../io/errors.js';
import { imageId, listImages } from '../../io/folder.js';
import { outputFormat, readAnnotations } from '../../io/formats/index.js';
import { findImage } from '../../io/image-ids.js';
import { checkOutput } from '../../io/output-check.js';
import { type Detection, type Fusion, TemplateMatcher } from '../../matching/detect.js';
import { detectAll } from '../../matching/detect-all.js';
import { writeDetections } from '../../matching/detections-file.js';
import { pairTemplates } from '../../matching/templates.js';
import { isRefinedModel } from '../../refine/checkpoint.js';
import { RefinedDetector } from '../../refine/infer.js';
import { UsageError } from '../errors.js';
import { startProgress } from '../progress.js';

export interface DetectOptions {
  model: string;
  /** Needed for template matching; with a refined model only skips these images. */
  templates?: string;
  images: string;
  out: string;
  format?: string;
  subpixel?: boolean;
  /** Several templates: 'median' (default) or 'max-peak' (paper eq. 3). */
  fusion?: string;
  cache?: boolean;
  /** Allow --out inside the images folder. */
  allowInsideImages?: boolean;
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
}

export async function detect(o: DetectOptions): Promise<DetectResult> {
  await checkDetectOutput(o);
  if (isRefinedModel(o.model)) return detectRefined(o);
  const templatesFile = o.templates;
  if (!templatesFile)
    throw new UsageError(
      '--templates is needed with a template-matching model (only a refined model goes without)',
    );
  const modelFile = extractorPath(o.model);
  const labels = await readAnnotations(templatesFile);
  const files = await listImages(o.images);
  const templates = await pairTemplates(labels, templatesFile, files, o.images);
  const { model, meta } = await loadExtractor(modelFile);
  const cache =
    // Beside the weights, not in the image folder (which may be read-only).
    o.cache === false ? undefined : await FeatureCache.open(join(dirname(modelFile), 'cache'), modelFile);
  const matcher = await TemplateMatcher.create(templates, {
    model,
    inputSize: meta.inputSize,
    cache,
    subpixel: o.subpixel ?? true,
    fusion: fusionOf(o.fusion),
  });
  const targets = files.filter((f) => !templates.some((t) => t.file === f));
  const progress = startProgress('detecting', targets.length, 5);
  let detections: Detection[];
  try {
    detections = await detectAll((id, file) => matcher.detect(id, file), targets, {
      onProgress: (done) => progress.update(done),
    });
  } finally {
    progress.stop();
    matcher.dispose();
    model.dispose();
  }
  await writeDetections(
    o.out,
    labels.names,
    templates.map((t) => t.id),
    detections,
    o.format,
  );
  return { detections, templates: templates.map((t) => t.id) };
}

// ---- A refined model (fewmark refine): its network replaces template
// matching; confidence is the heatmap's peak, templateOf is 'refined'.
async function detectRefined(o: DetectOptions): Promise<DetectResult> {
  const detector = await RefinedDetector.load(o.model);
  const files = await listImages(o.images);
  const byId = new Map(files.map((f) => [imageId(f), f]));
  const skip = new Set(
    o.templates ? (await readAnnotations(o.templates)).images.map((t) => findImage(t.image, byId)) : [],
  );
  const targets = files.filter((f) => !skip.has(f));
  const progress = startProgress('detecting (refined)', targets.length, 5);
  let detections: Detection[];
  try {
    detections = await detectAll((id, file) => detector.detect(id, file), targets, {
      onProgress: (done) => progress.update(done),
    });
  } finally {
    progress.stop();
    detector.dispose();
  }
  await writeDetections(o.out, detector.landmarks, detector.meta.templates, detections, o.format);
  return { detections, templates: detector.meta.templates };
}

function fusionOf(value: string | undefined): Fusion {
  if (value === undefined || value === 'median' || value === 'max-peak') return value ?? 'median';
  throw new UsageError(`--fusion must be median or max-peak, got ${value}`);
}
