// Landmark file formats by name: detection from the file name (or a folder
// for folder formats), reading with errors that name the file and line, and
// atomic writing.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { DataError, ioReason } from '../errors.js';
import type { Annotations } from '../types.js';
import { formatClDetection, parseClDetection } from './cldetection.js';
import { formatCoco, parseCoco } from './coco.js';
import { formatCvat, parseCvat } from './cvat.js';
import { formatIsbiTxt, isIsbiTxtFile, parseIsbiTxt, type TextFile } from './isbi-txt.js';
import { formatLongCsv, parseLongCsv } from './long-csv.js';
import { formatSlicerMarkups, parseSlicerMarkups } from './slicer.js';
import { formatWideCsv, parseWideCsv } from './wide-csv.js';

export type { TextFile } from './isbi-txt.js';

export interface ReadOptions {
  /**
   * Landmarks per file for folder formats whose files go on with other
   * lines (19 for ISBI 2015); without it they are read up to the first
   * line that is not a landmark.
   */
  landmarkCount?: number;
}

/** A format kept in one file. */
export interface FileFormat {
  name: string;
  description: string;
  directory?: false;
  /** File-name endings this format claims, most specific first. */
  extensions: string[];
  parse(text: string, source: string): Annotations;
  format(ann: Annotations): string;
}

/** A format kept as a folder of files, one per image. */
export interface DirectoryFormat {
  name: string;
  description: string;
  directory: true;
  /** Whether a file of the folder is one of this format's files. */
  holds(fileName: string): boolean;
  parseDirectory(files: TextFile[], dir: string, options: ReadOptions): Annotations;
  /** The files to write, all formatted before any is written. */
  formatDirectory(ann: Annotations): TextFile[];
}

export type LandmarkFormat = FileFormat | DirectoryFormat;

export const FORMATS: LandmarkFormat[] = [
  {
    name: 'wide-csv',
    description: 'CSV, one row per image: image,x1,y1,...',
    extensions: ['.csv'],
    parse: parseWideCsv,
    format: formatWideCsv,
  },
  {
    name: 'long-csv',
    description: 'CSV, one row per image and landmark: image,landmark,x,y',
    extensions: ['.long.csv'],
    parse: parseLongCsv,
    format: formatLongCsv,
  },
  {
    name: 'coco',
    description: 'COCO keypoints JSON',
    extensions: ['.coco.json'],
    parse: parseCoco,
    format: formatCoco,
  },
  {
    name: 'slicer',
    description: '3D Slicer markups JSON, one Fiducial node per image, positions in mm',
    extensions: ['.mrk.json'],
    parse: parseSlicerMarkups,
    format: formatSlicerMarkups,
  },
  {
    name: 'cvat',
    description: 'CVAT for images 1.1 XML, one <points> per landmark',
    extensions: ['.cvat.xml', '.xml'],
    parse: parseCvat,
    format: formatCvat,
  },
  {
    name: 'cldetection',
    description: 'CL-Detection 2023 "Multiple points" JSON, images by stack index',
    extensions: ['.cldetection.json'],
    parse: parseClDetection,
    format: formatClDetection,
  },
  {
    name: 'isbi-txt',
    description: 'a folder of NNN.txt files, one x,y line per landmark (ISBI 2015)',
    directory: true,
    holds: isIsbiTxtFile,
    parseDirectory: (files, dir, options) => parseIsbiTxt(files, dir, options.landmarkCount),
    formatDirectory: formatIsbiTxt,
  },
];

const known = () =>
  FORMATS.map((f) => `${f.name} ${f.directory ? '(a folder)' : f.extensions.join('/')}`).join('; ');

export function formatByName(name: string): LandmarkFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (!f)
    throw new Error(`unknown landmark format '${name}' (known: ${FORMATS.map((x) => x.name).join(', ')})`);
  return f;
}

/** The format a path's name implies, longest matching extension first. */
export function formatForPath(path: string): FileFormat {
  const lower = path.toLowerCase();
  let best: FileFormat | undefined;
  let bestLength = 0;
  for (const f of FORMATS) {
    if (f.directory) continue;
    for (const ext of f.extensions)
      if (lower.endsWith(ext) && ext.length > bestLength) {
        best = f;
        bestLength = ext.length;
      }
  }
  if (!best)
    throw new DataError(path, `cannot tell the landmark format from the file name (known: ${known()})`);
  return best;
}

const isDirectory = async (path: string) => (await stat(path).catch(() => undefined))?.isDirectory() ?? false;

/** The named format, else the folder format for an existing folder, else the one the file name implies. */
async function resolveFormat(path: string, format?: string): Promise<LandmarkFormat> {
  if (format) return formatByName(format);
  if (await isDirectory(path)) return FORMATS.find((f) => f.directory)!;
  return formatForPath(path);
}

/** The format `writeAnnotations(path, _, format)` would write, and whether it is a folder; throws for an unknown one. */
export async function outputFormat(
  path: string,
  format?: string,
): Promise<{ name: string; folder: boolean }> {
  const f = await resolveFormat(path, format);
  return { name: f.name, folder: f.directory === true };
}

export async function readAnnotations(
  path: string,
  format?: string,
  options: ReadOptions = {},
): Promise<Annotations> {
  const f = await resolveFormat(path, format);
  if (f.directory) return f.parseDirectory(await readFolder(path, f), path, options);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(path, `cannot read: ${ioReason(err)}`);
  }
  return f.parse(text, path);
}

async function readFolder(dir: string, f: DirectoryFormat): Promise<TextFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter(f.holds);
  } catch (err) {
    throw new DataError(dir, `cannot list: ${ioReason(err)}`);
  }
  return Promise.all(
    names.map(async (name) => {
      try {
        return { name, text: await readFile(join(dir, name), 'utf8') };
      } catch (err) {
        throw new DataError(join(dir, name), `cannot read: ${ioReason(err)}`);
      }
    }),
  );
}

export async function writeAnnotations(path: string, ann: Annotations, format?: string): Promise<void> {
  const f = await resolveFormat(path, format);
  if (f.directory) await writeFolder(path, f.formatDirectory(ann), f);
  else await writeFileAtomic(path, f.format(ann));
}

/**
 * Writes a folder format's files, each atomically, once all are formatted.
 * Refuses a folder holding other files of the format, which would read back
 * as extra images.
 */
async function writeFolder(dir: string, files: TextFile[], f: DirectoryFormat): Promise<void> {
  const writing = new Set(files.map((file) => file.name));
  const existing = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new DataError(dir, `cannot list: ${ioReason(err)}`);
  });
  const stale = existing.filter((name) => f.holds(name) && !writing.has(name));
  if (stale.length > 0)
    throw new DataError(
      dir,
      `already holds ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''}, which would read back as extra images; write to an empty folder`,
    );
  for (const file of files) await writeFileAtomic(join(dir, file.name), file.text);
}
