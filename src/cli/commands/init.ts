// `fewmark init`: makes an annotation project from a folder of images, or
// adds to one (a selection, a model, annotations, a default spacing).
import { defaultNames } from '../../io/types.js';
import { type InitOptions, type InitResult, initProject } from '../../project/init.js';
import { UsageError } from '../errors.js';

export interface InitFlags {
  project: string;
  images?: string;
  /** Comma-separated names, or a count (L1, L2, ...). */
  landmarks?: string;
  landmarksFrom?: string;
  annotations?: string;
  /** mm per pixel: one number, or x,y. */
  spacing?: number | number[];
  selection?: string;
  model?: string;
}

/** Landmark names from the flag: "5" gives L1..L5, "Sella, Nasion" gives those. */
function parseLandmarks(value: string): string[] {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1) throw new UsageError('Expected a count of at least 1 or a list of names for --landmarks');
    return defaultNames(n);
  }
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === ''))
    throw new UsageError(`Expected comma-separated names for --landmarks but received '${value}'`);
  return names;
}

export async function init(flags: InitFlags): Promise<InitResult> {
  const o: InitOptions = {
    project: flags.project,
    images: flags.images,
    landmarksFrom: flags.landmarksFrom,
    annotations: flags.annotations,
    selection: flags.selection,
    model: flags.model,
  };
  if (flags.landmarks !== undefined) o.landmarks = parseLandmarks(flags.landmarks);
  if (flags.landmarks !== undefined && flags.landmarksFrom !== undefined)
    throw new UsageError('give --landmarks or --landmarks-from, not both');
  if (flags.spacing !== undefined) {
    const s = flags.spacing;
    o.spacing = Array.isArray(s) ? { x: s[0]!, y: s[1] ?? s[0]! } : { x: s, y: s };
  }
  return initProject(o);
}
