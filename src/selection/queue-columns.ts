// The SCP's similarity columns on the workers of a Redis queue, one job per
// candidate (src/queue/similarity-job.ts; docs/workers.md). The queue code
// (and BullMQ) is loaded only when a queue is given.
import type { Tensor } from '../engine/index.js';
import { DEFAULT_GRID_STRIDE } from './similarity.js';

export interface SelectionQueue {
  /** redis://HOST[:PORT] */
  url: string;
  /** The extractor file the workers load (absolute). */
  modelFile: string;
}

/** A function computing the columns of candidate images on a queue's workers, one job per candidate. */
export function columnsOnQueue(
  queue: SelectionQueue,
  inputSize: number,
  gridStride: number | undefined,
  onProgress: (done: number, total: number) => void,
) {
  return async (stacked: Tensor, candidates: readonly string[]): Promise<Float32Array[]> => {
    const { similarityColumnsOnQueue } = await import('../queue/similarity-job.js');
    return similarityColumnsOnQueue(queue.url, {
      model: queue.modelFile,
      candidates,
      inputSize,
      gridStride: gridStride ?? DEFAULT_GRID_STRIDE,
      stacked,
      onProgress,
    });
  };
}
