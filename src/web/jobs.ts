// Background jobs started from the page: detection by template matching,
// refinement (a refined model trained from the labeled images, then
// detection with it) and choosing the next images to annotate (labeling in
// rounds; its ranking becomes the queue). Each runs through the library in
// a child process (job-worker.ts), because native ops are synchronous and
// would stall every request (saves included) if run in the server; the
// child sends typed progress messages. One job runs at a time; a finished
// run becomes the project's current predictions (or selection, or model).
// Cancelling ends the child's whole process group before the job says
// 'cancelled'.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAnnotations } from '../io/formats/index.js';
import { conflict, notFound } from '../project/errors.js';
import type { ProjectModel } from '../project/manifest.js';
import { SUBDIRS } from '../project/paths.js';
import { PREDICTIONS_FILE, predictionDir, RUN_FILE } from '../project/predictions.js';
import type { Project } from '../project/project.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { EXIT_WITH_PARENT } from '../util/parent-watch.js';
import { hidePaths } from './errors.js';
import type { JobMessage, JobSpec } from './job-worker.js';

export type JobKind = 'detect' | 'refine' | 'select';
export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  kind: JobKind;
  state: JobState;
  started: string;
  finished?: string;
  /** The latest progress line of the child: what it counts, done of total. */
  progress: { label: string; done: number; total: number } | null;
  /** Why it failed, in the child's words. */
  message?: string;
  /** The prediction run (predictions/<output>) or, for select, the selection (selections/<output>) it writes. */
  output: string;
  /** The last lines the child printed. */
  log: string[];
}

/** What a kind of job needs and what a finished run becomes. */
interface KindSpec {
  /** Every kind works from the project's newest feature extractor. */
  needsLabels: boolean;
  /** The project's current predictions, or its selection (the queue). */
  output: 'predictions' | 'selection';
}

/** How many images "choose next" picks unless asked for another number. */
const DEFAULT_NEXT_BUDGET = 5;

const KINDS: Record<JobKind, KindSpec> = {
  detect: { needsLabels: true, output: 'predictions' },
  // A refined model is trained on the current labels, kept in models/<job>, and detects.
  refine: { needsLabels: true, output: 'predictions' },
  // The labeled images count as chosen; the next ones are picked around them.
  select: { needsLabels: false, output: 'selection' },
};

const JOB_KINDS = Object.keys(KINDS) as JobKind[];

const LOG_LINES = 30;
const PROGRESS = /^(.*?)\s*(\d+)\/(\d+)\b/;

export interface JobRunnerOptions {
  /** The job script (default: job-worker.js beside this module). */
  worker?: string;
  /** How long a cancelled run may take to end after SIGTERM before it gets SIGKILL (ms). */
  graceMs?: number;
  /** Settings of the Refine job's training (src/refine/config.ts; default: the library's). */
  refineConfig?: Record<string, unknown>;
}

const GRACE_MS = 5000;

/** One job's run: its process, once spawned, and whether the user cancelled it. */
interface Run {
  job: Job;
  child?: ChildProcess;
  /** Set by cancel: whatever the process does from then on, its output is not used. */
  cancelled: boolean;
  /** Whether SIGKILL was needed. */
  killed: boolean;
  killTimer?: NodeJS.Timeout;
  /** Whether the child's 'close' came: its process group may be gone, and its number reused. */
  closed: boolean;
  /** What the child said when it failed, and whether it said it finished. */
  failure?: string;
  finished?: boolean;
  /** Resolves once the job has its final state (the process tree has ended). */
  ended: Promise<void>;
  end: () => void;
}

export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  /** The job that runs (or is ending); set in the same tick as the check, so two starts never both pass. */
  private current: Run | undefined;
  private readonly worker: string;
  private readonly graceMs: number;
  private readonly refineConfig: Record<string, unknown> | undefined;

  constructor(
    readonly project: Project,
    options: JobRunnerOptions = {},
  ) {
    this.worker = options.worker ?? fileURLToPath(new URL('./job-worker.js', import.meta.url));
    this.graceMs = options.graceMs ?? GRACE_MS;
    this.refineConfig = options.refineConfig;
  }

  /** The feature extractor every kind starts from (the newest), or why none can run. */
  private extractor(): ProjectModel | string {
    const model = this.project.manifest.models.filter((m) => m.kind === 'extractor').at(-1);
    return (
      model ??
      'no trained model in the project: run fewmark train, then fewmark init --project DIR --model MODEL'
    );
  }

  /** Per kind: null when it can start now, else why not. */
  availability(): Record<JobKind, string | null> {
    const running = this.running();
    const labeled = this.project.labeled().images.length;
    const reason = (kind: JobKind) => {
      const model = this.extractor();
      if (typeof model === 'string') return model;
      if (labeled === 0 && KINDS[kind].needsLabels)
        return 'no labeled image yet: place every landmark on at least one image';
      if (kind === 'select' && labeled >= this.project.manifest.images.length)
        return 'every image is labeled: there is nothing left to choose';
      if (running)
        return `job ${running.id} (${running.kind}) is ${this.current?.cancelled ? 'ending' : 'running'}`;
      return null;
    };
    return Object.fromEntries(JOB_KINDS.map((k) => [k, reason(k)])) as Record<JobKind, string | null>;
  }

  /** The job that runs, or was cancelled and has not ended yet. */
  running(): Job | undefined {
    return this.current?.job;
  }

  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw notFound(`no job '${id}'`);
    return job;
  }

  /** A new job id: the start time and kind, numbered if that is taken (its output folder must be new). */
  private newId(started: Date, kind: JobKind): string {
    const base = `${started.toISOString().replace(/[:.]/g, '-')}-${kind}`;
    let id = base;
    for (let i = 2; this.jobs.has(id); i++) id = `${base}-${i}`;
    return id;
  }

  /** Starts a job; `budget`: how many images a select job picks (at most the images not labeled yet). */
  async start(kind: JobKind, options: { budget?: number } = {}): Promise<Job> {
    // Everything up to `this.current = run` happens in one tick: a second
    // start, even in the same tick, sees this one running.
    const why = this.availability()[kind];
    if (why) throw conflict(`cannot start ${kind}: ${why}`);
    const spec = KINDS[kind];
    const model = this.extractor() as ProjectModel;
    const started = new Date();
    const id = this.newId(started, kind);
    const job: Job = {
      id,
      kind,
      state: 'running',
      started: started.toISOString(),
      progress: null,
      output: id,
      log: [],
    };
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const run: Run = { job, cancelled: false, killed: false, closed: false, ended, end };
    this.current = run;
    this.jobs.set(id, job);
    const toSelection = spec.output === 'selection';
    const dir = toSelection
      ? join(this.project.dir, SUBDIRS.selections, id)
      : predictionDir(this.project.dir, id);
    const templates = this.project.labeled();
    const free = this.project.manifest.images.length - templates.images.length;
    let jobSpec: JobSpec;
    try {
      await mkdir(dir, { recursive: true });
      const templatesFile =
        templates.images.length > 0 ? join(dir, toSelection ? 'labeled.csv' : 'templates.csv') : undefined;
      if (templatesFile) await writeAnnotations(templatesFile, templates);
      const refinedOut = kind === 'refine' ? join(this.project.dir, SUBDIRS.models, id) : undefined;
      if (!toSelection)
        await writeFileAtomic(
          join(dir, RUN_FILE),
          `${JSON.stringify({ kind, model: refinedOut ?? model.path, templates: templates.images.map((t) => t.image), started: job.started }, null, 1)}\n`,
        );
      jobSpec = {
        kind,
        model: model.path,
        templates: templatesFile,
        images: this.project.manifest.imagesDir,
        out: toSelection ? dir : join(dir, PREDICTIONS_FILE),
        refinedOut,
        refineConfig: this.refineConfig,
        budget: Math.min(options.budget ?? DEFAULT_NEXT_BUDGET, free),
      };
    } catch (err) {
      this.end(run, 'failed', (err as Error).message);
      return job;
    }
    // Cancelled while its files were being written: it never starts.
    if (run.cancelled) this.end(run, 'cancelled', 'cancelled by the user');
    else this.spawn(run, jobSpec);
    return job;
  }

  private spawn(run: Run, spec: JobSpec): void {
    const { job } = run;
    // Detached: the child leads a process group of its own, so that cancel
    // can signal everything it started (workers, a shell's children), not
    // only the child itself.
    const child = spawn(process.execPath, [this.worker, JSON.stringify(spec)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      detached: true,
      // ... and so it must not outlive a server killed with SIGKILL.
      env: { ...process.env, [EXIT_WITH_PARENT]: String(process.pid) },
    });
    run.child = child;
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n|\r/);
      partial = lines.pop()!;
      for (const line of lines) this.onLine(job, line);
    });
    child.on('message', (m: JobMessage) => this.onMessage(run, m));
    child.on('error', (err) => {
      this.end(run, 'failed', `cannot start the ${spec.kind} job: ${err.message}`);
    });
    // 'close' comes once the child has exited and every process holding its
    // stderr has too: for a cancelled run, once the whole tree is gone.
    child.on('close', (code, signal) => {
      if (partial) this.onLine(job, partial);
      // Whatever of the group outlived a cancelled run's leader without holding stderr.
      if (run.cancelled) this.signal(run, 'SIGKILL');
      run.closed = true;
      void this.settle(run, code, signal);
    });
  }

  private onMessage(run: Run, m: JobMessage): void {
    if (m.type === 'progress') run.job.progress = { label: m.label, done: m.done, total: m.total };
    else if (m.type === 'log') this.onLine(run.job, m.text);
    else if (m.type === 'failed') run.failure = m.message;
    else if (m.type === 'done') run.finished = true;
  }

  /** A line the child printed (or sent): kept in the log; a count in it ("detecting 3/40") is progress. */
  private onLine(job: Job, line: string): void {
    const text = hidePaths(line.trim(), this.project.dir);
    if (!text) return;
    job.log = [...job.log.slice(-(LOG_LINES - 1)), text];
    const m = PROGRESS.exec(text);
    if (m) job.progress = { label: m[1] || job.kind, done: Number(m[2]), total: Number(m[3]) };
  }

  private async settle(run: Run, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const { job } = run;
    if (job.state !== 'running') return;
    // A cancelled run's output is never used, even if it finished meanwhile.
    if (run.cancelled) {
      const how = run.killed ? ` (stopped with SIGKILL after ${this.graceMs / 1000} s)` : '';
      this.end(run, 'cancelled', `cancelled by the user${how}`);
      return;
    }
    if (code !== 0) {
      const why = run.failure ?? job.log.at(-1) ?? `exit ${code ?? signal}`;
      this.end(run, 'failed', why);
      return;
    }
    const output = KINDS[job.kind].output;
    try {
      if (job.kind === 'refine')
        await this.project.addModel(join(this.project.dir, SUBDIRS.models, job.id), 'refined');
      if (output === 'selection') await this.project.useSelection(job.output);
      else await this.project.usePredictions(job.output);
      this.end(run, 'done');
    } catch (err) {
      this.end(run, 'failed', `the run finished but its ${output} cannot be read: ${(err as Error).message}`);
    }
  }

  /** The job's final state; the runner is free for the next job. */
  private end(run: Run, state: JobState, message?: string): void {
    const { job } = run;
    if (job.state !== 'running') return;
    job.state = state;
    job.finished = new Date().toISOString();
    if (message) job.message = hidePaths(message, this.project.dir);
    clearTimeout(run.killTimer);
    if (this.current === run) this.current = undefined;
    run.end();
  }

  /** Signals the run's whole process group; nothing when it has none (left). */
  private signal(run: Run, sig: NodeJS.Signals): void {
    const pid = run.child?.pid;
    if (pid === undefined || run.closed) return;
    try {
      process.kill(process.platform === 'win32' ? pid : -pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /**
   * Stops a running job: SIGTERM to its process group, SIGKILL after the
   * grace period. Resolves once the processes have ended, with the job in
   * its final state: 'cancelled' (its partial output stays, unused), or
   * 'done' if it had finished and was being made current when cancel came.
   */
  async cancel(id: string): Promise<Job> {
    const job = this.get(id);
    const run = this.current;
    if (job.state !== 'running' || run?.job !== job) throw conflict(`job ${id} is ${job.state}, not running`);
    if (!run.cancelled) {
      run.cancelled = true;
      this.signal(run, 'SIGTERM');
      run.killTimer = setTimeout(() => {
        run.killed = true;
        this.signal(run, 'SIGKILL');
      }, this.graceMs);
    }
    await run.ended;
    return job;
  }

  /** Waits for the current job to end (tests, shutdown). */
  async idle(): Promise<void> {
    await this.current?.ended;
  }

  /** Stops whatever runs; for server shutdown. */
  async close(): Promise<void> {
    const job = this.running();
    if (job) await this.cancel(job.id);
  }
}
