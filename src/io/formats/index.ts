// Landmark file formats by name: detection from the file name, reading with
// errors that name the file and line, and atomic writing.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { DataError } from '../errors.js';
import type { Annotations } from '../types.js';
import { formatWideCsv, parseWideCsv } from './wide-csv.js';

export interface LandmarkFormat {
  name: string;
  description: string;
  /** File-name endings this format claims, most specific first. */
  extensions: string[];
  parse(text: string, source: string): Annotations;
  format(ann: Annotations): string;
}

export const FORMATS: LandmarkFormat[] = [
  {
    name: 'wide-csv',
    description: 'CSV, one row per image: image,x1,y1,...',
    extensions: ['.csv'],
    parse: parseWideCsv,
    format: formatWideCsv,
  },
];

export function formatByName(name: string): LandmarkFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (!f)
    throw new Error(`unknown landmark format '${name}' (known: ${FORMATS.map((x) => x.name).join(', ')})`);
  return f;
}

/** The format a path's name implies, longest matching extension first. */
export function formatForPath(path: string): LandmarkFormat {
  const lower = path.toLowerCase();
  let best: LandmarkFormat | undefined;
  let bestLength = 0;
  for (const f of FORMATS)
    for (const ext of f.extensions)
      if (lower.endsWith(ext) && ext.length > bestLength) {
        best = f;
        bestLength = ext.length;
      }
  if (!best)
    throw new DataError(
      path,
      `cannot tell the landmark format from the file name (known: ${FORMATS.map((f) => `${f.name} ${f.extensions.join('/')}`).join('; ')})`,
    );
  return best;
}

export async function readAnnotations(path: string, format?: string): Promise<Annotations> {
  const f = format ? formatByName(format) : formatForPath(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(
      path,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return f.parse(text, path);
}

export async function writeAnnotations(path: string, ann: Annotations, format?: string): Promise<void> {
  const f = format ? formatByName(format) : formatForPath(path);
  await writeFileAtomic(path, f.format(ann));
}
