// Building refinement training data from files: the labeled templates and
// the pseudo-labeled images (template matching's predictions, with their
// peak confidences from PRED.detections.json), loaded at working size with
// their landmarks moved to working pixels.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as E from '../engine/index.js';
import { loadWorkingImage } from '../features/load.js';
import { toWorkingPoint } from '../features/preprocess.js';
import { DataError } from '../io/errors.js';
import { readAnnotations } from '../io/formats/index.js';
import { isMissing, type Point } from '../io/types.js';
import { confidenceWeights, presentWeights, type RefineData, type RefineSample } from './data.js';

export interface LabeledImage {
  id: string;
  file: string;
  /** Original pixels; NaN for missing. */
  points: Point[];
}

export interface PseudoLabeledImage extends LabeledImage {
  /** Template matching's peak per landmark (NaN when unknown). */
  confidence: number[];
}

export interface PseudoLabels {
  names: string[];
  images: { id: string; points: Point[]; confidence: number[] }[];
  /** Whether PRED.detections.json gave the confidences. */
  hasConfidence: boolean;
}

/** A predictions file and, when beside it, its detections JSON (for the confidences). */
export async function readPseudoLabels(path: string): Promise<PseudoLabels> {
  const ann = await readAnnotations(path);
  const confidences = new Map<string, number[]>();
  const side = `${path}.detections.json`;
  if (existsSync(side)) {
    let parsed: { detections?: { image: string; confidence: (number | null)[] }[] };
    try {
      parsed = JSON.parse(await readFile(side, 'utf8'));
    } catch (err) {
      throw new DataError(side, `not valid JSON: ${(err as Error).message}`);
    }
    for (const d of parsed.detections ?? [])
      confidences.set(
        d.image,
        d.confidence.map((c) => (c === null ? Number.NaN : c)),
      );
  }
  const l = ann.names.length;
  return {
    names: ann.names,
    hasConfidence: confidences.size > 0,
    images: ann.images.map((im) => ({
      id: im.image,
      points: im.points,
      confidence: confidences.get(im.image) ?? new Array(l).fill(Number.NaN),
    })),
  };
}

export interface LoadRefineOptions {
  inputSize: number;
  labeledWeight: number;
  confidenceWeighting: boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function loadRefineData(
  labeled: LabeledImage[],
  pseudo: PseudoLabeledImage[],
  o: LoadRefineOptions,
): Promise<RefineData> {
  const weights = o.confidenceWeighting ? confidenceWeights(pseudo.map((p) => p.confidence)) : undefined;
  const all = [
    ...labeled.map((im) => ({ im, labeled: true })),
    ...pseudo.map((im) => ({ im, labeled: false })),
  ];
  const inputs: E.Tensor[] = [];
  const samples: RefineSample[] = [];
  try {
    for (const [i, { im, labeled: isLabeled }] of all.entries()) {
      const w = await loadWorkingImage(im.file, o.inputSize);
      inputs.push(w.input);
      const points = im.points.map((p) =>
        isMissing(p) ? p : toWorkingPoint(p, w.width, w.height, o.inputSize),
      );
      const present = presentWeights(points, isLabeled ? o.labeledWeight : 1);
      const conf = isLabeled ? undefined : weights?.[i - labeled.length];
      samples.push({
        id: im.id,
        points,
        weights: conf ? present.map((v, k) => v * conf[k]!) : present,
        labeled: isLabeled,
      });
      o.onProgress?.(samples.length, all.length);
    }
    const images = E.cat(inputs, 0).keep();
    return { images, samples };
  } finally {
    for (const t of inputs) t.dispose();
  }
}
