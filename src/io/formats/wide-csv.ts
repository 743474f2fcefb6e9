// Wide CSV: a header, then one row per image: image,x1,y1,...,xL,yL.
// Named landmarks use <name>_x,<name>_y columns instead. An empty cell
// (or NaN) is a missing landmark.
import { stringify } from 'csv-stringify/sync';
import { DataError } from '../errors.js';
import { type Annotations, defaultNames, isMissing, type Point } from '../types.js';
import { pointFromCells, readCsvRows } from './csv-rows.js';
import { checkWritable } from './shared.js';

const isDefault = (names: string[]) => names.every((n, i) => n === `L${i + 1}`);

export function formatWideCsv(ann: Annotations): string {
  checkWritable(ann, 'formatWideCsv');
  const header = ['image'];
  ann.names.forEach((name, i) => {
    if (isDefault(ann.names)) header.push(`x${i + 1}`, `y${i + 1}`);
    else header.push(`${name}_x`, `${name}_y`);
  });
  const rows = ann.images.map((img) => [
    img.image,
    ...img.points.flatMap((p) => (isMissing(p) ? ['', ''] : [String(p.x), String(p.y)])),
  ]);
  return stringify([header, ...rows]);
}

/** Landmark names from the header: x1,y1 pairs or <name>_x,<name>_y pairs. */
function namesFromHeader(header: string[], source: string, line: number): string[] {
  const cols = header.slice(1);
  if (header[0]?.trim().toLowerCase() !== 'image')
    throw new DataError(source, `first header column must be 'image', found '${header[0]}'`, line);
  if (cols.length === 0 || cols.length % 2)
    throw new DataError(
      source,
      `header needs x,y column pairs after 'image', found ${cols.length} columns`,
      line,
    );
  const names: string[] = [];
  for (let i = 0; i < cols.length; i += 2) {
    const x = cols[i]!.trim();
    const y = cols[i + 1]!.trim();
    const k = i / 2 + 1;
    if (x === `x${k}` && y === `y${k}`) names.push(`L${k}`);
    else if (x.endsWith('_x') && y.endsWith('_y') && x.slice(0, -2) === y.slice(0, -2))
      names.push(x.slice(0, -2));
    else
      throw new DataError(
        source,
        `columns '${x}','${y}' are not a landmark's x,y pair (x${k},y${k} or NAME_x,NAME_y)`,
        line,
      );
  }
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new DataError(source, `landmark '${twice}' has two column pairs`, line);
  return names.every((n, i) => n === `L${i + 1}`) ? defaultNames(names.length) : names;
}

export function parseWideCsv(text: string, source: string): Annotations {
  const records = readCsvRows(text, source);
  if (records.length === 0) throw new DataError(source, 'empty file (expected a header line)');
  const names = namesFromHeader(records[0]!.cells, source, records[0]!.line);
  const seen = new Set<string>();
  const images = records.slice(1).map(({ cells: row, line }) => {
    if (row.length !== 1 + 2 * names.length)
      throw new DataError(source, `row has ${row.length} columns, header has ${1 + 2 * names.length}`, line);
    const image = row[0]!.trim();
    if (!image) throw new DataError(source, 'empty image id', line);
    if (seen.has(image)) throw new DataError(source, `image '${image}' appears twice`, line);
    seen.add(image);
    const points: Point[] = names.map((name, k) =>
      pointFromCells(row[1 + 2 * k]!, row[2 + 2 * k]!, `landmark ${name}`, source, line),
    );
    if (points.every(isMissing))
      throw new DataError(source, `image '${image}' has no points (a row of empty cells)`, line);
    return { image, points, line };
  });
  return { names, images };
}
