// What a worker can do: a kind of job is a name and a handler that does
// one piece of work and writes its result to shared storage itself. A
// handler must be idempotent: run twice (a retry, or a job taken over from
// a worker that died mid-job), it leaves the same files as run once.
import type { ModelStore } from './models.js';

export interface JobContext {
  /** Models loaded by earlier jobs of this worker. */
  models: ModelStore;
}

export interface JobKind<T = unknown> {
  /** Runs one job; returns a few words for the worker's log ('computed', 'already there'). */
  run(input: T, ctx: JobContext): Promise<string>;
}

/** Kinds as a worker's registry holds them (data checked by each handler's caller, the coordinator). */
export type JobKinds = Record<string, JobKind<never>>;
