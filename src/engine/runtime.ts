// Process-wide engine settings: gradient mode, threads, live-tensor stats.
import { native } from './native.js';

/** Runs fn with gradient recording off (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Sets the intra-op thread count (n > 0) and returns the current one. */
export function threads(n?: number): number {
  return native.threads(n);
}

/** Live native tensors and their bytes: tests use it to catch leaks. */
export function memory(): { liveTensors: number; liveBytes: number } {
  return native.stats();
}

export function opNames(): string[] {
  return native.opNames().sort();
}

/** libtorch's parallel settings and build configuration (OpenMP, oneDNN, BLAS, CPU capability). */
export function engineConfig(): string {
  return native.config();
}
