// The ISBI 2015 cephalometric challenge layout (see shared data README):
// RawImage/{TrainingData,Test1Data,Test2Data}/NNN.{bmp,jpg,png} and
// AnnotationsByMD/{400_senior,400_junior}/NNN.txt with 19 lines x,y (the
// official files carry clinical classes after line 19; they are ignored).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, readInput } from '../errors.js';
import { imageId, listImages } from '../folder.js';
import type { Dataset, ImageRecord, Point } from '../types.js';

const ISBI_LANDMARKS = [
  'sella',
  'nasion',
  'orbitale',
  'porion',
  'subspinale',
  'supramentale',
  'pogonion',
  'menton',
  'gnathion',
  'gonion',
  'lower incisal incision',
  'upper incisal incision',
  'upper lip',
  'lower lip',
  'subnasale',
  'soft tissue pogonion',
  'posterior nasal spine',
  'anterior nasal spine',
  'articulare',
];

const ISBI_SIZE = { width: 1935, height: 2400 };
export const ISBI_SPACING_MM = 0.1;

export type IsbiSplit = 'train' | 'test1' | 'test2';
export type IsbiGroundTruth = 'senior' | 'junior' | 'mean';

const SPLIT_FOLDERS: Record<IsbiSplit, string> = {
  train: 'TrainingData',
  test1: 'Test1Data',
  test2: 'Test2Data',
};

/** The first 19 lines of one doctor's file, as points. */
export async function readIsbiAnnotation(file: string): Promise<Point[]> {
  const text = (await readInput(file, 'annotation')).toString('utf8');
  const lines = text.split(/\r?\n/);
  const points: Point[] = [];
  for (let i = 0; i < ISBI_LANDMARKS.length; i++) {
    const line = lines[i]?.trim();
    if (line === undefined || line === '')
      throw new DataError(file, `expected ${ISBI_LANDMARKS.length} landmark lines, found ${i}`, i + 1);
    const parts = line.split(/[,\s]+/);
    const x = Number(parts[0]);
    const y = Number(parts[1]);
    if (parts.length < 2 || !Number.isFinite(x) || !Number.isFinite(y))
      throw new DataError(
        file,
        `expected 'x,y' for landmark ${i + 1} (${ISBI_LANDMARKS[i]}), found '${line}'`,
        i + 1,
      );
    points.push({ x, y });
  }
  return points;
}

export interface IsbiOptions {
  split: IsbiSplit;
  groundTruth?: IsbiGroundTruth;
}

/** Loads one split; landmarks are the chosen doctor's or their mean. */
export async function loadIsbi2015(root: string, o: IsbiOptions): Promise<Dataset> {
  const folder = join(root, 'RawImage', SPLIT_FOLDERS[o.split]);
  if (!existsSync(folder)) throw new DataError(root, `not an ISBI 2015 folder: ${folder} is missing`);
  const files = await listImages(folder);
  const gt = o.groundTruth ?? 'mean';
  const images: ImageRecord[] = [];
  for (const file of files) {
    const id = imageId(file);
    const senior = join(root, 'AnnotationsByMD', '400_senior', `${id}.txt`);
    const junior = join(root, 'AnnotationsByMD', '400_junior', `${id}.txt`);
    let landmarks: Point[] | undefined;
    if (gt === 'senior' || gt === 'mean') landmarks = await readIsbiAnnotation(senior);
    if (gt === 'junior') landmarks = await readIsbiAnnotation(junior);
    if (gt === 'mean') {
      const other = await readIsbiAnnotation(junior);
      landmarks = landmarks!.map((p, i) => ({ x: (p.x + other[i]!.x) / 2, y: (p.y + other[i]!.y) / 2 }));
    }
    images.push({
      id,
      file,
      ...ISBI_SIZE,
      spacing: { x: ISBI_SPACING_MM, y: ISBI_SPACING_MM, source: 'dataset-default' },
      landmarks,
    });
  }
  return { name: `isbi2015-${o.split}-${gt}`, landmarkNames: [...ISBI_LANDMARKS], images };
}
