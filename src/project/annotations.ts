// The annotations of a project: one small JSON file per image under
// annotations/, so a save rewrites only that image's file. A save returns
// only once the new file is durably on disk (durable-write.ts): what the
// server acknowledges survives a crash. The version it replaces is kept
// under annotations/history/<image>/<revision>.json (the last HISTORY_KEEP).
// Saves of one image run one after another, in the order they arrived.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, ioReason } from '../io/errors.js';
import type { Point } from '../io/types.js';
import { keepPrevious, writeFileDurable } from './durable-write.js';
import { fileNameOfId, SUBDIRS } from './paths.js';

export const HISTORY_KEEP = 50;

/** How an image's annotation came about. */
export type AnnotationSource = 'manual' | 'accepted' | 'corrected';

export interface AnnotationRecord {
  image: string;
  /** One per landmark, in the project's order; null where not placed. */
  points: (Point | null)[];
  source: AnnotationSource;
  /** 1 for the first save, then one more for each. */
  revision: number;
  /** ISO time of the save. */
  updated: string;
}

/** 'done' when every landmark is placed: the image counts as labeled. */
export type AnnotationStatus = 'todo' | 'partial' | 'done';

export function statusOf(record: AnnotationRecord | undefined): AnnotationStatus {
  const placed = record?.points.filter((p) => p !== null).length ?? 0;
  if (placed === 0) return 'todo';
  return placed === record!.points.length ? 'done' : 'partial';
}

const SOURCES: AnnotationSource[] = ['manual', 'accepted', 'corrected'];

function parseRecord(text: string, file: string, landmarkCount: number): AnnotationRecord {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DataError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new DataError(file, `not an annotation file: ${what}`);
  };
  if (typeof v?.image !== 'string') bad('no image id');
  if (!Array.isArray(v.points) || v.points.length !== landmarkCount)
    bad(`points must list the project's ${landmarkCount} landmarks`);
  const points = (v.points as unknown[]).map((p, i) => {
    if (p === null) return null;
    if (!Array.isArray(p) || p.length !== 2 || !p.every(Number.isFinite))
      bad(`points[${i}] must be [x, y] or null`);
    return { x: (p as number[])[0]!, y: (p as number[])[1]! };
  });
  if (!SOURCES.includes(v.source as AnnotationSource)) bad(`source must be one of ${SOURCES.join(', ')}`);
  if (!Number.isInteger(v.revision) || (v.revision as number) < 1) bad('revision must be a positive integer');
  return {
    image: v.image as string,
    points,
    source: v.source as AnnotationSource,
    revision: v.revision as number,
    updated: String(v.updated),
  };
}

const serialize = (r: AnnotationRecord) =>
  `${JSON.stringify({ ...r, points: r.points.map((p) => (p ? [p.x, p.y] : null)) })}\n`;

export class AnnotationStore {
  private readonly records = new Map<string, AnnotationRecord>();
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(
    readonly dir: string,
    readonly landmarkCount: number,
  ) {}

  /** Reads every annotation file of the project's annotations folder. */
  static async open(projectDir: string, landmarkCount: number): Promise<AnnotationStore> {
    const store = new AnnotationStore(join(projectDir, SUBDIRS.annotations), landmarkCount);
    let names: string[];
    try {
      names = await readdir(store.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new DataError(store.dir, `cannot list annotations: ${ioReason(err)}`);
    }
    for (const name of names) {
      // Hidden names are temporary files of a write that never finished.
      if (name.startsWith('.') || !name.endsWith('.json')) continue;
      const file = join(store.dir, name);
      const record = parseRecord(await readFile(file, 'utf8'), file, landmarkCount);
      if (fileNameOfId(record.image) !== name.slice(0, -'.json'.length))
        throw new DataError(file, `holds image '${record.image}', which belongs in another file`);
      store.records.set(record.image, record);
    }
    return store;
  }

  get(id: string): AnnotationRecord | undefined {
    return this.records.get(id);
  }

  all(): AnnotationRecord[] {
    return [...this.records.values()];
  }

  /** Places (or with null, removes) one landmark of an image. */
  setPoint(id: string, index: number, point: Point | null): Promise<AnnotationRecord> {
    return this.update(id, (old) => {
      const points = old ? [...old.points] : new Array<Point | null>(this.landmarkCount).fill(null);
      points[index] = point;
      return { points, source: old?.source ?? 'manual' };
    });
  }

  /** Replaces all landmarks of an image. */
  replace(id: string, points: (Point | null)[], source: AnnotationSource): Promise<AnnotationRecord> {
    if (points.length !== this.landmarkCount)
      throw new RangeError(`expected ${this.landmarkCount} points, got ${points.length}`);
    return this.update(id, () => ({ points: [...points], source }));
  }

  private update(
    id: string,
    change: (old: AnnotationRecord | undefined) => Pick<AnnotationRecord, 'points' | 'source'>,
  ): Promise<AnnotationRecord> {
    const run = async () => {
      const old = this.records.get(id);
      const record: AnnotationRecord = {
        image: id,
        ...change(old),
        revision: (old?.revision ?? 0) + 1,
        updated: new Date().toISOString(),
      };
      const file = join(this.dir, `${fileNameOfId(id)}.json`);
      if (old)
        await keepPrevious(file, join(this.dir, 'history', fileNameOfId(id)), old.revision, HISTORY_KEEP);
      await writeFileDurable(file, serialize(record));
      // Only now is the save true: memory follows the disk, never leads it.
      this.records.set(id, record);
      return record;
    };
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.queues.set(
      id,
      next.catch(() => {}),
    );
    return next;
  }
}
