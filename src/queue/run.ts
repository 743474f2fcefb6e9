// The coordinator's side of the queue: add one job per piece of work, wait
// until the workers have done them all, report progress as the queue sees
// it. Results never travel through Redis: each job writes a file on shared
// storage (result-file.ts) that the caller reads afterwards.
//
// Job ids are deterministic (kind + the caller's id), so adding the same
// work twice, from a rerun or from two coordinators, leaves one job. A job
// left finished by an earlier run is removed and added again: its handler
// finds its result in place and does nothing, or rewrites a result that
// was deleted since.
import { type JobsOptions, Queue } from 'bullmq';
import { checkQueue, connectionOf, QUEUE_NAME } from './connection.js';

export interface QueueJob<T> {
  /** Identifies the work (e.g. a hash of its inputs); no ':' (BullMQ's separator). */
  id: string;
  data: T;
  /** What the job is about, for people: an image path, say. Errors and worker logs name it. */
  label?: string;
}

/** What a job carries in Redis: its label beside the kind's data. */
export interface JobEnvelope<T> {
  label: string;
  input: T;
}

export interface RunOnQueueOptions {
  /** Jobs done (as the queue counts them) of the total, after each poll that changed it. */
  onProgress?: (done: number, total: number) => void;
  /** Notes for the user (no worker connected, ...). */
  onNote?: (message: string) => void;
  signal?: AbortSignal;
  /** Tries per job before it counts as failed (default 3). */
  attempts?: number;
  /** First retry after this many ms, doubling after (default 1000). */
  backoffMs?: number;
  /** How often the jobs' states are read (default 500 ms; less often for thousands of jobs). */
  pollMs?: number;
}

/** A job failed every try: names the job and what it was about. */
export class JobFailedError extends Error {
  override name = 'JobFailedError';
  readonly exitCode = 1;
  constructor(
    readonly jobId: string,
    readonly label: string,
    readonly attempts: number,
    readonly reason: string,
  ) {
    super(`${label}: job ${jobId} failed ${attempts} time${attempts === 1 ? '' : 's'}: ${reason}`);
  }
}

export const jobIdOf = (kind: string, id: string) => {
  if (id.includes(':') || kind.includes(':')) throw new RangeError(`queue job id '${kind}-${id}' has a ':'`);
  return `${kind}-${id}`;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Jobs' states, a few hundred Redis calls at a time. */
async function statesOf(queue: Queue, ids: string[]): Promise<string[]> {
  const states: string[] = [];
  for (let i = 0; i < ids.length; i += 500)
    states.push(...(await Promise.all(ids.slice(i, i + 500).map((id) => queue.getJobState(id)))));
  return states;
}

/**
 * Runs `jobs` of `kind` on the workers of the queue at `queueUrl` and
 * resolves once every one has completed. Throws JobFailedError for the
 * first job that failed all its attempts, and the signal's reason on abort;
 * either way the jobs not yet started are taken off the queue.
 */
export async function runOnQueue<T>(
  queueUrl: string,
  kind: string,
  jobs: readonly QueueJob<T>[],
  o: RunOnQueueOptions = {},
): Promise<void> {
  o.signal?.throwIfAborted();
  const address = await checkQueue(queueUrl);
  const byId = new Map(jobs.map((j) => [jobIdOf(kind, j.id), j]));
  const ids = [...byId.keys()];
  const total = ids.length;
  const opts = (jobId: string): JobsOptions => ({
    jobId,
    attempts: o.attempts ?? 3,
    backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 },
  });
  const add = (jobIds: string[]) =>
    queue.addBulk(
      jobIds.map((jobId) => {
        const j = byId.get(jobId)!;
        const data: JobEnvelope<T> = { label: j.label ?? j.id, input: j.data };
        return { name: kind, data, opts: opts(jobId) };
      }),
    );
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(address) });
  queue.on('error', () => {}); // a dropped connection fails the calls below; no unhandled event
  let finished = false;
  try {
    // Finished jobs of an earlier run would otherwise count as done now.
    const before = await statesOf(queue, ids);
    const stale = ids.filter((_, i) => before[i] === 'completed' || before[i] === 'failed');
    for (const id of stale) await queue.remove(id);
    await add(ids.filter((_, i) => before[i] === 'unknown').concat(stale));
    if (total > 0 && (await queue.getWorkersCount().catch(() => 1)) === 0)
      o.onNote?.(
        `no worker is connected to ${queueUrl} yet; start some with: fewmark worker --queue ${queueUrl}`,
      );
    let pending = ids;
    let reported = -1;
    while (pending.length > 0) {
      o.signal?.throwIfAborted();
      const states = await statesOf(queue, pending);
      const failed = pending.find((_, i) => states[i] === 'failed');
      if (failed) {
        const job = await queue.getJob(failed);
        throw new JobFailedError(
          failed,
          byId.get(failed)!.label ?? failed,
          job?.attemptsMade ?? 0,
          job?.failedReason ?? 'unknown reason',
        );
      }
      // Removed by another coordinator that finished the same work first: again (a no-op job).
      const lost = pending.filter((_, i) => states[i] === 'unknown');
      if (lost.length) await add(lost);
      pending = pending.filter((_, i) => states[i] !== 'completed');
      const done = total - pending.length;
      if (done !== reported) o.onProgress?.(done, total);
      reported = done;
      // A state read per pending job: a big run polls less often (10,000 jobs: every 2 s).
      if (pending.length) await sleep(Math.max(o.pollMs ?? 500, pending.length / 5), o.signal);
    }
    finished = true;
  } finally {
    // Done: the finished jobs go (results are files). Failed or stopped:
    // the jobs not started go too; running ones end on their own.
    const left = await statesOf(queue, ids).catch(() => [] as string[]);
    const removable = finished ? ['completed'] : ['waiting', 'delayed', 'prioritized', 'completed', 'failed'];
    for (const [i, state] of left.entries())
      if (removable.includes(state)) await queue.remove(ids[i]!).catch(() => 0);
    await queue.close();
  }
  o.signal?.throwIfAborted();
}
