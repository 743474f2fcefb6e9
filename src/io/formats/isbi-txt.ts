// ISBI 2015 style text folders: one NNN.txt per image (the image id is the
// file name without .txt) whose first L lines are the landmarks as x,y in
// fewmark's own pixel convention (integers in the official files; any
// decimal is read and written as it is). The official files go on with
// clinical class lines, so only the first L lines count: L is the expected
// landmark count when the caller knows it (19 for ISBI), otherwise the
// landmarks run until the first line that is not number,number and every
// file must have as many. The files carry no names: they read as L1..LL.
// A missing landmark is written NaN,NaN so the lines keep their places.
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { type Annotations, defaultNames, isMissing, type Point } from '../types.js';
import { checkWritable, decimal } from './shared.js';

export interface TextFile {
  /** File name inside the folder. */
  name: string;
  text: string;
}

/** The files of a folder that hold landmarks: visible .txt files. */
export const isIsbiTxtFile = (name: string) => name.toLowerCase().endsWith('.txt') && !name.startsWith('.');

export function formatIsbiTxt(ann: Annotations): TextFile[] {
  checkWritable(ann, 'formatIsbiTxt');
  return ann.images.map((img) => {
    if (/[/\\\0]/.test(img.image) || img.image.startsWith('.'))
      throw new Error(`formatIsbiTxt: image id '${img.image}' cannot be a file name`);
    const lines = img.points.map((p) => (isMissing(p) ? 'NaN,NaN' : `${p.x},${p.y}`));
    return { name: `${img.image}.txt`, text: `${lines.join('\n')}\n` };
  });
}

export function parseIsbiTxt(files: TextFile[], dir: string, landmarkCount?: number): Annotations {
  if (files.length === 0) throw new DataError(dir, 'no .txt landmark files in this folder');
  const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  let first: { name: string; count: number } | undefined;
  const images = sorted.map((file) => {
    const path = join(dir, file.name);
    const lines = file.text.replace(/^\uFEFF/, '').split(/\r?\n/);
    const points =
      landmarkCount === undefined ? leadingPairs(lines, path) : firstPairs(lines, landmarkCount, path);
    if (points.length === 0)
      throw new DataError(path, `'${lines[0]}' is not x,y (the first line must be a landmark)`, 1);
    if (!first) first = { name: file.name, count: points.length };
    else if (points.length !== first.count) {
      const problem = `${landmarks(points.length)}, but ${first.name} has ${first.count}`;
      const stop = lines[points.length]?.trim();
      if (!stop) throw new DataError(path, problem);
      throw new DataError(path, `${problem}; '${stop}' is not x,y`, points.length + 1);
    }
    return { image: file.name.slice(0, -'.txt'.length), points };
  });
  return { names: defaultNames(first!.count), images };
}

const landmarks = (n: number) => `${n} landmark${n === 1 ? '' : 's'}`;

/** Generic reading: the x,y lines before the first line that is not one. */
function leadingPairs(lines: string[], path: string): Point[] {
  const points: Point[] = [];
  for (const [i, line] of lines.entries()) {
    const p = pair(line, path, i + 1);
    if (!p) break;
    points.push(p);
  }
  return points;
}

/** Reading with a known count: exactly the first `count` lines, each x,y. */
function firstPairs(lines: string[], count: number, path: string): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < count; i++) {
    if (i >= lines.length || (lines[i]!.trim() === '' && lines.slice(i).every((l) => l.trim() === '')))
      throw new DataError(path, `${landmarks(i)}, expected ${count}`);
    const p = pair(lines[i]!, path, i + 1);
    if (!p) throw new DataError(path, `landmark ${i + 1}: '${lines[i]}' is not x,y numbers`, i + 1);
    points.push(p);
  }
  return points;
}

/** A line's x,y point, or undefined when the line is not two numbers (NaN counts: a missing landmark). */
function pair(line: string, path: string, lineNo: number): Point | undefined {
  const cells = line.split(',');
  if (cells.length !== 2) return undefined;
  const [x, y] = cells.map((c) => (c.trim().toLowerCase() === 'nan' ? Number.NaN : decimal(c)));
  if (x === undefined || y === undefined) return undefined;
  if (Number.isNaN(x) !== Number.isNaN(y))
    throw new DataError(path, `'${line}': x and y must both be numbers or both NaN`, lineNo);
  return { x, y };
}
