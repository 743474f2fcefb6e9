// The project manifest, <project>/fewmark-project.json: which images the
// project holds, the landmark definitions, and which selection, models and
// predictions are current. Images stay where they are: the manifest names
// their folder (absolute) and each file, and only files listed here can be
// read through the server.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, ioReason } from '../io/errors.js';
import type { Spacing } from '../io/types.js';
import { writeFileDurable } from './durable-write.js';

export const MANIFEST_FILE = 'fewmark-project.json';
export const MANIFEST_VERSION = 1;
/** Most landmarks a project may define (a request body stays small). */
export const MAX_LANDMARKS = 256;

export interface ProjectImage {
  /** fewmark's image id: the file name without extension. */
  id: string;
  /** File name inside the images folder. */
  file: string;
  width: number;
  height: number;
}

export type ModelKind = 'extractor' | 'refined';

export interface ProjectModel {
  name: string;
  kind: ModelKind;
  /** Absolute path of the model folder. */
  path: string;
}

/** Adds a model, replacing one of the same kind and path; the newest of a kind comes last. */
export function withModel(models: ProjectModel[], entry: ProjectModel): ProjectModel[] {
  return [...models.filter((m) => !(m.kind === entry.kind && m.path === entry.path)), entry];
}

export interface Manifest {
  format: 'fewmark-project';
  version: number;
  created: string;
  /** Absolute path of the folder holding the images. */
  imagesDir: string;
  images: ProjectImage[];
  /** Landmark names, in annotation order. */
  landmarks: string[];
  /** Default pixel spacing when an image carries none (DICOM does). */
  spacing: Spacing | null;
  /** Name of the current selection under selections/, if any. */
  selection: string | null;
  models: ProjectModel[];
  /** Name of the current prediction run under predictions/, if any. */
  predictions: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed manifest; problems name the file and the field. */
function checkManifest(value: unknown, file: string): Manifest {
  const bad = (what: string): never => {
    throw new DataError(file, `not a fewmark project manifest: ${what}`);
  };
  if (!isObject(value) || value.format !== 'fewmark-project') bad('format is not "fewmark-project"');
  const m = value as Record<string, unknown>;
  if (m.version !== MANIFEST_VERSION)
    bad(`version ${JSON.stringify(m.version)} (this fewmark reads ${MANIFEST_VERSION})`);
  if (typeof m.imagesDir !== 'string') bad('imagesDir must be a path');
  if (!Array.isArray(m.images)) bad('images must be a list');
  for (const [i, im] of (m.images as unknown[]).entries())
    if (
      !isObject(im) ||
      typeof im.id !== 'string' ||
      typeof im.file !== 'string' ||
      !(Number(im.width) > 0) ||
      !(Number(im.height) > 0)
    )
      bad(`images[${i}] needs id, file, width and height`);
  checkLandmarkNames(m.landmarks, file);
  if (m.spacing !== null && !(isObject(m.spacing) && Number(m.spacing.x) > 0 && Number(m.spacing.y) > 0))
    bad('spacing must be null or {x, y} in mm');
  if (m.selection !== null && typeof m.selection !== 'string') bad('selection must be null or a name');
  if (m.predictions !== null && typeof m.predictions !== 'string') bad('predictions must be null or a name');
  if (!Array.isArray(m.models)) bad('models must be a list');
  for (const [i, mo] of (m.models as unknown[]).entries())
    if (
      !isObject(mo) ||
      typeof mo.name !== 'string' ||
      typeof mo.path !== 'string' ||
      (mo.kind !== 'extractor' && mo.kind !== 'refined')
    )
      bad(`models[${i}] needs name, kind (extractor or refined) and path`);
  return value as unknown as Manifest;
}

/** Landmark names: a non-empty list of distinct, non-empty names. */
export function checkLandmarkNames(names: unknown, source: string): asserts names is string[] {
  if (!Array.isArray(names) || names.length === 0)
    throw new DataError(source, 'landmarks must be a non-empty list of names');
  if (names.length > MAX_LANDMARKS)
    throw new DataError(source, `${names.length} landmarks; at most ${MAX_LANDMARKS}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || n.trim() === '' || n.length > 100)
      throw new DataError(source, `landmark name ${JSON.stringify(n)} must be 1 to 100 characters`);
    if (seen.has(n)) throw new DataError(source, `landmark name '${n}' appears twice`);
    seen.add(n);
  }
}

export async function readManifest(projectDir: string): Promise<Manifest> {
  const file = join(projectDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = ioReason(err);
    throw new DataError(
      projectDir,
      reason === 'ENOENT'
        ? `not a fewmark project (no ${MANIFEST_FILE}); create one with fewmark init --images DIR --project DIR`
        : `cannot read ${MANIFEST_FILE}: ${reason}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(file, `not valid JSON: ${(err as Error).message}`);
  }
  return checkManifest(value, file);
}

export async function writeManifest(projectDir: string, manifest: Manifest): Promise<void> {
  await writeFileDurable(join(projectDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
