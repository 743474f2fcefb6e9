// The `detect` job: one image's Detection, by template matching or by a
// refined model, as a result file (result-file.ts) in a parts folder on
// shared storage. Its content key covers the model's weights, the image's
// bytes and, for template matching, the templates and options, so a job
// done twice writes the part once.

import { fileKey, hashOf } from '../api/content-key.js';
import { imageId } from '../io/folder.js';
import type { Detection, Fusion } from '../matching/detect.js';
import { hasResult, writeResult } from '../util/result-file.js';
import type { JobKind } from './kinds.js';

export interface DetectJob {
  /** A model folder or extractor file (absolute). */
  model: string;
  /** A refined model: use its fine stage (default true). */
  fine?: boolean;
  /** Keep feature pyramids in the model's cache (default true). */
  cache?: boolean;
  /** Template matching: the landmarks file and the templates' image files (absolute). */
  templates?: { labels: string; files: string[]; fusion: Fusion; subpixel: boolean };
  /** The image (absolute). */
  file: string;
  /** The part file to write (absolute). */
  out: string;
}

export const detectJob: JobKind<DetectJob> = {
  async run(input, { models }) {
    const choice = { model: input.model, cache: input.cache, fine: input.fine };
    let find: (id: string, file: string) => Promise<Detection>;
    let key: string;
    if (input.templates) {
      const t = input.templates;
      const m = await models.matcher({ ...choice, templates: t.labels, templateFiles: t.files, ...t });
      find = (id, file) => m.matcher.detect(id, file);
      key = m.key;
    } else {
      const m = await models.model(choice);
      if (m.model.kind !== 'refined') throw new Error(`${input.model}: template matching needs templates`);
      const detector = m.model.detector;
      find = (id, file) => detector.detect(id, file);
      key = m.key;
    }
    key = hashOf(key, await fileKey(input.file));
    if (await hasResult(input.out, key)) return 'already done';
    await writeResult(input.out, key, await find(imageId(input.file), input.file));
    return 'detected';
  },
};
