import { parse } from 'csv-parse/sync';
import { DataError, readInput } from '../errors.js';
import { imageId, listImages, readImageSize } from '../folder.js';
import { type Dataset, defaultNames, type ImageRecord, type Point, type Spacing } from '../types.js';

const HAND_LANDMARK_COUNT = 37;
const WRIST_INDICES: [number, number] = [1, 5];
const WRIST_WIDTH_MM = 50;

/** Isotropic spacing that makes the two wrist landmarks `mm` apart. */
export function wristWidthSpacing(
  points: Point[],
  indices = WRIST_INDICES,
  mm = WRIST_WIDTH_MM,
): Spacing | undefined {
  const a = points[indices[0]];
  const b = points[indices[1]];
  if (!a || !b) return undefined;
  const pixels = Math.hypot(a.x - b.x, a.y - b.y);
  if (!(pixels > 0)) return undefined;
  return { x: mm / pixels, y: mm / pixels, source: 'wrist-width' };
}

export async function loadHandXray(imagesDir: string, csvFile: string): Promise<Dataset> {
  const text = (await readInput(csvFile)).toString('utf8');
  const rows: string[][] = parse(text, { skip_empty_lines: true, relax_column_count: true, bom: true });
  const labels = new Map<string, Point[]>();
  rows.forEach((row, r) => {
    const line = r + 1;
    if (r === 0 && Number.isNaN(Number(row[1]))) return; // header
    if (row.length !== 1 + 2 * HAND_LANDMARK_COUNT)
      throw new DataError(
        csvFile,
        `expected id and ${HAND_LANDMARK_COUNT} x,y pairs, found ${row.length} columns`,
        line,
      );
    const points: Point[] = [];
    for (let k = 0; k < HAND_LANDMARK_COUNT; k++) {
      const x = Number(row[1 + 2 * k]);
      const y = Number(row[2 + 2 * k]);
      if (!Number.isFinite(x) || !Number.isFinite(y))
        throw new DataError(
          csvFile,
          `landmark ${k + 1}: '${row[1 + 2 * k]},${row[2 + 2 * k]}' is not a number pair`,
          line,
        );
      points.push({ x, y });
    }
    labels.set(row[0]!.trim(), points);
  });
  const images: ImageRecord[] = [];
  for (const file of await listImages(imagesDir)) {
    const id = imageId(file);
    const landmarks = labels.get(id);
    labels.delete(id);
    images.push({
      id,
      file,
      ...(await readImageSize(file)),
      landmarks,
      spacing: landmarks && wristWidthSpacing(landmarks),
    });
  }
  const orphan = [...labels.keys()][0];
  if (orphan !== undefined)
    throw new DataError(csvFile, `image '${orphan}' has landmarks but no file in ${imagesDir}`);
  return { name: 'hand-xray', landmarkNames: defaultNames(HAND_LANDMARK_COUNT), images };
}
