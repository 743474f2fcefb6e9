// `detect` of the public API: the landmarks of every image that is not a
// template, by template matching from the labeled images (a model from
// training) or by a refined network (a model from refinement).
import { imageId } from '../io/folder.js';
import { readAnnotations } from '../io/formats/index.js';
import { findImage } from '../io/image-ids.js';
import type { Annotations } from '../io/types.js';
import { type Detection, type Fusion, TemplateMatcher } from '../matching/detect.js';
import { detectAll } from '../matching/detect-all.js';
import { pairTemplates } from '../matching/templates.js';
import { DetectionParts, runKeyOf } from './detection-parts.js';
import { type ImageSource, imageFiles } from './images.js';
import { loadModel, type Model } from './models.js';
import { checkAborted, type LongCall } from './progress.js';

export type { Detection } from '../matching/detect.js';
export { detectionsAsLandmarks } from '../matching/detections-file.js';

export interface DetectOptions extends LongCall {
  model: Model | string;
  /** The labeled images (landmarks, or a landmarks file): the templates. A refined model only skips them. */
  templates?: Annotations | string;
  /** A folder or a list of image files; the templates among them are not detected. */
  images: ImageSource;
  /** Several templates: 'median' (default) or 'max-peak' (the paper's eq. 3). */
  fusion?: Fusion;
  /** Template matching: sub-pixel (parabolic) peaks (default true). */
  subpixel?: boolean;
  /** A refined model given as a path: run its fine stage, when it has one (default true). */
  fine?: boolean;
  /** A model given as a path: keep feature pyramids on disk beside it (default true). */
  cache?: boolean;
  /**
   * `redis://HOST[:PORT]`: workers of that queue detect the images, one job
   * each (docs/workers.md). The model, templates and images must be at the
   * same paths on every worker, and the templates a file. Same detections.
   */
  queue?: string;
  /** With `queue`: a folder on shared storage for the per-image results, removed once read (default: beside the model). */
  queueParts?: string;
  /** With `queue`: notes for the user, such as that no worker is connected yet. */
  onQueueNote?: (message: string) => void;
  /**
   * Without a queue: keep each image's detection in this folder as it is
   * found, and read back those of an earlier, stopped run with the same
   * inputs instead of detecting them again (api/detection-parts.ts).
   * Removed once all are found, unless `keepParts`.
   */
  parts?: string;
  keepParts?: boolean;
}

export async function detect(o: DetectOptions): Promise<Detection[]> {
  return (await detectImages(o)).detections;
}

export interface DetectedImages {
  detections: Detection[];
  /** Landmark names, in the order of each detection's points. */
  names: string[];
  /** The templates' image ids (template matching) or those the refined model was trained from. */
  templates: string[];
  /** With `parts`: how many images were read back from an earlier run. */
  resumed?: number;
}

/** `detect`, with what a predictions file records beside the points. */
export async function detectImages(o: DetectOptions): Promise<DetectedImages> {
  checkAborted(o.signal);
  if (o.queue) {
    // Loaded only here: without a queue nothing needs Redis or BullMQ.
    const { detectOnQueue } = await import('../queue/detect-queue.js');
    return detectOnQueue({ ...o, queue: o.queue });
  }
  const { files, name } = await imageFiles(o.images);
  const labelsName = typeof o.templates === 'string' ? o.templates : 'the templates given';
  const labels = typeof o.templates === 'string' ? await readAnnotations(o.templates) : o.templates;
  const { model, owned } =
    typeof o.model === 'string'
      ? { model: await loadModel(o.model, { cache: o.cache, fine: o.fine }), owned: true }
      : { model: o.model, owned: false };
  try {
    let skip: Set<string>;
    let find: (id: string, file: string) => Promise<Detection>;
    let matcher: TemplateMatcher | undefined;
    let names: string[];
    let templateIds: string[];
    let templateFiles: string[] = [];
    if (model.kind === 'refined') {
      const byId = new Map(files.map((f) => [imageId(f), f]));
      skip = new Set(labels?.images.map((t) => findImage(t.image, byId)).filter((f) => f !== undefined));
      find = (id, file) => model.detector.detect(id, file);
      names = model.detector.landmarks;
      templateIds = model.detector.meta.templates;
    } else {
      if (!labels) throw new RangeError('detect: template matching needs templates (labeled images)');
      const templates = await pairTemplates(labels, labelsName, files, name);
      matcher = await TemplateMatcher.create(templates, {
        model: model.network,
        inputSize: model.inputSize,
        cache: model.cache,
        subpixel: o.subpixel ?? true,
        fusion: o.fusion ?? 'median',
      });
      skip = new Set(templates.map((t) => t.file));
      find = (id, file) => matcher!.detect(id, file);
      names = labels.names;
      templateIds = templates.map((t) => t.id);
      templateFiles = templates.map((t) => t.file);
    }
    const targets = files.filter((f) => !skip.has(f));
    const parts =
      o.parts === undefined
        ? undefined
        : new DetectionParts(
            o.parts,
            await runKeyOf(model, {
              fine: o.fine,
              labels,
              templateFiles,
              fusion: o.fusion ?? 'median',
              subpixel: o.subpixel ?? true,
            }),
          );
    try {
      const detections = await detectAll(
        parts ? (id, file) => parts.detect(file, () => find(id, file)) : find,
        targets,
        {
          signal: o.signal,
          onProgress: (done, total) =>
            o.onProgress?.({
              phase: model.kind === 'refined' ? 'detecting (refined)' : 'detecting',
              done,
              total,
            }),
        },
      );
      if (parts && !o.keepParts) await parts.remove(targets);
      return { detections, names, templates: templateIds, ...(parts ? { resumed: parts.reused } : {}) };
    } finally {
      matcher?.dispose();
    }
  } finally {
    if (owned) model.dispose();
  }
}
