// A fine stage small enough for tests on tiny phantoms (a few seconds).
export const TINY_FINE = {
  steps: 3,
  crop: 32,
  batchSize: 4,
  labeledPerBatch: 1,
  radius: 4,
  centreJitter: 2,
  warmupSteps: 1,
  model: { widths: [4, 4, 8, 8, 8], norm: 'batch', outputStride: 2, headWidth: 4 },
};
