// Where the page's files are, found from this module so that it works from
// dist/ (tsc copies no HTML or CSS): the HTML and CSS live in the top-level
// web/ folder, the page's scripts are compiled from src/web/client/ to
// dist/src/web/client/ beside this module.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function found(url: URL, what: string): string {
  const path = fileURLToPath(url);
  if (!existsSync(path)) throw new Error(`the annotator's ${what} are missing (${path}); reinstall fewmark`);
  return path;
}

/** web/: index.html and style.css (dist/src/web -> repository root). */
export const pageDir = () => found(new URL('../../../web/', import.meta.url), 'page files');

/** The compiled page scripts. */
export const clientDir = () => found(new URL('./client/', import.meta.url), 'page scripts');
