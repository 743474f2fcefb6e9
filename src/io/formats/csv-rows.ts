// CSV rows with the line each ends on, for errors that point at the right
// line even after blank lines or quoted cells that span lines.
import { parse } from 'csv-parse/sync';
import { DataError } from '../errors.js';
import type { Point } from '../types.js';
import { decimal } from './shared.js';

export interface CsvRow {
  cells: string[];
  line: number;
}

export function readCsvRows(text: string, source: string): CsvRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With info: true each record comes with where it ends; the typings miss that.
    records = parse(text, {
      skip_empty_lines: true,
      relax_column_count: true,
      bom: true,
      info: true,
    }) as never;
  } catch (err) {
    const line = (err as { lines?: unknown }).lines;
    throw new DataError(
      source,
      `not valid CSV: ${(err as Error).message}`,
      typeof line === 'number' ? line : undefined,
    );
  }
  return records.map((r) => ({ cells: r.record, line: r.info.lines }));
}

/** A point from its x and y cells: both empty (or NaN) is a missing landmark. */
export function pointFromCells(x: string, y: string, what: string, source: string, line: number): Point {
  const blank = (s: string) => s.trim() === '' || s.trim().toLowerCase() === 'nan';
  if (blank(x) && blank(y)) return { x: Number.NaN, y: Number.NaN };
  if (blank(x) !== blank(y))
    throw new DataError(source, `${what}: x is '${x}' but y is '${y}' (give both or neither)`, line);
  const px = decimal(x);
  const py = decimal(y);
  if (px === undefined) throw new DataError(source, `${what}: '${x}' is not a number${notFinite(x)}`, line);
  if (py === undefined) throw new DataError(source, `${what}: '${y}' is not a number${notFinite(y)}`, line);
  return { x: px, y: py };
}

/** Why a number-looking cell was refused: 1e309 reads as infinity. */
const notFinite = (cell: string) =>
  Math.abs(Number(cell.trim())) === Number.POSITIVE_INFINITY ? ' fewmark can use (it is too large)' : '';
