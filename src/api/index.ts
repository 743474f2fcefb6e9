// fewmark as a library: `import { train, select, detect, refine, evaluate } from 'fewmark'`.
// Each call takes an options object and returns data; long calls report
// progress through `onProgress` and stop on an AbortSignal. Nothing here
// prints or exits; errors are DataError (a named file and what is wrong
// with it) or RangeError (an option out of range).

export type { EvaluationOptions } from '../eval/evaluate.js';
export { evaluateLandmarks as evaluate } from '../eval/evaluate.js';
export type { EvaluationResult } from '../eval/report.js';
export { DataError } from '../io/errors.js';
export { readAnnotations as readLandmarks, writeAnnotations as writeLandmarks } from '../io/formats/index.js';
export { readImage } from '../io/image.js';
export type { AnnotatedImage, Annotations, Point } from '../io/types.js';
export type { PhantomOptions, PhantomResult } from '../phantom/dataset.js';
/** Synthetic hand X-rays with known landmarks on disk: images/, landmarks.csv, phantom.json. */
export { writePhantomDataset as makePhantoms } from '../phantom/dataset.js';
export type { Strategy } from '../selection/select.js';
export { STRATEGIES } from '../selection/select.js';
export type { Detection, DetectOptions } from './detect.js';
export { detect, detectionsAsLandmarks } from './detect.js';
export type { FeaturesOptions, FeaturesResult } from './features.js';
export { extractFeatures } from './features.js';
export type { ImageSource } from './images.js';
export type { ExtractorModel, Model, RefinedModel } from './models.js';
export { loadModel } from './models.js';
export type { LongCall, OnProgress, Progress } from './progress.js';
export type { RefineOptions, RefineResult } from './refine.js';
export { refine } from './refine.js';
export type { ChosenImage, SelectOptions, SelectResult } from './select.js';
export { select } from './select.js';
export type { TrainOptions, TrainResult } from './train.js';
export { train } from './train.js';
