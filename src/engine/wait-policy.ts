// OpenMP's wait policy for libtorch's threads. libgomp reads it once, when
// libtorch loads it, so it is set in the environment before the addon loads.

/**
 * libgomp's default (spin 300,000 rounds between parallel regions) is fastest
 * on an idle machine but collapses when another process takes a core: a
 * training step on 2 threads then ran at 623 ms against 485 ms on 1 thread.
 * Spinning 1,000 rounds kept 2 threads ahead (441 ms) for about 5-8% on an
 * idle machine (bench/engine-busy-core).
 */
export const DEFAULT_SPIN_COUNT = '1000';

/** Sets fewmark's spin count unless the user chose a policy or a count. */
export function setWaitPolicy(env: NodeJS.ProcessEnv = process.env): void {
  if (env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined)
    env.GOMP_SPINCOUNT = DEFAULT_SPIN_COUNT;
}
