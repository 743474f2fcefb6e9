// Background jobs started from the page: detection (and refinement once the
// project lists a refined model). Each runs `fewmark <verb>` as a child
// process, because native ops are synchronous and would stall every
// request (saves included) if run in the server; the child's progress lines
// ("detecting 3/40") are read from its stderr. One job runs at a time; a
// finished run becomes the project's current predictions.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAnnotations } from '../io/formats/index.js';
import { conflict, notFound } from '../project/errors.js';
import type { ProjectModel } from '../project/manifest.js';
import { PREDICTIONS_FILE, predictionDir, RUN_FILE } from '../project/predictions.js';
import type { Project } from '../project/project.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export type JobKind = 'detect' | 'refine';
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
  /** The prediction run it writes (predictions/<output>). */
  output: string;
  /** The last lines the child printed. */
  log: string[];
}

/** What a kind of job needs and which command it runs. */
interface KindSpec {
  model: ProjectModel['kind'];
  /** Whether it needs labeled images (templates). */
  needsLabels: boolean;
  /** The `fewmark` arguments; `templates` is a wide CSV of the labeled images (if any), `out` the predictions file. */
  args(o: { model: string; templates?: string; images: string; out: string }): string[];
}

const templatesFlag = (file?: string) => (file ? ['--templates', file] : []);

const KINDS: Record<JobKind, KindSpec> = {
  detect: {
    model: 'extractor',
    needsLabels: true,
    args: (o) => [
      'detect',
      '--model',
      o.model,
      ...templatesFlag(o.templates),
      '--images',
      o.images,
      '--out',
      o.out,
    ],
  },
  // A refined model (fewmark refine) replaces template matching: fewmark
  // detect runs it when given one; the templates only mark the images
  // that are labeled already (not predicted again).
  refine: {
    model: 'refined',
    needsLabels: false,
    args: (o) => [
      'detect',
      '--model',
      o.model,
      ...templatesFlag(o.templates),
      '--images',
      o.images,
      '--out',
      o.out,
    ],
  },
};

export const JOB_KINDS = Object.keys(KINDS) as JobKind[];

const LOG_LINES = 30;
const PROGRESS = /^(.*?)\s*(\d+)\/(\d+)\b/;

export interface JobRunnerOptions {
  /** The fewmark CLI script (default: the one beside this module). */
  cli?: string;
}

export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private child: ChildProcess | undefined;
  private readonly cli: string;
  private finished: Promise<void> = Promise.resolve();

  constructor(
    readonly project: Project,
    options: JobRunnerOptions = {},
  ) {
    this.cli = options.cli ?? fileURLToPath(new URL('../cli/main.js', import.meta.url));
  }

  /** The model a kind would use (the newest of its kind), or why it cannot run. */
  private modelFor(kind: JobKind): ProjectModel | string {
    const wanted = KINDS[kind].model;
    const model = this.project.manifest.models.filter((m) => m.kind === wanted).at(-1);
    if (!model)
      return kind === 'detect'
        ? 'no trained model in the project: run fewmark train, then fewmark init --project DIR --model MODEL'
        : 'no refined model in the project: run fewmark refine, then fewmark init --project DIR --model REFINED';
    return model;
  }

  /** Per kind: null when it can start now, else why not. */
  availability(): Record<JobKind, string | null> {
    const running = this.running();
    const labeled = this.project.labeled().images.length;
    const reason = (kind: JobKind) => {
      const model = this.modelFor(kind);
      if (typeof model === 'string') return model;
      if (labeled === 0 && KINDS[kind].needsLabels)
        return 'no labeled image yet: place every landmark on at least one image';
      if (running) return `job ${running.id} (${running.kind}) is running`;
      return null;
    };
    return Object.fromEntries(JOB_KINDS.map((k) => [k, reason(k)])) as Record<JobKind, string | null>;
  }

  running(): Job | undefined {
    return [...this.jobs.values()].find((j) => j.state === 'running');
  }

  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw notFound(`no job '${id}'`);
    return job;
  }

  async start(kind: JobKind): Promise<Job> {
    const why = this.availability()[kind];
    if (why) throw conflict(`cannot start ${kind}: ${why}`);
    const model = this.modelFor(kind) as ProjectModel;
    const started = new Date();
    const id = `${started.toISOString().replace(/[:.]/g, '-')}-${kind}`;
    const job: Job = {
      id,
      kind,
      state: 'running',
      started: started.toISOString(),
      progress: null,
      output: id,
      log: [],
    };
    this.jobs.set(id, job);
    const dir = predictionDir(this.project.dir, id);
    const templates = this.project.labeled();
    try {
      await mkdir(dir, { recursive: true });
      const templatesFile = templates.images.length > 0 ? join(dir, 'templates.csv') : undefined;
      if (templatesFile) await writeAnnotations(templatesFile, templates);
      await writeFileAtomic(
        join(dir, RUN_FILE),
        `${JSON.stringify({ kind, model: model.path, templates: templates.images.map((t) => t.image), started: job.started }, null, 1)}\n`,
      );
      const args = KINDS[kind].args({
        model: model.path,
        templates: templatesFile,
        images: this.project.manifest.imagesDir,
        out: join(dir, PREDICTIONS_FILE),
      });
      this.run(job, args);
    } catch (err) {
      this.finish(job, 'failed', (err as Error).message);
    }
    return job;
  }

  private run(job: Job, args: string[]): void {
    const child = spawn(process.execPath, [this.cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let partial = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n|\r/);
      partial = lines.pop()!;
      for (const line of lines) this.onLine(job, line);
    });
    this.finished = new Promise((done) => {
      child.on('error', (err) => {
        this.finish(job, 'failed', `cannot start fewmark ${args[0]}: ${err.message}`);
        done();
      });
      child.on('close', (code, signal) => {
        if (partial) this.onLine(job, partial);
        this.child = undefined;
        void this.settle(job, code, signal).finally(done);
      });
    });
  }

  private onLine(job: Job, line: string): void {
    const text = line.trim();
    if (!text) return;
    job.log = [...job.log.slice(-(LOG_LINES - 1)), text];
    const m = PROGRESS.exec(text);
    if (m) job.progress = { label: m[1] || job.kind, done: Number(m[2]), total: Number(m[3]) };
  }

  private async settle(job: Job, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (job.state !== 'running') return;
    if (code !== 0) {
      const said = [...job.log].reverse().find((l) => l.startsWith('fewmark: '));
      const why = said?.slice('fewmark: '.length) ?? job.log.at(-1) ?? `exit ${code ?? signal}`;
      this.finish(job, 'failed', why);
      return;
    }
    try {
      await this.project.usePredictions(job.output);
      this.finish(job, 'done');
    } catch (err) {
      this.finish(
        job,
        'failed',
        `the run finished but its predictions cannot be read: ${(err as Error).message}`,
      );
    }
  }

  private finish(job: Job, state: JobState, message?: string): void {
    job.state = state;
    job.finished = new Date().toISOString();
    if (message) job.message = message;
  }

  /** Stops a running job (its partial output stays, unused). */
  cancel(id: string): Job {
    const job = this.get(id);
    if (job.state !== 'running') throw conflict(`job ${id} is ${job.state}, not running`);
    this.finish(job, 'cancelled', 'cancelled by the user');
    this.child?.kill('SIGTERM');
    return job;
  }

  /** Waits for the current child to end (tests, shutdown). */
  async idle(): Promise<void> {
    await this.finished;
  }

  /** Stops whatever runs; for server shutdown. */
  async close(): Promise<void> {
    const job = this.running();
    if (job) this.cancel(job.id);
    await this.finished;
  }
}
