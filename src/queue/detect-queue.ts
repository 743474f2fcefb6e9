// `detect` through the queue: the same plan as the single-process path
// (api/detect.ts: which images, which landmark names, which templates), one
// `detect` job per image, then the parts read back in the images' order.
// What the workers wrote is exactly what a Detection is, so the output
// written from it is the single-process output, byte for byte (given the
// same engine build and thread count; docs/workers.md).
import { dirname, join, resolve } from 'node:path';
import { hashOf } from '../api/content-key.js';
import type { DetectedImages, DetectOptions } from '../api/detect.js';
import { DetectionParts } from '../api/detection-parts.js';
import { imageFiles } from '../api/images.js';
import { extractorFile } from '../api/models.js';
import { imageId } from '../io/folder.js';
import { readAnnotations } from '../io/formats/index.js';
import { findImage } from '../io/image-ids.js';
import type { Detection } from '../matching/detect.js';
import { pairTemplates } from '../matching/templates.js';
import { isRefinedModel, readRefinedMeta } from '../refine/checkpoint.js';
import { readResult } from '../util/result-file.js';
import type { DetectJob } from './detect-job.js';
import { runOnQueue } from './run.js';

/** The model as a path the workers can load: a refined folder, or an extractor file. */
function modelPath(model: DetectOptions['model']): { path: string; refined: boolean } {
  if (typeof model !== 'string')
    return model.kind === 'refined'
      ? { path: model.dir, refined: true }
      : { path: resolve(model.file), refined: false };
  return isRefinedModel(model)
    ? { path: resolve(model), refined: true }
    : { path: resolve(extractorFile(model)), refined: false };
}

export async function detectOnQueue(o: DetectOptions & { queue: string }): Promise<DetectedImages> {
  const { files: listed, name } = await imageFiles(o.images);
  const files = listed.map((f) => resolve(f));
  const given = new Map(files.map((f, i) => [f, listed[i]!]));
  if (o.templates !== undefined && typeof o.templates !== 'string')
    throw new RangeError(
      'detect: with a queue, give the templates as a landmarks file (the workers read it)',
    );
  const labelsFile = o.templates === undefined ? undefined : resolve(o.templates);
  const labels = labelsFile ? await readAnnotations(labelsFile) : undefined;
  const model = modelPath(o.model);
  let skip: Set<string>;
  let names: string[];
  let templateIds: string[];
  let templates: DetectJob['templates'];
  if (model.refined) {
    const meta = await readRefinedMeta(model.path);
    const byId = new Map(files.map((f) => [imageId(f), f]));
    skip = new Set(labels?.images.map((t) => findImage(t.image, byId)).filter((f) => f !== undefined));
    names = meta.landmarks;
    templateIds = meta.templates;
  } else {
    if (!labels || !labelsFile)
      throw new RangeError('detect: template matching needs templates (labeled images)');
    const paired = await pairTemplates(labels, labelsFile, files, name);
    skip = new Set(paired.map((t) => t.file));
    names = labels.names;
    templateIds = paired.map((t) => t.id);
    templates = {
      labels: labelsFile,
      files: paired.map((t) => t.file),
      fusion: o.fusion ?? 'median',
      subpixel: o.subpixel ?? true,
    };
  }
  const targets = files.filter((f) => !skip.has(f));
  const ids = new Set(targets.map(imageId));
  if (ids.size !== targets.length) throw new RangeError('detect: with a queue, image ids must be unique');
  const parts = resolve(
    o.queueParts ??
      join(model.refined ? model.path : dirname(model.path), 'queue-parts', hashOf(model.path, ...files)),
  );
  const partOf = (file: string) => join(parts, `${imageId(file)}.json`);
  const jobs = targets.map((file) => {
    const data: DetectJob = {
      model: model.path,
      fine: o.fine,
      cache: o.cache,
      templates,
      file,
      out: partOf(file),
    };
    return { id: hashOf(JSON.stringify(data)), data, label: file };
  });
  await runOnQueue(o.queue, 'detect', jobs, {
    signal: o.signal,
    onNote: o.onQueueNote,
    onProgress: (done, total) =>
      o.onProgress?.({ phase: model.refined ? 'detecting (refined)' : 'detecting', done, total }),
  });
  const detections: Detection[] = [];
  for (const file of targets) {
    const part = await readResult<Detection>(partOf(file));
    if (!part) throw new Error(`${partOf(file)}: the detect job of ${file} completed but left no result`);
    detections.push({ ...part, id: imageId(file), file: given.get(file)! });
  }
  await new DetectionParts(parts, '').remove(targets);
  return { detections, names, templates: templateIds };
}
