// Where things live inside a project, and the rules that keep every file
// the server reads or writes inside it: names that come from a request are
// either looked up in a list the project holds (image ids, exports) or must
// be plain names (no separators, no dots in front), and every resolved path
// is checked to lie under the project folder.
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

export const SUBDIRS = {
  annotations: 'annotations',
  history: join('annotations', 'history'),
  selections: 'selections',
  models: 'models',
  predictions: 'predictions',
  exports: 'exports',
  cache: join('cache', 'display'),
} as const;

/** A plain file or folder name: letters, digits, '.', '_', '-', not starting with '.'. */
const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export const isPlainName = (name: string) => PLAIN_NAME.test(name);

/**
 * A file name for an image id. Ids come from file names and may hold any
 * character a file name can; percent-encoding keeps the result a single
 * plain path component ('.' and '..' become %2E and %2E%2E).
 */
export function fileNameOfId(id: string): string {
  return encodeURIComponent(id).replace(/\./g, '%2E').replace(/\*/g, '%2A');
}

/** Whether `path` lies inside `root` (after resolving both). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Like isInside, but through symbolic links: the real path must be inside the real root. */
export async function isReallyInside(root: string, path: string): Promise<boolean> {
  try {
    return isInside(await realpath(root), await realpath(path));
  } catch {
    return false;
  }
}
