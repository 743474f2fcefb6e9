// Loading models for the public API: a folder from training (the feature
// extractor, used by template matching and selection) or from refinement
// (the heatmap network). The feature cache lives beside the weights.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FeatureCache } from '../features/cache.js';
import { EXTRACTOR_FILE, loadExtractor } from '../features/checkpoint.js';
import type { FeatureExtractor } from '../features/model.js';
import { DataError } from '../io/errors.js';
import { isRefinedModel } from '../refine/checkpoint.js';
import { RefinedDetector } from '../refine/infer.js';

export interface ExtractorModel {
  kind: 'extractor';
  /** The weights file. */
  file: string;
  network: FeatureExtractor;
  /** Working size (pixels) the images are resized to. */
  inputSize: number;
  /** Feature pyramids kept on disk beside the weights; undefined without a cache. */
  cache?: FeatureCache;
  dispose(): void;
}

export interface RefinedModel {
  kind: 'refined';
  dir: string;
  detector: RefinedDetector;
  dispose(): void;
}

export type Model = ExtractorModel | RefinedModel;

/** The extractor weights of a model folder, or the file itself. */
export function extractorFile(model: string): string {
  const path = existsSync(model) && statSync(model).isDirectory() ? join(model, EXTRACTOR_FILE) : model;
  if (!existsSync(path)) throw new DataError(model, `no trained extractor (${EXTRACTOR_FILE})`);
  return path;
}

/**
 * Loads a model folder: a refined model if it holds one, else the feature
 * extractor. `cache: false` keeps no feature pyramids on disk; `fine: false`
 * leaves a refined model's fine stage out.
 */
export async function loadModel(path: string, o: { cache?: boolean; fine?: boolean } = {}): Promise<Model> {
  if (isRefinedModel(path)) {
    const detector = await RefinedDetector.load(path, { fine: o.fine });
    return { kind: 'refined', dir: resolve(path), detector, dispose: () => detector.dispose() };
  }
  const file = extractorFile(path);
  const { model, meta } = await loadExtractor(file);
  const cache = o.cache === false ? undefined : await FeatureCache.open(join(dirname(file), 'cache'), file);
  return {
    kind: 'extractor',
    file,
    network: model,
    inputSize: meta.inputSize,
    cache,
    dispose: () => model.dispose(),
  };
}

/** A model given as a loaded one or a path: the model, and whether this call must dispose of it. */
export async function modelOf(model: Model | string): Promise<{ model: Model; owned: boolean }> {
  return typeof model === 'string' ? { model: await loadModel(model), owned: true } : { model, owned: false };
}
