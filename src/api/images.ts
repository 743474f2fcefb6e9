// Images given to the public API: a folder (every image in it, sorted) or a
// list of files.
import { listImages } from '../io/folder.js';

export type ImageSource = string | readonly string[];

/** The files of a source, and how to name it in messages. */
export async function imageFiles(images: ImageSource): Promise<{ files: string[]; name: string }> {
  if (typeof images === 'string') return { files: await listImages(images), name: images };
  return { files: [...images], name: 'the images given' };
}
