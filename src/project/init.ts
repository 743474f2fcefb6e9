// Making a project from a folder of images, and adding to one: landmark
// annotations from any landmarks file, a selection from `fewmark select`,
// models from `fewmark train` (and refinement). Images are referenced, not
// copied (X-ray sets are large); the manifest lists each file, and only
// those can be served.
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EXTRACTOR_FILE } from '../features/checkpoint.js';
import { DataError } from '../io/errors.js';
import { imageId, listImages, readImageSize } from '../io/folder.js';
import { readAnnotations } from '../io/formats/index.js';
import { isMissing, type Spacing } from '../io/types.js';
import { isRefinedModel } from '../refine/checkpoint.js';
import { invalid } from './errors.js';
import {
  checkLandmarkNames,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type Manifest,
  type ProjectModel,
  withModel,
  writeManifest,
} from './manifest.js';
import { SUBDIRS } from './paths.js';
import { Project } from './project.js';
import { importSelection, selectionName } from './selection.js';

export interface InitOptions {
  /** Project folder: created, or added to when it holds a manifest. */
  project: string;
  /** Folder of images (needed to create a project; not to add to one). */
  images?: string;
  /** Landmark names in order. */
  landmarks?: string[];
  /** A landmarks file whose landmark names (not points) define the project's. */
  landmarksFrom?: string;
  /** A landmarks file whose points are imported as annotations (and whose names are used if none are given). */
  annotations?: string;
  /** Default pixel spacing in mm for images that carry none. */
  spacing?: { x: number; y: number };
  /** A selection.json to import and make current. */
  selection?: string;
  /** A model folder: from `fewmark train` (detection) or `fewmark refine` (refined detection). */
  model?: string;
}

export interface InitResult {
  project: string;
  created: boolean;
  images: number;
  landmarks: string[];
  /** Images whose annotations were imported, and those skipped (unknown or already annotated). */
  imported: string[];
  skipped: string[];
  selection: string | null;
  models: ProjectModel[];
}

async function landmarkNames(o: InitOptions): Promise<string[]> {
  if (o.landmarks) return o.landmarks;
  const from = o.landmarksFrom ?? o.annotations;
  if (from) return (await readAnnotations(from)).names;
  throw invalid(
    'a new project needs its landmark names: --landmarks NAMES (or a count), --landmarks-from FILE or --annotations FILE',
  );
}

async function createManifest(o: InitOptions): Promise<Manifest> {
  if (!o.images) throw invalid(`${o.project} is not a project yet; give --images DIR to create it`);
  const imagesDir = resolve(o.images);
  const files = await listImages(imagesDir);
  const landmarks = await landmarkNames(o);
  checkLandmarkNames(landmarks, 'landmark names');
  const images = [];
  for (const file of files)
    images.push({ id: imageId(file), file: basename(file), ...(await readImageSize(file)) });
  return {
    format: 'fewmark-project',
    version: MANIFEST_VERSION,
    created: new Date().toISOString(),
    imagesDir,
    images,
    landmarks,
    spacing: null,
    selection: null,
    models: [],
    predictions: null,
  };
}

/** A model folder: refined (fewmark refine) or a feature extractor (fewmark train), told apart by its files. */
function modelEntry(path: string): ProjectModel {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new DataError(path, 'no such model folder');
  if (isRefinedModel(abs)) return { name: basename(abs), kind: 'refined', path: abs };
  if (!existsSync(join(abs, EXTRACTOR_FILE)))
    throw new DataError(
      path,
      `neither a trained extractor (${EXTRACTOR_FILE}) nor a refined model; run fewmark train first`,
    );
  return { name: basename(abs), kind: 'extractor', path: abs };
}

export async function initProject(o: InitOptions): Promise<InitResult> {
  const dir = resolve(o.project);
  const created = !existsSync(join(dir, MANIFEST_FILE));
  if (created) {
    const manifest = await createManifest(o);
    for (const sub of Object.values(SUBDIRS)) await mkdir(join(dir, sub), { recursive: true });
    await writeManifest(dir, manifest);
  } else if (o.images && resolve(o.images) !== (await Project.open(dir)).manifest.imagesDir)
    throw invalid(`${dir} is a project of the images in another folder; a project's images cannot change`);
  else if (o.landmarks || o.landmarksFrom)
    throw invalid(`${dir} is a project already; its landmark names cannot change`);

  const project = await Project.open(dir);
  const changes: ((m: Manifest) => Manifest)[] = [];
  if (o.spacing) {
    const spacing: Spacing = { ...o.spacing, source: 'user' };
    changes.push((m) => ({ ...m, spacing }));
  }
  if (o.model) {
    const entry = modelEntry(o.model);
    changes.push((m) => ({ ...m, models: withModel(m.models, entry) }));
  }
  let selection: string | null = project.manifest.selection;
  if (o.selection) {
    const taken = (name: string) => existsSync(join(dir, SUBDIRS.selections, name));
    const name = selectionName(resolve(o.selection), taken);
    await importSelection(dir, o.selection, name, new Set(project.images.keys()));
    selection = name;
    changes.push((m) => ({ ...m, selection: name }));
  }
  for (const change of changes) await project.updateManifest(change);

  const imported: string[] = [];
  const skipped: string[] = [];
  if (o.annotations) {
    const ann = await readAnnotations(o.annotations);
    if (ann.names.join('\n') !== project.landmarks.join('\n'))
      throw new DataError(
        o.annotations,
        `landmarks ${ann.names.join(', ')} differ from the project's ${project.landmarks.join(', ')}`,
      );
    for (const im of ann.images) {
      if (!project.images.has(im.image) || project.annotations.get(im.image)) {
        skipped.push(im.image);
        continue;
      }
      const points = im.points.map((p) => (isMissing(p) ? null : p));
      await project.setPoints(im.image, points, 'manual').catch((err) => {
        throw new DataError(o.annotations!, `image '${im.image}': ${(err as Error).message}`);
      });
      imported.push(im.image);
    }
  }
  return {
    project: dir,
    created,
    images: project.images.size,
    landmarks: project.landmarks,
    imported,
    skipped,
    selection,
    models: project.manifest.models,
  };
}
