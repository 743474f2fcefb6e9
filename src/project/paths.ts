// Where things live inside a project, and the rules that keep every file
// the server reads or writes inside it: names that come from a request are
// either looked up in a list the project holds (image ids, exports) or must
// be plain names (no separators, no dots in front), and every resolved path
// is checked to lie under the project folder.
import { createHash } from 'node:crypto';
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
 * Longest file name an image id becomes, in bytes (before '.json', '.png'):
 * with those and a temporary file's '.<name>.<pid>.<n>.tmp' around it, it
 * stays well under the 255 bytes file systems allow in a name.
 */
const MAX_ID_FILE_NAME = 200;
const HASH_CHARS = 32;

/**
 * A file name for an image id. Ids come from file names and may hold any
 * character a file name can; percent-encoding keeps the result a single
 * plain path component ('.' and '..' become %2E and %2E%2E) in ASCII (no
 * Unicode normalisation to differ between file systems). Percent-encoding
 * makes non-ASCII names 9 bytes a character (30 Japanese characters: 270),
 * so an encoding longer than MAX_ID_FILE_NAME is cut to a readable prefix
 * and made unique by a hash of the id after a '+', which encodeURIComponent
 * never leaves: a cut name never equals an uncut one.
 */
export function fileNameOfId(id: string): string {
  const encoded = encodeURIComponent(id).replace(/\./g, '%2E').replace(/\*/g, '%2A');
  if (encoded.length <= MAX_ID_FILE_NAME) return encoded;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, HASH_CHARS);
  // Not in the middle of a %XX escape.
  const prefix = encoded.slice(0, MAX_ID_FILE_NAME - HASH_CHARS - 1).replace(/%[0-9A-F]?$/, '');
  return `${prefix}+${hash}`;
}

/** Whether `path` lies inside `root` (after resolving both). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
