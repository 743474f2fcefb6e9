// Listing the images of a folder and reading their sizes from the file
// headers (checked by image-check; DICOM through its header), without decoding pixels.
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import dicomParser from 'dicom-parser';
import { DataError, readInput } from './errors.js';
import { checkImageBytes, checkPixelCount } from './image-check.js';

const IMAGE_EXTENSIONS = ['.bmp', '.png', '.jpg', '.jpeg', '.tif', '.tiff', '.dcm', '.dicom'];

const isImageFile = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

/** The image id fewmark uses: the file name without folder and extension. */
export const imageId = (file: string) => basename(file, extname(file));

/** Image files of a folder (not recursive), sorted by name; ids must be unique. */
export async function listImages(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new DataError(
      dir,
      `cannot list images: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const files = names
    .filter(isImageFile)
    .sort()
    .map((n) => resolve(join(dir, n)));
  const seen = new Map<string, string>();
  for (const f of files) {
    const id = imageId(f);
    const other = seen.get(id);
    if (other)
      throw new DataError(dir, `two images share the id '${id}': ${basename(other)} and ${basename(f)}`);
    seen.set(id, f);
  }
  if (files.length === 0) throw new DataError(dir, 'no image files (.bmp .png .jpg .jpeg .tif .tiff .dcm)');
  return files;
}

/** Width and height from the file header. */
export async function readImageSize(file: string): Promise<{ width: number; height: number }> {
  const ext = extname(file).toLowerCase();
  const bytes = await readInput(file, 'image');
  if (ext === '.dcm' || ext === '.dicom') {
    try {
      const ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
      const width = ds.uint16('x00280011');
      const height = ds.uint16('x00280010');
      if (!width || !height) throw new Error('no Rows/Columns (0028,0010/0011)');
      checkPixelCount(width, height, file);
      return { width, height };
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw new DataError(file, `not a readable DICOM header: ${(err as Error).message ?? String(err)}`);
    }
  }
  // The whole file is checked, not just its header: a truncated image must
  // not enter a project or a selection.
  const { width, height } = checkImageBytes(bytes, file);
  return { width, height };
}
