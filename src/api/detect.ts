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
import { type ImageSource, imageFiles } from './images.js';
import { type Model, modelOf } from './models.js';
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
}

export async function detect(o: DetectOptions): Promise<Detection[]> {
  checkAborted(o.signal);
  const { files, name } = await imageFiles(o.images);
  const labelsName = typeof o.templates === 'string' ? o.templates : 'the templates given';
  const labels = typeof o.templates === 'string' ? await readAnnotations(o.templates) : o.templates;
  const { model, owned } = await modelOf(o.model);
  try {
    let skip: Set<string>;
    let find: (id: string, file: string) => Promise<Detection>;
    let matcher: TemplateMatcher | undefined;
    if (model.kind === 'refined') {
      const byId = new Map(files.map((f) => [imageId(f), f]));
      skip = new Set(labels?.images.map((t) => findImage(t.image, byId)).filter((f) => f !== undefined));
      find = (id, file) => model.detector.detect(id, file);
    } else {
      if (!labels) throw new RangeError('detect: template matching needs templates (labeled images)');
      const templates = await pairTemplates(labels, labelsName, files, name);
      matcher = await TemplateMatcher.create(templates, {
        model: model.network,
        inputSize: model.inputSize,
        cache: model.cache,
        fusion: o.fusion ?? 'median',
      });
      skip = new Set(templates.map((t) => t.file));
      find = (id, file) => matcher!.detect(id, file);
    }
    try {
      return await detectAll(
        find,
        files.filter((f) => !skip.has(f)),
        {
          signal: o.signal,
          onProgress: (done, total) => o.onProgress?.({ phase: 'detecting', done, total }),
        },
      );
    } finally {
      matcher?.dispose();
    }
  } finally {
    if (owned) model.dispose();
  }
}
