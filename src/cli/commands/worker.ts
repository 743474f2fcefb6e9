// `fewmark worker --queue redis://HOST`: runs jobs from the queue (features,
// detection, ...) until SIGINT or SIGTERM, then finishes the job in hand and
// exits. Start one per machine (or per core group) that sees the shared storage.
import { startWorker } from '../../queue/worker.js';

export interface WorkerCommandOptions {
  queue: string;
  concurrency?: number;
}

/** Env overrides for the lock timing (tests kill workers and want the job back fast). */
const msFromEnv = (name: string) => {
  const v = Number(process.env[name]);
  return v > 0 ? v : undefined;
};

export async function worker(o: WorkerCommandOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`fewmark worker ${process.pid}: ${line}\n`);
  const running = await startWorker(o.queue, {
    concurrency: o.concurrency,
    lockMs: msFromEnv('FEWMARK_QUEUE_LOCK_MS'),
    stalledMs: msFromEnv('FEWMARK_QUEUE_STALLED_MS'),
    delayMs: msFromEnv('FEWMARK_QUEUE_TEST_DELAY_MS'),
    log,
  });
  log(`ready on ${o.queue}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log(`${signal}: finishing the job in hand`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  log('stopped');
}
