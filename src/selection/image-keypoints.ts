// Key points of one pool image for the SCP (DESIGN.md step 3), found on
// the 8-bit working image the detectors expect.
import * as E from '../engine/index.js';
import { loadWorkingImage } from '../features/load.js';
import { type Proposal, type ProposalOptions, proposeKeypoints } from '../keypoints/propose.js';

export interface ImageKeypoints {
  /** Original image size. */
  width: number;
  height: number;
  /** Working pixels, strongest first. */
  points: Proposal[];
}

/** Key points on the 8-bit working image (the detectors work on 8-bit grey). */
export async function keypointsOf(
  file: string,
  inputSize: number,
  options: ProposalOptions,
): Promise<ImageKeypoints> {
  const image = await loadWorkingImage(file, inputSize);
  const grey = E.tidy(() =>
    image.input.reshape([inputSize, inputSize]).mul(255).add(0.5).clamp(0, 255).to('uint8'),
  );
  image.input.dispose();
  try {
    return { width: image.width, height: image.height, points: proposeKeypoints(grey, options) };
  } finally {
    grey.dispose();
  }
}
