// A worker: takes jobs of every kind it knows (registry.ts) from the queue,
// one at a time by default, and runs each with the models it has loaded.
// A job's lock is short and renewed while it runs, so when a worker dies
// (SIGKILL, a lost machine), another takes its job within about
// lockMs + stalledMs; the job's result file makes the rerun harmless.
import { UnrecoverableError, Worker } from 'bullmq';
import { checkQueue, connectionOf, QUEUE_NAME } from './connection.js';
import type { JobKinds } from './kinds.js';
import { ModelStore } from './models.js';
import { JOB_KINDS } from './registry.js';
import type { JobEnvelope } from './run.js';

export interface WorkerOptions {
  /** Jobs at once (default 1: the engine is busy with one; more overlap reading files). */
  concurrency?: number;
  /** A job's lock lasts this long unless renewed (default 15000 ms). */
  lockMs?: number;
  /** How often locks that were not renewed are looked for (default 5000 ms). */
  stalledMs?: number;
  /** One line per job started, done or failed. */
  log?: (line: string) => void;
  kinds?: JobKinds;
  /** Tests only: wait this long before each job, so one can be killed mid-job. */
  delayMs?: number;
}

export interface RunningWorker {
  /** Finishes the jobs in hand, takes no more, lets the models go. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startWorker(url: string, o: WorkerOptions = {}): Promise<RunningWorker> {
  const address = await checkQueue(url);
  const kinds = o.kinds ?? JOB_KINDS;
  const log = o.log ?? (() => {});
  const models = new ModelStore();
  const worker = new Worker<JobEnvelope<unknown>>(
    QUEUE_NAME,
    async (job) => {
      const kind = kinds[job.name];
      if (!kind) throw new UnrecoverableError(`this worker knows no job kind '${job.name}'`);
      const what = `${job.name} ${job.data.label}`;
      log(`started ${what} (job ${job.id}, try ${job.attemptsMade + 1})`);
      const t0 = performance.now();
      if (o.delayMs) await sleep(o.delayMs);
      const summary = await kind.run(job.data.input as never, { models });
      log(`done ${what}: ${summary} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    },
    {
      connection: connectionOf(address),
      concurrency: o.concurrency ?? 1,
      lockDuration: o.lockMs ?? 15_000,
      stalledInterval: o.stalledMs ?? 5_000,
      // A job taken over once from a dead worker is normal; twice in a row is suspicious but still allowed.
      maxStalledCount: 2,
    },
  );
  worker.on('failed', (job, err) =>
    log(`failed ${job?.name} ${job?.data.label} (try ${job?.attemptsMade}): ${err.message}`),
  );
  worker.on('stalled', (id) => log(`job ${id} was left by a worker that stopped; it runs again`));
  // Connection trouble is retried by the driver; without a listener an 'error' event would end the process.
  worker.on('error', (err) => log(`queue error: ${err.message}`));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      await models.dispose();
    },
  };
}
