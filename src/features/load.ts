// Loading image files at working size for training and detection.

import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import { readImage } from '../io/image.js';
import { toWorkingTensor } from './preprocess.js';

export interface WorkingImage {
  file: string;
  width: number;
  height: number;
  /** [1, 1, S, S] in [0, 1]. */
  input: Tensor;
}

export async function loadWorkingImage(file: string, size: number): Promise<WorkingImage> {
  const img = await readImage(file);
  const input = toWorkingTensor(img, size);
  img.pixels.dispose();
  return { file, width: img.width, height: img.height, input };
}

/** All files stacked as [N, 1, S, S], for training. */
export async function loadTrainingImages(
  files: string[],
  size: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Tensor> {
  const inputs: Tensor[] = [];
  for (const file of files) {
    inputs.push((await loadWorkingImage(file, size)).input);
    onProgress?.(inputs.length, files.length);
  }
  const stacked = E.cat(inputs, 0).keep();
  for (const t of inputs) t.dispose();
  return stacked;
}
