// Helpers the landmark formats share: strict number parsing, the checks
// every writer makes, landmark-name ordering, image ids from file names and
// JSON parsing with a line number.
import { DataError } from '../errors.js';
import { type Annotations, isMissing } from '../types.js';

// Decimal numbers only: Number() would also take '', ' ', '0x1f' and 'Infinity'.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number a text cell holds, or undefined when it is not a plain, finite decimal number (1e309 is not). */
export function decimal(text: string): number | undefined {
  const s = text.trim();
  const n = DECIMAL.test(s) ? Number(s) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** A JSON value that must be a finite number. */
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * What every writer checks before formatting anything: unique, non-empty
 * names and image ids, one point per name, and no infinite coordinates
 * (NaN is a missing landmark; anything else must be a real position).
 */
export function checkWritable(ann: Annotations, writer: string): void {
  const names = new Set<string>();
  for (const name of ann.names) {
    if (name === '') throw new Error(`${writer}: a landmark name is empty`);
    if (names.has(name)) throw new Error(`${writer}: landmark name '${name}' appears twice`);
    names.add(name);
  }
  const ids = new Set<string>();
  for (const img of ann.images) {
    if (img.image === '') throw new Error(`${writer}: an image id is empty`);
    if (ids.has(img.image)) throw new Error(`${writer}: image '${img.image}' appears twice`);
    ids.add(img.image);
    if (img.points.length !== ann.names.length)
      throw new Error(
        `${writer}: image '${img.image}' has ${img.points.length} points, expected ${ann.names.length}`,
      );
    img.points.forEach((p, k) => {
      if (!isMissing(p) && !(Number.isFinite(p.x) && Number.isFinite(p.y)))
        throw new Error(`${writer}: image '${img.image}' landmark '${ann.names[k]}' is at (${p.x}, ${p.y})`);
    });
  }
}

/**
 * Landmark names in the order the file implies, from each image's names in
 * file order. This is first-appearance order, except that a name an early
 * image lacks (a missing landmark left out) goes right after the name that
 * precedes it where it does appear, so gaps do not reorder the landmarks.
 */
export function orderedNames(perImage: Iterable<string[]>): string[] {
  const names: string[] = [];
  const known = new Set<string>();
  for (const sequence of perImage) {
    sequence.forEach((name, i) => {
      if (known.has(name)) return;
      known.add(name);
      const before = i > 0 ? names.indexOf(sequence[i - 1]!) : -1;
      if (before >= 0) {
        names.splice(before + 1, 0, name);
        return;
      }
      // First in its image: put it before the first later name already placed.
      const after = sequence.slice(i + 1).find((n) => known.has(n));
      if (after !== undefined) names.splice(names.indexOf(after), 0, name);
      else names.push(name);
    });
  }
  return names;
}

// The image extensions folder listing knows; only these are stripped, so an
// id written as a file name ('case.v2') reads back unchanged.
const IMAGE_EXTENSIONS = ['.bmp', '.png', '.jpg', '.jpeg', '.tif', '.tiff', '.dcm', '.dicom'];

/** The image id for a file name a format stores: no folder, no image extension. */
export function imageIdFromFileName(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  if (dot > 0 && IMAGE_EXTENSIONS.includes(base.slice(dot).toLowerCase())) return base.slice(0, dot);
  return base;
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** JSON.parse with a DataError naming the file and, when JSON.parse tells the offset, the line. */
export function parseJson(text: string, source: string): unknown {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(json);
  } catch (err) {
    const message = (err as Error).message;
    // V8 tells where as "at position N" (Node 20) or "(line N column M)" (Node 22).
    const offset = /at position (\d+)/.exec(message);
    const line = /\(line (\d+) column \d+\)/.exec(message);
    const where = offset ? lineAt(json, Number(offset[1])) : line ? Number(line[1]) : undefined;
    throw new DataError(source, `not valid JSON: ${message}`, where);
  }
}

/** A plain JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Shortest readable form of a bad JSON value for an error message. */
export const shown = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));
