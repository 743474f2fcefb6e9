// Matching the image names a landmarks file gives to image ids. Many public
// CSVs write the file name ('120.jpg', or 'images/120.jpg') where fewmark's
// id is '120'; an exact id always wins, so an image whose id itself ends in
// '.jpg' is still found.
import { imageIdFromFileName } from './formats/shared.js';

/** The entry for `name` in `byId`: exactly, else by the name without folder and image extension. */
export function findImage<T>(name: string, byId: ReadonlyMap<string, T>): T | undefined {
  return byId.get(name) ?? byId.get(imageIdFromFileName(name));
}

/**
 * Keys two files' image names so that '120.jpg' in one meets '120' in the
 * other: the bare id, unless two names of the file share it (then the names
 * as written).
 */
export function comparableIds(names: string[]): (name: string) => string {
  const bare = names.map(imageIdFromFileName);
  const unique = new Set(bare).size === names.length;
  return unique ? imageIdFromFileName : (name) => name;
}
