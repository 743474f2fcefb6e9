// A worker's loaded models: each model folder is loaded once (by the
// library's loadModel) and kept for the jobs that follow, and loaded again
// only when its weights change on disk (a retrained model at the same
// path). Template matchers (the templates' descriptors) are kept likewise.
// A replaced model is disposed at once: with --concurrency above 1, a job
// still using the old weights at that moment would fail and be retried.

import { fileKey, hashOf, modelKey } from '../api/content-key.js';
import { loadModel, type Model } from '../api/models.js';
import { readAnnotations } from '../io/formats/index.js';
import { type Fusion, TemplateMatcher } from '../matching/detect.js';
import { pairTemplates } from '../matching/templates.js';

export interface ModelChoice {
  /** A model folder (or extractor file), at the same path on every machine. */
  model: string;
  /** Keep feature pyramids in the cache beside the model (default true). */
  cache?: boolean;
  /** A refined model: use its fine stage when it has one (default true). */
  fine?: boolean;
}

export interface MatcherChoice extends ModelChoice {
  /** The landmarks file of the templates. */
  templates: string;
  /** The templates' image files. */
  templateFiles: string[];
  fusion: Fusion;
  subpixel: boolean;
}

/** A loaded thing, held under a slot while the key of what it was made from stays the same. */
interface Held<T> {
  key: string;
  /** A promise, so that jobs running at once (--concurrency) share one load. */
  value: Promise<T>;
}

export class ModelStore {
  private readonly models = new Map<string, Held<Model>>();
  private readonly matchers = new Map<string, Held<TemplateMatcher> & { model: string }>();

  /** The model and the key of its weights. */
  async model(c: ModelChoice): Promise<{ model: Model; key: string }> {
    const key = await modelKey(c.model, { fine: c.fine });
    const slot = `${c.model}|${c.cache !== false}|${c.fine !== false}`;
    let held = this.models.get(slot);
    if (held?.key !== key) {
      // Retrained at the same path: the old weights and their matchers go.
      if (held) await this.drop(slot, held);
      held = { key, value: loadModel(c.model, { cache: c.cache, fine: c.fine }) };
      this.models.set(slot, held);
    }
    try {
      return { model: await held.value, key };
    } catch (err) {
      this.models.delete(slot); // a failed load is tried again by the next job
      throw err;
    }
  }

  /** A template matcher, and a key of everything its detections depend on. */
  async matcher(c: MatcherChoice): Promise<{ matcher: TemplateMatcher; key: string }> {
    const { model, key: weights } = await this.model(c);
    if (model.kind !== 'extractor')
      throw new Error(`${c.model}: template matching needs a trained extractor`);
    const inputs = [weights, await fileKey(c.templates), c.fusion, String(c.subpixel)];
    for (const f of c.templateFiles) inputs.push(f, await fileKey(f));
    const key = hashOf(...inputs);
    const slot = `${c.model}|${c.cache !== false}|${c.templates}`;
    let held = this.matchers.get(slot);
    if (held?.key !== key) {
      if (held) (await held.value.catch(() => undefined))?.dispose();
      const create = async () => {
        const labels = await readAnnotations(c.templates);
        const templates = await pairTemplates(labels, c.templates, c.templateFiles, 'the templates given');
        return TemplateMatcher.create(templates, {
          model: model.network,
          inputSize: model.inputSize,
          cache: model.cache,
          subpixel: c.subpixel,
          fusion: c.fusion,
        });
      };
      held = { key, value: create(), model: c.model };
      this.matchers.set(slot, held);
    }
    try {
      return { matcher: await held.value, key };
    } catch (err) {
      this.matchers.delete(slot); // a failed load is tried again by the next job
      throw err;
    }
  }

  private async drop(slot: string, held: Held<Model>): Promise<void> {
    const path = slot.split('|')[0];
    for (const [s, m] of this.matchers)
      if (m.model === path) {
        this.matchers.delete(s);
        (await m.value.catch(() => undefined))?.dispose();
      }
    this.models.delete(slot);
    (await held.value.catch(() => undefined))?.dispose();
  }

  async dispose(): Promise<void> {
    for (const m of this.matchers.values()) (await m.value.catch(() => undefined))?.dispose();
    for (const m of this.models.values()) (await m.value.catch(() => undefined))?.dispose();
    this.matchers.clear();
    this.models.clear();
  }
}
