// The annotator page: picks an image from the list, shows it in the viewer
// with its landmarks, and turns clicks, drags and keys into saves. The
// screen changes at once; the save queue sends each change in order and
// the header says when everything is on disk.
import {
  type AnnotationView,
  type ImageView,
  imageUrl,
  type PointView,
  type ProjectView,
  request,
  SaveQueue,
} from './api.js';
import { exportControls, jobControls } from './controls.js';
import { byId, el, fmt } from './dom.js';
import { fetchList, type ListEntry, type Mode, renderList } from './lists.js';
import { type Mark, Viewer } from './viewer.js';

declare global {
  interface Window {
    /** For tests and tools: the viewer and the page state. */
    fewmark?: { viewer: Viewer; state: typeof state };
  }
}

const state = {
  project: null as ProjectView | null,
  mode: 'annotate' as Mode,
  entries: [] as ListEntry[],
  image: null as ImageView | null,
  /** The landmarks as on screen (saved or on their way). */
  points: [] as PointView[],
  annotated: false,
  current: 0,
};

const saveStatus = byId('save-status');
const queue = new SaveQueue({
  state(s, detail) {
    saveStatus.dataset.state = s;
    saveStatus.textContent = detail;
    // Whether a job can start depends on what is labeled.
    if (s === 'saved') void refreshProject();
  },
  saved(image, annotation, pending) {
    setStatus(image, annotation);
    // Take the server's copy only when no newer change of this image is on its way.
    if (pending === 0 && state.image?.id === image) {
      state.image.annotation = annotation;
      state.points = annotation.points;
      state.annotated = true;
      render();
    }
  },
  refused(image) {
    if (state.image?.id === image) void openImage(image, state.current);
  },
});

const viewer = new Viewer(byId<HTMLCanvasElement>('viewer'), {
  place: (x, y) => place(state.current, x, y, true),
  move: (index, x, y) => place(index, x, y, false),
  select: (index) => setCurrent(index),
  hover: (p) => {
    byId('cursor').textContent = p ? `${where(p.x, p.y)}` : '';
  },
});
window.fewmark = { viewer, state };

const names = () => state.project?.landmarks ?? [];

function where(x: number, y: number): string {
  const s = state.image?.spacing;
  const px = `${fmt(x)}, ${fmt(y)} px`;
  return s ? `${px} · ${fmt(x * s.x, 2)}, ${fmt(y * s.y, 2)} mm` : px;
}

function setStatus(image: string, a: AnnotationView): void {
  const entry = state.entries.find((e) => e.id === image);
  if (entry) entry.status = a.status;
  renderList(state.entries, byId('list-note').textContent ?? '', state.image?.id ?? null, (id) =>
    openImage(id),
  );
}

// ---- changes

/** The first landmark after `from` (wrapping) that is not placed yet, else `from`. */
function nextUnplaced(from: number): number {
  const n = names().length;
  for (let i = 1; i <= n; i++) {
    const k = (from + i) % n;
    if (!state.points[k]) return k;
  }
  return from;
}

/**
 * Places (or moves) landmark k. On an image that has a prediction but no
 * annotation yet, the first change takes the whole prediction with it:
 * the image becomes a corrected annotation.
 */
function place(k: number, x: number, y: number, advance: boolean): void {
  const image = state.image;
  if (!image) return;
  const id = image.id;
  if (!state.annotated && image.prediction) {
    const points = image.prediction.points.map((p) => p);
    points[k] = [x, y];
    state.points = points;
    state.annotated = true;
    queue.add(id, () => request('PUT', `${imageUrl(id)}/annotation`, { points, source: 'corrected' }));
  } else {
    state.points = state.points.map((p, i) => (i === k ? [x, y] : p));
    state.annotated = true;
    queue.add(id, () => request('PUT', `${imageUrl(id)}/landmarks/${k}`, { x, y }));
  }
  state.current = advance ? nextUnplaced(k) : k;
  render();
}

function deleteCurrent(): void {
  const image = state.image;
  const k = state.current;
  if (!image || !state.annotated || !state.points[k]) return;
  state.points = state.points.map((p, i) => (i === k ? null : p));
  queue.add(image.id, () => request('DELETE', `${imageUrl(image.id)}/landmarks/${k}`));
  render();
}

async function accept(): Promise<void> {
  const image = state.image;
  if (!image?.prediction || complete()) return;
  state.points = image.prediction.points;
  state.annotated = true;
  render();
  queue.add(image.id, () => request('POST', `${imageUrl(image.id)}/accept`));
}

function setCurrent(k: number): void {
  const n = names().length;
  state.current = ((k % n) + n) % n;
  render();
}

// ---- showing

function marks(): Mark[] {
  const prediction = state.image?.prediction;
  const out: Mark[] = [];
  names().forEach((name, k) => {
    const p = state.points[k];
    const predicted = prediction?.points[k];
    const base = { index: k, label: `${k + 1} ${name}`, current: k === state.current };
    if (p) out.push({ ...base, x: p[0], y: p[1], kind: 'placed' });
    else if (predicted)
      out.push({
        ...base,
        x: predicted[0],
        y: predicted[1],
        kind: 'predicted',
        confidence: prediction?.confidence[k],
      });
  });
  return out;
}

function renderLandmarks(): void {
  const prediction = state.image?.prediction;
  byId('landmark-list').replaceChildren(
    ...names().map((name, k) => {
      const p = state.points[k];
      const predicted = prediction?.points[k];
      const conf = prediction?.confidence[k];
      const li = el('li', '', {
        'data-index': String(k),
        'data-state': p ? 'placed' : predicted ? 'predicted' : 'missing',
        'aria-current': String(k === state.current),
      });
      const text = p
        ? where(p[0], p[1])
        : predicted
          ? `${where(predicted[0], predicted[1])}${conf != null ? ` · confidence ${fmt(conf, 2)}` : ''}`
          : 'not placed';
      li.append(el('span', String(k + 1), { class: 'index' }), el('span', name, { class: 'name' }));
      li.append(el('span', text, { class: 'where' }));
      li.addEventListener('click', () => setCurrent(k));
      return li;
    }),
  );
  byId('landmark-list').querySelector('[aria-current="true"]')?.scrollIntoView({ block: 'nearest' });
}

/** Whether every landmark is placed. */
const complete = () => state.points.length > 0 && state.points.every((p) => p !== null);

function renderMeta(): void {
  const view = state.image;
  if (!view) return;
  const s = view.spacing;
  const a = view.annotation;
  byId('image-meta').textContent =
    `${view.width} x ${view.height} px` +
    (s ? ` · ${fmt(s.x, 3)} x ${fmt(s.y, 3)} mm/px (${s.source})` : ' · spacing unknown (mm not shown)') +
    (a ? ` · ${a.source}, revision ${a.revision}` : view.prediction ? ' · predicted, not reviewed' : '');
}

function render(): void {
  viewer.setMarks(marks());
  renderLandmarks();
  renderMeta();
  // Accepting would replace a finished annotation: offered only until the image is labeled.
  byId<HTMLButtonElement>('accept').hidden = !state.image?.prediction || complete();
  byId<HTMLButtonElement>('delete-landmark').disabled = !state.points[state.current];
}

/** Shows an image; a failure (an unreadable file) is shown in the viewer. */
async function openImage(id: string, landmark?: number): Promise<void> {
  try {
    await loadImage(id, landmark);
  } catch (err) {
    byId('viewer-message').textContent = `Cannot open ${id}: ${(err as Error).message}`;
  }
}

async function loadImage(id: string, landmark?: number): Promise<void> {
  const view = await request<ImageView>('GET', imageUrl(id));
  const img = new Image();
  img.src = `${imageUrl(id)}/display.png`;
  await img.decode();
  state.image = view;
  state.annotated = view.annotation !== null;
  state.points = view.annotation?.points ?? names().map(() => null);
  const firstOpen = state.points.findIndex((p) => !p);
  state.current = landmark ?? Math.max(firstOpen, 0);
  byId('image-title').textContent = id;
  byId('viewer-message').textContent = '';
  viewer.setImage(img);
  history.replaceState(null, '', `#${state.mode}/${encodeURIComponent(id)}`);
  renderList(state.entries, byId('list-note').textContent ?? '', id, (i) => openImage(i));
  render();
}

async function loadList(): Promise<void> {
  const { entries, note } = await fetchList(state.mode, byId<HTMLSelectElement>('review-sort').value);
  state.entries = entries;
  renderList(entries, note, state.image?.id ?? null, (id) => openImage(id));
}

async function setMode(mode: Mode, open?: string): Promise<void> {
  state.mode = mode;
  byId('mode-annotate').setAttribute('aria-selected', String(mode === 'annotate'));
  byId('mode-review').setAttribute('aria-selected', String(mode === 'review'));
  byId('list-title').textContent = mode === 'annotate' ? 'To annotate' : 'Review';
  byId('review-sort').hidden = mode !== 'review';
  await loadList();
  const target = open && state.entries.some((e) => e.id === open) ? open : state.entries[0]?.id;
  if (target) await openImage(target);
  else {
    state.image = null;
    viewer.setImage(null);
    byId('viewer-message').textContent = 'No image in this list.';
    render();
  }
}

function stepImage(delta: number): void {
  const i = state.entries.findIndex((e) => e.id === state.image?.id);
  const next = state.entries[i + delta];
  if (next) void openImage(next.id);
}

// ---- wiring

function onKey(e: KeyboardEvent): void {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey)
    return;
  const actions: Record<string, () => void> = {
    ArrowDown: () => setCurrent(state.current + 1),
    j: () => setCurrent(state.current + 1),
    ArrowUp: () => setCurrent(state.current - 1),
    k: () => setCurrent(state.current - 1),
    ArrowRight: () => stepImage(1),
    n: () => stepImage(1),
    ArrowLeft: () => stepImage(-1),
    p: () => stepImage(-1),
    Delete: deleteCurrent,
    Backspace: deleteCurrent,
    '+': () => viewer.zoom(1.25),
    '=': () => viewer.zoom(1.25),
    '-': () => viewer.zoom(0.8),
    '0': () => viewer.fit(),
    r: resetDisplay,
    a: () => void accept(),
  };
  const action = actions[e.key];
  if (!action) return;
  e.preventDefault();
  action();
}

function resetDisplay(): void {
  byId<HTMLInputElement>('brightness').value = '1';
  byId<HTMLInputElement>('contrast').value = '1';
  byId<HTMLInputElement>('invert').checked = false;
  viewer.setDisplay({ brightness: 1, contrast: 1, invert: false });
}

function wire(): void {
  document.addEventListener('keydown', onKey);
  byId('zoom-in').addEventListener('click', () => viewer.zoom(1.25));
  byId('zoom-out').addEventListener('click', () => viewer.zoom(0.8));
  byId('zoom-fit').addEventListener('click', () => viewer.fit());
  byId('reset-display').addEventListener('click', resetDisplay);
  const display = () =>
    viewer.setDisplay({
      brightness: Number(byId<HTMLInputElement>('brightness').value),
      contrast: Number(byId<HTMLInputElement>('contrast').value),
      invert: byId<HTMLInputElement>('invert').checked,
    });
  for (const id of ['brightness', 'contrast', 'invert']) byId(id).addEventListener('input', display);
  byId('delete-landmark').addEventListener('click', deleteCurrent);
  byId('accept').addEventListener('click', () => void accept());
  byId('mode-annotate').addEventListener('click', () => void setMode('annotate', state.image?.id));
  byId('mode-review').addEventListener('click', () => void setMode('review', state.image?.id));
  byId('review-sort').addEventListener('change', () => void loadList());
  window.addEventListener('beforeunload', (e) => {
    if (queue.pending > 0) e.preventDefault();
  });
}

let jobs: ReturnType<typeof jobControls> | undefined;

async function refreshProject(): Promise<void> {
  state.project = await request<ProjectView>('GET', '/api/project').catch(() => state.project);
  jobs?.refresh();
}

async function main(): Promise<void> {
  wire();
  const project = await request<ProjectView>('GET', '/api/project');
  state.project = project;
  byId('project-name').textContent =
    `${project.name} · ${project.images} images · ${project.landmarks.length} landmarks`;
  exportControls(project);
  jobs = jobControls(
    () => state.project!,
    async () => {
      await refreshProject();
      await loadList();
      if (state.image) await openImage(state.image.id, state.current);
    },
  );
  jobs.refresh();
  void jobs.resume();
  const [mode, id] = location.hash.slice(1).split('/');
  await setMode(mode === 'review' ? 'review' : 'annotate', id ? decodeURIComponent(id) : undefined);
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  byId('viewer-message').textContent = `Cannot load the project: ${(err as Error).message}`;
});
