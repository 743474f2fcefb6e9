// Selections: the ranked list of images to annotate that `fewmark select`
// writes (selection.json). A project keeps each one it imports under
// selections/<name>/selection.json; the manifest names the current one.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataError, ioReason } from '../io/errors.js';
import { writeFileDurable } from './durable-write.js';
import { isPlainName, SUBDIRS } from './paths.js';

export interface RankedImage {
  rank: number;
  image: string;
  file?: string;
  score?: number;
  gain?: number;
}

export interface Selection {
  strategy: string;
  budget: number;
  model: string;
  created: string;
  ranked: RankedImage[];
}

const SELECTION_FILE = 'selection.json';

function parseSelection(text: string, file: string): Selection {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DataError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new DataError(file, `not a selection: ${what}`);
  };
  if (typeof v !== 'object' || v === null || !Array.isArray(v.ranked)) bad('no "ranked" list');
  const ranked = (v.ranked as unknown[]).map((r, i): RankedImage => {
    const e = r as Record<string, unknown>;
    if (typeof e?.image !== 'string' || e.image === '') bad(`ranked[${i}] has no image id`);
    const rank = e.rank ?? i + 1;
    if (!Number.isInteger(rank)) bad(`ranked[${i}].rank must be an integer`);
    return {
      rank: rank as number,
      image: e.image as string,
      file: typeof e.file === 'string' ? e.file : undefined,
      score: typeof e.score === 'number' ? e.score : undefined,
      gain: typeof e.gain === 'number' ? e.gain : undefined,
    };
  });
  return {
    strategy: String(v.strategy ?? 'unknown'),
    budget: Number(v.budget ?? ranked.length),
    model: String(v.model ?? ''),
    created: String(v.created ?? ''),
    ranked: ranked.sort((a, b) => a.rank - b.rank),
  };
}

async function readSelectionFile(file: string): Promise<Selection> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DataError(file, `cannot read selection: ${ioReason(err)}`);
  }
  return parseSelection(text, file);
}

/** The current selection of a project, or null when it has none. */
export async function readProjectSelection(
  projectDir: string,
  name: string | null,
): Promise<Selection | null> {
  if (name === null) return null;
  return readSelectionFile(join(projectDir, SUBDIRS.selections, name, SELECTION_FILE));
}

/**
 * A name for an imported selection: the name of the folder `fewmark select
 * --out DIR` wrote (DIR), made plain, else "selection"; a number is added
 * when the name is taken.
 */
export function selectionName(file: string, taken: (name: string) => boolean): string {
  const folder = basename(dirname(file))
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[.-]+/, '');
  const base = isPlainName(folder) ? folder : 'selection';
  let name = base;
  for (let i = 2; taken(name); i++) name = `${base}-${i}`;
  return name;
}

/**
 * Copies a selection file into the project under `name`, checking that it
 * parses and that every ranked image belongs to the project.
 */
export async function importSelection(
  projectDir: string,
  file: string,
  name: string,
  imageIds: ReadonlySet<string>,
): Promise<Selection> {
  const selection = await readSelectionFile(file);
  const unknown = selection.ranked.filter((r) => !imageIds.has(r.image)).map((r) => r.image);
  if (unknown.length > 0)
    throw new DataError(
      file,
      `ranks images that are not in the project: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`,
    );
  const text = await readFile(file);
  await writeFileDurable(join(projectDir, SUBDIRS.selections, name, SELECTION_FILE), text);
  return selection;
}
