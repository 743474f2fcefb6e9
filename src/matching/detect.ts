// One/few-shot detection: describe each template's landmarks, then for
// every target image take, per landmark, the peak of the template whose
// peak is highest (the seed paper's eq. 3). Features come from the cache
// when present. Predictions are in original pixels.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { FeatureCache } from '../features/cache.js';
import { loadWorkingImage } from '../features/load.js';
import type { FeatureExtractor } from '../features/model.js';
import { fromWorkingPoint, toWorkingPoint } from '../features/preprocess.js';
import { extractPyramid } from '../features/pyramid.js';
import { readImageSize } from '../io/folder.js';
import { isMissing, type Point } from '../io/types.js';
import { coarseGrid, coarseToFinePeaks, defaultCoarseToFine } from './coarse-to-fine.js';
import { describeLandmarks, findPeaks, similarityMaps } from './match.js';

export interface Template {
  id: string;
  file: string;
  /** Original pixels; NaN for landmarks the template does not show. */
  points: Point[];
}

export interface Detection {
  id: string;
  file: string;
  width: number;
  height: number;
  /** Original pixels. */
  points: Point[];
  /** Peak similarity per landmark (product of clamped cosines, in [0, 1]). */
  confidence: number[];
  /** Which template won each landmark. */
  templateOf: string[];
}

export interface DetectorOptions {
  model: FeatureExtractor;
  inputSize: number;
  cache?: FeatureCache;
  subpixel?: boolean;
  /**
   * Compute every landmark's full-size map instead of searching coarse to
   * fine (same predictions on ISBI, bench/detect-coarse-to-fine; ~4x slower).
   */
  exactMaps?: boolean;
  /**
   * Several templates: the coordinate-wise median of their peaks (default:
   * 19% lower MRE than eq. 3 with 5 random templates, measured on the ISBI
   * training images, docs/selection.md) or the highest peak (paper eq. 3).
   */
  fusion?: Fusion;
}

export type Fusion = 'max-peak' | 'median';

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * One landmark's answer from its templates' peaks. max-peak: the highest
 * peak wins. median: the coordinate-wise median of the peaks' points, with
 * the median peak value as confidence and the template nearest to it named.
 */
export function fusePeaks(
  peaks: { point: Point; value: number; template: string }[],
  fusion: Fusion,
): { point: Point; value: number; template: string } | undefined {
  if (peaks.length === 0) return undefined;
  if (fusion === 'max-peak' || peaks.length === 1) return peaks.reduce((a, b) => (b.value > a.value ? b : a));
  const point = { x: median(peaks.map((p) => p.point.x)), y: median(peaks.map((p) => p.point.y)) };
  const nearest = peaks.reduce((a, b) =>
    Math.hypot(b.point.x - point.x, b.point.y - point.y) <
    Math.hypot(a.point.x - point.x, a.point.y - point.y)
      ? b
      : a,
  );
  return { point, value: median(peaks.map((p) => p.value)), template: nearest.template };
}

/** Feature pyramid of an image file, through the cache. */
export async function pyramidOf(
  file: string,
  o: DetectorOptions,
): Promise<{ pyramid: Tensor[]; width: number; height: number }> {
  const key = o.cache ? await o.cache.keyOf(file, o.inputSize) : '';
  const cached = o.cache ? await o.cache.get(key) : undefined;
  if (cached) return { pyramid: cached, ...(await readImageSize(file)) };
  const image = await loadWorkingImage(file, o.inputSize);
  const pyramid = extractPyramid(o.model, image.input);
  image.input.dispose();
  if (o.cache) await o.cache.put(key, pyramid);
  return { pyramid, width: image.width, height: image.height };
}

export class TemplateMatcher {
  private constructor(
    readonly templates: { id: string; descriptors: Tensor[]; valid: boolean[] }[],
    readonly landmarkCount: number,
    readonly options: DetectorOptions,
  ) {}

  static async create(templates: Template[], o: DetectorOptions): Promise<TemplateMatcher> {
    if (templates.length === 0) throw new Error('detect: at least one annotated template is needed');
    const count = templates[0]!.points.length;
    const described = [];
    for (const t of templates) {
      if (t.points.length !== count)
        throw new Error(`detect: template ${t.id} has ${t.points.length} landmarks, the first has ${count}`);
      const { pyramid, width, height } = await pyramidOf(t.file, o);
      const work = t.points.map((p) =>
        isMissing(p) ? { x: 0, y: 0 } : toWorkingPoint(p, width, height, o.inputSize),
      );
      const descriptors = describeLandmarks(pyramid, work, o.inputSize).map((d) => d.keep());
      for (const layer of pyramid) layer.dispose();
      described.push({ id: t.id, descriptors, valid: t.points.map((p) => !isMissing(p)) });
    }
    return new TemplateMatcher(described, count, o);
  }

  async detect(id: string, file: string): Promise<Detection> {
    const { pyramid, width, height } = await pyramidOf(file, this.options);
    const size = this.options.inputSize;
    const subpixel = this.options.subpixel ?? true;
    const grid = this.options.exactMaps
      ? undefined
      : coarseGrid(pyramid, size, defaultCoarseToFine.gridStride);
    // Every template's peak per landmark, then one answer per landmark.
    const found: { point: Point; value: number; template: string }[][] = Array.from(
      { length: this.landmarkCount },
      () => [],
    );
    for (const t of this.templates) {
      const peaks = E.tidy(() =>
        grid
          ? coarseToFinePeaks(t.descriptors, pyramid, size, defaultCoarseToFine, grid, subpixel)
          : findPeaks(similarityMaps(t.descriptors, pyramid, size), subpixel),
      );
      peaks.forEach((p, k) => {
        if (t.valid[k]) found[k]!.push({ ...p, template: t.id });
      });
    }
    grid?.dispose();
    for (const layer of pyramid) layer.dispose();
    const fused = found.map((peaks) => fusePeaks(peaks, this.options.fusion ?? 'median'));
    return {
      id,
      file,
      width,
      height,
      points: fused.map((b) =>
        b ? fromWorkingPoint(b.point, width, height, size) : { x: Number.NaN, y: Number.NaN },
      ),
      confidence: fused.map((b) => (b ? b.value : 0)),
      templateOf: fused.map((b) => (b ? b.template : '')),
    };
  }

  dispose(): void {
    for (const t of this.templates) for (const d of t.descriptors) d.dispose();
  }
}
