// Exporting a project's annotations or current predictions to any landmark
// format fewmark writes, under exports/ with a time-stamped name; and
// finding an export again by name for download (only plain names that the
// exports folder lists, never a path).
import { lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FORMATS, formatByName, writeAnnotations } from '../io/formats/index.js';
import { type AnnotatedImage, type Annotations, MISSING, type Point } from '../io/types.js';
import { cachedDisplayInfo } from './display-image.js';
import { invalid, notFound } from './errors.js';
import { isPlainName, SUBDIRS } from './paths.js';
import type { Project } from './project.js';

export type ExportKind = 'annotations' | 'predictions';

export interface ExportResult {
  name: string;
  path: string;
  format: string;
  images: number;
  /** Whether the export is a folder of files (ISBI txt) rather than one file. */
  directory: boolean;
}

export const EXPORT_FORMATS = FORMATS.map((f) => f.name);

const pointsOf = (points: (Point | null)[]) => points.map((p) => p ?? MISSING);

async function imageEntry(project: Project, id: string, points: (Point | null)[]): Promise<AnnotatedImage> {
  const im = project.image(id);
  // Spacing known so far: the image's own (learned when it was first shown) or the project default.
  const spacing =
    (await cachedDisplayInfo(project.dir, id))?.spacing ?? project.manifest.spacing ?? undefined;
  return { image: id, points: pointsOf(points), width: im.width, height: im.height, spacing };
}

async function contentOf(project: Project, kind: ExportKind): Promise<Annotations> {
  const images: AnnotatedImage[] = [];
  if (kind === 'annotations') {
    for (const im of project.manifest.images) {
      const r = project.annotations.get(im.id);
      if (r?.points.some((p) => p !== null)) images.push(await imageEntry(project, im.id, r.points));
    }
  } else {
    if (!project.predictions) throw notFound('no predictions yet: run detection first');
    for (const im of project.manifest.images) {
      const p = project.predictions.byImage.get(im.id);
      if (p) images.push(await imageEntry(project, im.id, p.points));
    }
  }
  if (images.length === 0) throw invalid(`nothing to export: the project has no ${kind}`);
  return { names: project.landmarks, images };
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * Claims a new export name: the kind and the time, with -2, -3... when an
 * export of the same millisecond has it. Creating the file ('wx') or
 * folder (mkdir) is the claim: it fails for a name another export holds,
 * so concurrent exports never write to one file.
 */
async function claimName(dir: string, kind: ExportKind, ext: string, directory: boolean): Promise<string> {
  await mkdir(dir, { recursive: true });
  const base = `${kind}-${stamp()}`;
  for (let i = 1; ; i++) {
    const name = `${base}${i > 1 ? `-${i}` : ''}${ext}`;
    try {
      if (directory) await mkdir(join(dir, name));
      else await (await open(join(dir, name), 'wx')).close();
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** A text cell a spreadsheet would run as a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * For CSV: text cells (image ids, landmark names) that start like a
 * formula get a leading ', which spreadsheets show as text. The numbers are
 * written by the format and stay as they are (a coordinate may be negative).
 */
function neutralizeFormulas(content: Annotations): Annotations {
  const text = (s: string) => (FORMULA_START.test(s) ? `'${s}` : s);
  return {
    ...content,
    names: content.names.map(text),
    images: content.images.map((im) => ({ ...im, image: text(im.image) })),
  };
}

export async function exportLandmarks(
  project: Project,
  kind: ExportKind,
  format: string,
): Promise<ExportResult> {
  if (!EXPORT_FORMATS.includes(format))
    throw invalid(`unknown format '${format}' (known: ${EXPORT_FORMATS.join(', ')})`);
  const f = formatByName(format);
  const ext = f.directory ? '' : f.extensions[0]!;
  const content = await contentOf(project, kind);
  const dir = join(project.dir, SUBDIRS.exports);
  const name = await claimName(dir, kind, ext, !!f.directory);
  const path = join(dir, name);
  try {
    await writeAnnotations(path, ext.endsWith('.csv') ? neutralizeFormulas(content) : content, f.name);
  } catch (err) {
    await rm(path, { recursive: true, force: true });
    // A format that cannot hold this content (Slicer without a spacing) is the user's to fix.
    throw invalid(`cannot export ${kind} as ${format}: ${(err as Error).message}`);
  }
  return { name, path, format: f.name, images: content.images.length, directory: !!f.directory };
}

/** The path of an export file by its name; not-found for anything that is not a plain file there. */
export async function exportFile(project: Project, name: string): Promise<string> {
  const dir = join(project.dir, SUBDIRS.exports);
  const listed: string[] = await readdir(dir).catch(() => []);
  if (!isPlainName(name) || !listed.includes(name)) throw notFound(`no export named '${name}'`);
  const path = join(dir, name);
  // lstat: a symbolic link planted in exports/ is not followed out of the project.
  if (!(await lstat(path)).isFile()) throw notFound(`export '${name}' is a folder, not a file`);
  return path;
}
