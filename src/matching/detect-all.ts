// Running a detector (template matching or a refined network) over image
// files, one at a time: progress after each, and an AbortSignal checked
// before each, so a stop comes within one image.
import { imageId } from '../io/folder.js';
import type { Detection } from './detect.js';

export interface DetectAllOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function detectAll(
  detect: (id: string, file: string) => Promise<Detection>,
  files: readonly string[],
  o: DetectAllOptions = {},
): Promise<Detection[]> {
  const detections: Detection[] = [];
  for (const file of files) {
    o.signal?.throwIfAborted();
    detections.push(await detect(imageId(file), file));
    o.onProgress?.(detections.length, files.length);
  }
  return detections;
}
