// What long calls of the public API report, and how they stop when asked.
// Progress is a typed callback (phase, done of total); cancellation is the
// platform's AbortSignal, checked between images, so a call ends within one
// image of the signal with the signal's reason (an AbortError by default).

export interface Progress {
  /** What is being counted: 'features', 'similarity', 'detecting', ... */
  phase: string;
  done: number;
  total: number;
}

export type OnProgress = (p: Progress) => void;

/** Options every long call takes. */
export interface LongCall {
  onProgress?: OnProgress;
  signal?: AbortSignal;
}

/** Throws the signal's reason once it is aborted. */
export function checkAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}
