// The page's side of the API: typed requests, and the save queue that
// sends changes one at a time, in order, retrying while the server cannot
// be reached, and says what is saved. (Browser code: no Node imports.)

export type PointView = [number, number] | null;
export type Status = 'todo' | 'partial' | 'done';

export interface AnnotationView {
  points: PointView[];
  source: 'manual' | 'accepted' | 'corrected';
  revision: number;
  updated: string;
  status: Status;
}

export interface PredictionView {
  run: string;
  points: PointView[];
  confidence: (number | null)[];
  templateOf: string[] | null;
}

export interface Spacing {
  x: number;
  y: number;
  source: string;
}

export interface ImageView {
  id: string;
  width: number;
  height: number;
  spacing: Spacing | null;
  annotation: AnnotationView | null;
  prediction: PredictionView | null;
}

export type JobKind = 'detect' | 'refine' | 'select';

export interface ProjectView {
  name: string;
  landmarks: string[];
  spacing: Spacing | null;
  images: number;
  selection: { name: string; strategy: string; budget: number; created: string } | null;
  predictions: { name: string; templates: string[] } | null;
  models: { name: string; kind: string }[];
  jobs: Record<JobKind, string | null>;
  exportFormats: string[];
}

export interface QueueItem {
  rank: number | null;
  image: string;
  score?: number;
  status: Status;
}

export interface ReviewItem {
  image: string;
  status: Status;
  lowest: number | null;
  mean: number | null;
  predicted: boolean;
}

export interface Job {
  id: string;
  kind: JobKind;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  progress: { label: string; done: number; total: number } | null;
  message?: string;
}

export interface ExportView {
  name: string;
  format: string;
  images: number;
  path: string;
  url: string | null;
}

/** A failed request: status 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, `server unreachable (${(err as Error).message})`);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, (data as { error?: string }).error ?? res.statusText);
  return data as T;
}

export const imageUrl = (id: string) => `/api/images/${encodeURIComponent(id)}`;

export type SaveState = 'idle' | 'saving' | 'saved' | 'error';

interface Change {
  image: string;
  send: () => Promise<{ annotation: AnnotationView }>;
}

/**
 * Changes go to the server one after another, in the order made, so the
 * saved state is the state on screen. A change the server refuses (4xx) is
 * dropped and reported; one it could not receive is retried.
 */
export class SaveQueue {
  private readonly changes: Change[] = [];
  private busy = false;
  private refused: string | null = null;

  constructor(
    private readonly on: {
      state(state: SaveState, detail: string): void;
      /** A change is saved; `pending` more changes of that image wait. */
      saved(image: string, annotation: AnnotationView, pending: number): void;
      /** The server refused a change: the page should show the saved state again. */
      refused(image: string): void;
    },
  ) {}

  get pending(): number {
    return this.changes.length;
  }

  add(image: string, send: Change['send']): void {
    this.changes.push({ image, send });
    this.refused = null;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    let delay = 500;
    while (this.changes.length > 0) {
      this.on.state('saving', `Saving… (${this.changes.length})`);
      const change = this.changes[0]!;
      try {
        const { annotation } = await change.send();
        this.changes.shift();
        delay = 500;
        const left = this.changes.filter((c) => c.image === change.image).length;
        this.on.saved(change.image, annotation, left);
      } catch (err) {
        const e = err as ApiError;
        if (e.status >= 400 && e.status < 500) {
          this.changes.shift();
          this.refused = e.message;
          this.on.refused(change.image);
          continue;
        }
        this.on.state('error', `Not saved yet, retrying: ${e.message}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 8000);
      }
    }
    this.busy = false;
    if (this.refused) this.on.state('error', `Not saved: ${this.refused}`);
    else this.on.state('saved', `All changes saved ${new Date().toLocaleTimeString()}`);
  }
}
