// The engine's public face: tensors, ops, scopes, modules, optimisers,
// weights on disk and OpenCV image functions.
export { invalidArgument, NativeError } from './errors.js';
export type { DType } from './native.js';
export * from './nn/layers.js';
export { Layer, Module } from './nn/module.js';
export * from './ops/create.js';
export * as F from './ops/functional.js';
export * from './ops/math.js';
export * from './ops/shape.js';
export { Adam, type AdamOptions, AdamW } from './optim/adam.js';
export { Optimizer } from './optim/optimizer.js';
export { SGD } from './optim/sgd.js';
export { engineConfig, memory, noGrad, opNames, threads } from './runtime.js';
export * from './safetensors.js';
export { keep, tidy } from './scope.js';
export { run, run1, Tensor } from './tensor.js';
export * from './vision.js';
