// Every candidate template's one-shot peaks on every target image, once.
export type { Fusion } from '../matching/detect.js';

// Few-shot template matching picks, per image and landmark, the template
// whose peak is highest (paper eq. 3), so with this table any set of
// templates is evaluated by lookups: thousands of random sets cost nothing
// once the J x I matching is done. The table is saved after each block of
// templates and a rerun continues where it stopped.
import { existsSync } from 'node:fs';
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { fromWorkingPoint, toWorkingPoint } from '../features/preprocess.js';
import type { Point } from '../io/types.js';
import { coarseGrid, coarseToFinePeaks, defaultCoarseToFine } from '../matching/coarse-to-fine.js';
import { type DetectorOptions, type Fusion, fusePeaks, pyramidOf } from '../matching/detect.js';
import { describeLandmarks } from '../matching/match.js';

export interface LabelledImage {
  id: string;
  file: string;
  /** Original pixels. */
  points: Point[];
}

export interface TargetImage {
  id: string;
  file: string;
}

export interface OneShotTable {
  templates: string[];
  targets: string[];
  landmarks: number;
  /** [template, target, landmark]: predicted point in original pixels and its peak value. */
  x: Float32Array;
  y: Float32Array;
  value: Float32Array;
  /** Templates done so far (a prefix of `templates`). */
  done: number;
}

const at = (t: OneShotTable, j: number, i: number, l: number) => (j * t.targets.length + i) * t.landmarks + l;

async function load(file: string, templates: string[], targets: string[], landmarks: number) {
  if (!existsSync(file)) return undefined;
  const { tensors, metadata } = await E.loadSafetensors(file);
  const same =
    metadata.templates === JSON.stringify(templates) &&
    metadata.targets === JSON.stringify(targets) &&
    Number(metadata.landmarks) === landmarks;
  if (!same) return undefined; // another pool, target set or model: start over
  const read = (name: string) => {
    const data = tensors[name]!.data() as Float32Array;
    tensors[name]!.dispose();
    return data;
  };
  return { x: read('x'), y: read('y'), value: read('value'), done: Number(metadata.done) };
}

async function save(file: string, t: OneShotTable): Promise<void> {
  const shape = [t.templates.length, t.targets.length, t.landmarks];
  const tensors: Record<string, Tensor> = {
    x: E.tensor(t.x, shape),
    y: E.tensor(t.y, shape),
    value: E.tensor(t.value, shape),
  };
  await E.saveSafetensors(file, tensors, {
    templates: JSON.stringify(t.templates),
    targets: JSON.stringify(t.targets),
    landmarks: String(t.landmarks),
    done: String(t.done),
  });
  for (const x of Object.values(tensors)) x.dispose();
}

export interface TableOptions extends DetectorOptions {
  /** Where the table is kept between runs (a model change gives new targets' features, so keep it per model). */
  file: string;
  onProgress?: (done: number, total: number) => void;
  /** Save after this many templates. */
  saveEvery?: number;
}

/** Matches every template against every target (target features are read once and kept). */
export async function buildOneShotTable(
  templates: LabelledImage[],
  targets: TargetImage[],
  o: TableOptions,
): Promise<OneShotTable> {
  const landmarks = templates[0]?.points.length ?? 0;
  const ids = templates.map((t) => t.id);
  const targetIds = targets.map((t) => t.id);
  const size = templates.length * targets.length * landmarks;
  const loaded = await load(o.file, ids, targetIds, landmarks);
  const table: OneShotTable = {
    templates: ids,
    targets: targetIds,
    landmarks,
    x: loaded?.x ?? new Float32Array(size),
    y: loaded?.y ?? new Float32Array(size),
    value: loaded?.value ?? new Float32Array(size),
    done: loaded?.done ?? 0,
  };
  if (table.done === templates.length) return table;
  const pyramids: { pyramid: Tensor[]; grid: Tensor; width: number; height: number }[] = [];
  for (const t of targets) {
    const p = await pyramidOf(t.file, o);
    const grid = coarseGrid(p.pyramid, o.inputSize, defaultCoarseToFine.gridStride).keep();
    pyramids.push({ ...p, grid, pyramid: p.pyramid.map((x) => x.keep()) });
  }
  try {
    for (let j = table.done; j < templates.length; j++) {
      const tpl = templates[j]!;
      const tp = await pyramidOf(tpl.file, o);
      const work = tpl.points.map((p) => toWorkingPoint(p, tp.width, tp.height, o.inputSize));
      const descriptors = describeLandmarks(tp.pyramid, work, o.inputSize);
      pyramids.forEach((target, i) => {
        E.tidy(() => {
          const peaks = coarseToFinePeaks(
            descriptors,
            target.pyramid,
            o.inputSize,
            defaultCoarseToFine,
            target.grid,
            o.subpixel ?? true,
          );
          peaks.forEach((peak, l) => {
            const p = fromWorkingPoint(peak.point, target.width, target.height, o.inputSize);
            const k = at(table, j, i, l);
            table.x[k] = p.x;
            table.y[k] = p.y;
            table.value[k] = peak.value;
          });
        });
      });
      for (const t of [...tp.pyramid, ...descriptors]) t.dispose();
      table.done = j + 1;
      o.onProgress?.(table.done, templates.length);
      if (table.done % (o.saveEvery ?? 10) === 0 || table.done === templates.length)
        await save(o.file, table);
    }
  } finally {
    for (const p of pyramids) for (const x of [...p.pyramid, p.grid]) x.dispose();
  }
  return table;
}

/**
 * Radial errors (mm) of few-shot matching with template set `set` (indices
 * into table.templates), one per target and landmark. Targets that are
 * themselves in the set (a pool evaluated on itself) are left out, and so
 * are those not in `only` (target indices) when it is given.
 */
function setErrors(
  table: OneShotTable,
  set: readonly number[],
  truth: Point[][],
  spacingMm: number,
  fusion: Fusion = 'max-peak',
  only?: readonly number[],
): number[] {
  const inSet = new Set(set.map((j) => table.templates[j]!));
  const errors: number[] = [];
  for (const i of only ?? table.targets.keys()) {
    if (inSet.has(table.targets[i]!)) continue;
    for (let l = 0; l < table.landmarks; l++) {
      // The same rule as detection (matching/detect.ts).
      const peaks = set.map((j) => {
        const k = at(table, j, i, l);
        return { point: { x: table.x[k]!, y: table.y[k]! }, value: table.value[k]!, template: '' };
      });
      const p = fusePeaks(peaks, fusion)!.point;
      const g = truth[i]![l]!;
      errors.push(Math.hypot(p.x - g.x, p.y - g.y) * spacingMm);
    }
  }
  return errors;
}

/** Mean radial error (mm) of a template set, over every target or over `only` (target indices). */
export function setMre(
  table: OneShotTable,
  set: readonly number[],
  truth: Point[][],
  spacingMm: number,
  fusion: Fusion = 'max-peak',
  only?: readonly number[],
): number {
  const e = setErrors(table, set, truth, spacingMm, fusion, only);
  return e.reduce((a, b) => a + b, 0) / e.length;
}
