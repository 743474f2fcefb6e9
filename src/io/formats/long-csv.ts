// Long CSV: header image,landmark,x,y, then one row per (image, landmark).
// Coordinates are fewmark's own (pixels, origin at the top-left pixel's
// centre). Writing gives every landmark a row, a missing one with empty x
// and y; reading also takes files that leave missing landmarks out.
import { stringify } from 'csv-stringify/sync';
import { DataError } from '../errors.js';
import { type AnnotatedImage, type Annotations, isMissing, type Point } from '../types.js';
import { pointFromCells, readCsvRows } from './csv-rows.js';
import { checkWritable, orderedNames } from './shared.js';

const HEADER = ['image', 'landmark', 'x', 'y'];

export function formatLongCsv(ann: Annotations): string {
  checkWritable(ann, 'formatLongCsv');
  const rows = ann.images.flatMap((img) =>
    img.points.map((p, k) => {
      const name = ann.names[k]!;
      return isMissing(p) ? [img.image, name, '', ''] : [img.image, name, String(p.x), String(p.y)];
    }),
  );
  return stringify([HEADER, ...rows]);
}

export function parseLongCsv(text: string, source: string): Annotations {
  const rows = readCsvRows(text, source);
  if (rows.length === 0) throw new DataError(source, 'empty file (expected the header image,landmark,x,y)');
  const header = rows[0]!;
  if (header.cells.map((c) => c.trim().toLowerCase()).join(',') !== HEADER.join(','))
    throw new DataError(
      source,
      `header must be image,landmark,x,y, found ${header.cells.join(',')}`,
      header.line,
    );

  // Per image, in file order: landmark name -> point, and the line that gave it.
  const byImage = new Map<string, Map<string, { point: Point; line: number }>>();
  for (const { cells, line } of rows.slice(1)) {
    if (cells.length !== 4) throw new DataError(source, `row has ${cells.length} columns, expected 4`, line);
    const image = cells[0]!.trim();
    const name = cells[1]!.trim();
    if (!image) throw new DataError(source, 'empty image id', line);
    if (!name) throw new DataError(source, 'empty landmark name', line);
    const points = byImage.get(image) ?? new Map();
    byImage.set(image, points);
    const earlier = points.get(name);
    if (earlier)
      throw new DataError(
        source,
        `image '${image}' landmark '${name}' appears twice (first on line ${earlier.line})`,
        line,
      );
    points.set(name, { point: pointFromCells(cells[2]!, cells[3]!, `landmark ${name}`, source, line), line });
  }

  const names = orderedNames([...byImage.values()].map((points) => [...points.keys()]));
  const images: AnnotatedImage[] = [...byImage].map(([image, points]) => {
    const line = Math.min(...[...points.values()].map((p) => p.line));
    if ([...points.values()].every((p) => isMissing(p.point)))
      throw new DataError(source, `image '${image}' has no points (only empty rows)`, line);
    return {
      image,
      points: names.map((name) => points.get(name)?.point ?? { x: Number.NaN, y: Number.NaN }),
      line,
    };
  });
  return { names, images };
}
