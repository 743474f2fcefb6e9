// The header's controls: background jobs (start, progress, cancel) and
// exports.
import { type ExportView, type Job, type JobKind, type ProjectView, request } from './api.js';
import { byId, el } from './dom.js';

const POLL_MS = 1000;

const TITLES: Record<JobKind, string> = {
  detect: 'template matching from the labeled images, in the background',
  refine: 'trains a refined model from the labeled images, then detects with it (minutes), in the background',
  select: 'choose the next images to annotate, around those labeled',
};

/** Job buttons and progress; `done` runs when a job ends well (new predictions or a new queue). */
export function jobControls(getProject: () => ProjectView, done: () => Promise<void>) {
  const status = byId('job-status');
  const bar = byId<HTMLProgressElement>('job-progress');
  const cancel = byId<HTMLButtonElement>('job-cancel');
  const buttons: Record<JobKind, HTMLButtonElement> = {
    detect: byId<HTMLButtonElement>('run-detect'),
    refine: byId<HTMLButtonElement>('run-refine'),
    select: byId<HTMLButtonElement>('run-select'),
  };
  const budget = byId<HTMLInputElement>('select-budget');
  let running: Job | null = null;

  const show = (job: Job | null) => {
    running = job?.state === 'running' ? job : null;
    bar.hidden = !running;
    cancel.hidden = !running;
    if (job?.progress) {
      bar.max = job.progress.total;
      bar.value = job.progress.done;
    } else bar.removeAttribute('value');
    status.dataset.state = job?.state ?? '';
    if (!job) status.textContent = '';
    else if (job.state === 'running')
      status.textContent = job.progress
        ? `${job.progress.label} ${job.progress.done}/${job.progress.total}`
        : `${job.kind}: starting…`;
    else if (job.state === 'failed') status.textContent = `${job.kind} failed: ${job.message ?? ''}`;
    else status.textContent = `${job.kind} ${job.state}`;
    refresh();
  };

  const refresh = () => {
    const available = getProject().jobs;
    for (const kind of Object.keys(buttons) as JobKind[]) {
      const why = available[kind];
      buttons[kind].disabled = !!running || why !== null;
      buttons[kind].title = why ?? TITLES[kind];
    }
  };

  const follow = async (job: Job) => {
    show(job);
    while (job.state === 'running') {
      await new Promise((r) => setTimeout(r, POLL_MS));
      try {
        job = (await request<{ job: Job }>('GET', `/api/jobs/${encodeURIComponent(job.id)}`)).job;
      } catch {
        continue;
      }
      show(job);
    }
    if (job.state === 'done') await done();
    refresh();
  };

  for (const kind of Object.keys(buttons) as JobKind[])
    buttons[kind].addEventListener('click', async () => {
      try {
        const body = kind === 'select' ? { kind, budget: Number(budget.value) } : { kind };
        const { job } = await request<{ job: Job }>('POST', '/api/jobs', body);
        await follow(job);
      } catch (err) {
        status.dataset.state = 'failed';
        status.textContent = (err as Error).message;
      }
    });
  cancel.addEventListener('click', async () => {
    if (running) await request('DELETE', `/api/jobs/${encodeURIComponent(running.id)}`).catch(() => {});
  });

  return {
    refresh,
    /** Picks up a job already running (after a reload). */
    async resume() {
      const { jobs } = await request<{ jobs: Job[] }>('GET', '/api/jobs');
      const job = jobs.find((j) => j.state === 'running');
      if (job) void follow(job);
    },
  };
}

export function exportControls(project: ProjectView) {
  const kind = byId<HTMLSelectElement>('export-kind');
  const format = byId<HTMLSelectElement>('export-format');
  const result = byId('export-result');
  format.replaceChildren(...project.exportFormats.map((f) => el('option', f, { value: f })));
  byId('export').addEventListener('click', async () => {
    result.textContent = 'exporting…';
    try {
      const r = await request<ExportView>('POST', '/api/exports', { kind: kind.value, format: format.value });
      const text = `${r.images} image(s) → exports/${r.name}`;
      result.replaceChildren(
        r.url ? el('a', text, { href: r.url, download: r.name, id: 'export-link' }) : el('span', text),
      );
    } catch (err) {
      result.textContent = (err as Error).message;
    }
  });
}
