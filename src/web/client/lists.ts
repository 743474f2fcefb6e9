// The image list on the left: in Annotate mode the selection's ranked
// queue, in Review mode every image with its prediction's confidence,
// lowest first (or by name).
import { type QueueItem, type ReviewItem, request, type Status } from './api.js';
import { byId, el, fmt } from './dom.js';

export type Mode = 'annotate' | 'review';

export interface ListEntry {
  id: string;
  status: Status;
  /** Shown before the id: the rank, or the lowest confidence. */
  lead: string;
  low?: boolean;
}

const LOW_CONFIDENCE = 0.5;

export async function fetchList(mode: Mode, sort: string): Promise<{ entries: ListEntry[]; note: string }> {
  if (mode === 'annotate') {
    const q = await request<{ selection: string | null; items: QueueItem[] }>('GET', '/api/queue');
    return {
      entries: q.items.map((i) => ({
        id: i.image,
        status: i.status,
        lead: i.rank === null ? '' : `#${i.rank}`,
      })),
      note: q.selection
        ? `Ranked by selection '${q.selection}': annotate from the top.`
        : 'No selection yet: every image, by name. Import one with fewmark init --selection.',
    };
  }
  const r = await request<{ predictions: string | null; items: ReviewItem[] }>('GET', '/api/review');
  const items = r.items.filter((i) => i.predicted || i.status !== 'todo');
  if (sort === 'lowest')
    items.sort((a, b) => (a.lowest ?? Number.POSITIVE_INFINITY) - (b.lowest ?? Number.POSITIVE_INFINITY));
  return {
    entries: items.map((i) => ({
      id: i.image,
      status: i.status,
      lead: i.lowest === null ? '' : fmt(i.lowest, 2),
      low: i.lowest !== null && i.lowest < LOW_CONFIDENCE,
    })),
    note: r.predictions
      ? `Predictions '${r.predictions}'. Accept or correct each; a corrected image becomes labeled.`
      : 'No predictions yet: run detection once some images are labeled.',
  };
}

const BADGE: Record<Status, string> = { todo: 'to do', partial: 'partial', done: 'labeled' };

export function renderList(
  entries: ListEntry[],
  note: string,
  current: string | null,
  open: (id: string) => void,
) {
  byId('list-note').textContent = note;
  byId('image-list').replaceChildren(
    ...entries.map((e) => {
      const li = el('li', '', { 'data-image': e.id, 'aria-current': String(e.id === current) });
      const name = el('span', e.lead ? `${e.lead} ` : '');
      if (e.low) name.classList.add('conf-low');
      name.append(e.id);
      li.append(name, el('span', BADGE[e.status], { class: `badge ${e.status}` }));
      li.addEventListener('click', () => open(e.id));
      return li;
    }),
  );
}
