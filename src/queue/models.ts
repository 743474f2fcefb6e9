// A worker's loaded models: each model folder is loaded once (by the
// library's loadModel) and kept for the jobs that follow, and loaded again
// only when its weights change on disk (a retrained model at the same
// path). Template matchers (the templates' descriptors) are kept likewise.
import { loadModel, type Model } from '../api/models.js';
import { readAnnotations } from '../io/formats/index.js';
import { type Fusion, TemplateMatcher } from '../matching/detect.js';
import { pairTemplates } from '../matching/templates.js';
import { fileKey, hashOf, modelKey } from './content-key.js';

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

export class ModelStore {
  private readonly models = new Map<string, { key: string; model: Model }>();
  private readonly matchers = new Map<string, { key: string; matcher: TemplateMatcher }>();

  /** The model and the key of its weights. */
  async model(c: ModelChoice): Promise<{ model: Model; key: string }> {
    const key = await modelKey(c.model, { fine: c.fine });
    const slot = `${c.model}|${c.cache !== false}|${c.fine !== false}`;
    const held = this.models.get(slot);
    if (held?.key === key) return held;
    if (held) this.drop(slot, held.model);
    const loaded = { key, model: await loadModel(c.model, { cache: c.cache, fine: c.fine }) };
    this.models.set(slot, loaded);
    return loaded;
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
    const held = this.matchers.get(slot);
    if (held?.key === key) return held;
    held?.matcher.dispose();
    const labels = await readAnnotations(c.templates);
    const templates = await pairTemplates(labels, c.templates, c.templateFiles, 'the templates given');
    const matcher = await TemplateMatcher.create(templates, {
      model: model.network,
      inputSize: model.inputSize,
      cache: model.cache,
      subpixel: c.subpixel,
      fusion: c.fusion,
    });
    this.matchers.set(slot, { key, matcher });
    return { matcher, key };
  }

  private drop(slot: string, model: Model): void {
    for (const [s, m] of this.matchers)
      if (s.startsWith(`${slot.split('|').slice(0, 2).join('|')}|`)) {
        m.matcher.dispose();
        this.matchers.delete(s);
      }
    model.dispose();
    this.models.delete(slot);
  }

  dispose(): void {
    for (const m of this.matchers.values()) m.matcher.dispose();
    for (const m of this.models.values()) m.model.dispose();
    this.matchers.clear();
    this.models.clear();
  }
}
