// `fewmark detect`: finds the templates' landmarks in every other image of a
// folder by template matching, and writes them in any supported format,
// with per-landmark confidences in a JSON file beside them.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FeatureCache } from '../../features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../../features/checkpoint.js';
import { DataError } from '../../io/errors.js';
import { imageId, listImages } from '../../io/folder.js';
import { readAnnotations, writeAnnotations } from '../../io/formats/index.js';
import type { Annotations } from '../../io/types.js';
import { type Detection, TemplateMatcher } from '../../matching/detect.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { startProgress } from '../progress.js';

export interface DetectOptions {
  model: string;
  templates: string;
  images: string;
  out: string;
  format?: string;
  subpixel?: boolean;
  cache?: boolean;
}

export interface DetectResult {
  detections: Detection[];
  templates: string[];
}

/** The extractor file of a model folder (or the file itself). */
export function extractorPath(model: string): string {
  const path = existsSync(model) && statSync(model).isDirectory() ? join(model, EXTRACTOR_FILE) : model;
  if (!existsSync(path))
    throw new DataError(model, `no trained extractor (${EXTRACTOR_FILE}); run fewmark train first`);
  return path;
}

export async function detect(o: DetectOptions): Promise<DetectResult> {
  const modelFile = extractorPath(o.model);
  const labels = await readAnnotations(o.templates);
  const files = await listImages(o.images);
  const byId = new Map(files.map((f) => [imageId(f), f]));
  const templates = labels.images.map((t) => {
    const file = byId.get(t.image);
    if (!file) throw new DataError(o.templates, `template image '${t.image}' is not in ${o.images}`);
    return { id: t.image, file, points: t.points };
  });
  const { model, meta } = await loadExtractor(modelFile);
  const cache =
    // Beside the weights, not in the image folder (which may be read-only).
    o.cache === false ? undefined : await FeatureCache.open(join(dirname(modelFile), 'cache'), modelFile);
  const matcher = await TemplateMatcher.create(templates, {
    model,
    inputSize: meta.inputSize,
    cache,
    subpixel: o.subpixel ?? true,
  });
  const targets = files.filter((f) => !labels.images.some((t) => t.image === imageId(f)));
  const progress = startProgress('detecting', targets.length, 5);
  const detections: Detection[] = [];
  try {
    for (const file of targets) {
      detections.push(await matcher.detect(imageId(file), file));
      progress.update(detections.length);
    }
  } finally {
    progress.stop();
    matcher.dispose();
    model.dispose();
  }
  const out: Annotations = {
    names: labels.names,
    images: detections.map((d) => ({ image: d.id, points: d.points, width: d.width, height: d.height })),
  };
  await writeAnnotations(o.out, out, o.format);
  await writeFileAtomic(
    `${o.out}.detections.json`,
    JSON.stringify(
      {
        landmarks: labels.names,
        templates: templates.map((t) => t.id),
        detections: detections.map(({ id, points, confidence, templateOf }) => ({
          image: id,
          points,
          confidence,
          templateOf,
        })),
      },
      (_, v) => (typeof v === 'number' && Number.isNaN(v) ? null : v),
      1,
    ),
  );
  return { detections, templates: templates.map((t) => t.id) };
}
