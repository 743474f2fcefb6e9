// Synthetic hand X-ray phantoms with exact landmarks, for tests and the demo.

export { hashInts, Rng } from '../util/random.js';
export * from './deform.js';
export * from './generate.js';
export { renderHand, toPixels } from './render.js';
export * from './shape.js';
