// An open project: the manifest, the annotations, the current selection and
// prediction run, and the checks every change goes through. Requests name
// images by id only; the file behind an id is always the one the manifest
// lists, so nothing outside the project and its listed images is reachable.
import { basename, join, resolve } from 'node:path';
import type { Annotations, Point, Spacing } from '../io/types.js';
import { type AnnotationRecord, type AnnotationStatus, AnnotationStore, statusOf } from './annotations.js';
import { type DisplayImage, displayImage } from './display-image.js';
import { invalid, notFound } from './errors.js';
import {
  type Manifest,
  type ModelKind,
  type ProjectImage,
  readManifest,
  withModel,
  writeManifest,
} from './manifest.js';
import { lowestConfidence, type Prediction, type PredictionRun, readPredictionRun } from './predictions.js';
import { readProjectSelection, type Selection } from './selection.js';

export interface QueueItem {
  /** Rank in the selection; null when the project has no selection (then every image, by name). */
  rank: number | null;
  image: string;
  score?: number;
  gain?: number;
  status: AnnotationStatus;
}

export interface ReviewItem {
  image: string;
  status: AnnotationStatus;
  source?: AnnotationRecord['source'];
  /** Lowest and mean per-landmark confidence of the current prediction. */
  lowest: number | null;
  mean: number | null;
  predicted: boolean;
}

export class Project {
  readonly images: Map<string, ProjectImage>;
  private manifestQueue: Promise<unknown> = Promise.resolve();
  private readonly converting = new Map<string, Promise<DisplayImage>>();

  private constructor(
    readonly dir: string,
    public manifest: Manifest,
    readonly annotations: AnnotationStore,
    public selection: Selection | null,
    public predictions: PredictionRun | null,
  ) {
    this.images = new Map(manifest.images.map((im) => [im.id, im]));
  }

  static async open(projectDir: string): Promise<Project> {
    const dir = resolve(projectDir);
    const manifest = await readManifest(dir);
    const annotations = await AnnotationStore.open(dir, manifest.landmarks.length);
    const selection = await readProjectSelection(dir, manifest.selection);
    const predictions = manifest.predictions ? await readPredictionRun(dir, manifest.predictions) : null;
    return new Project(dir, manifest, annotations, selection, predictions);
  }

  get landmarks(): string[] {
    return this.manifest.landmarks;
  }

  /** The image of an id, or a not-found error naming it. */
  image(id: string): ProjectImage {
    const im = this.images.get(id);
    if (!im) throw notFound(`no image '${id}' in this project`);
    return im;
  }

  /** Absolute path of an image's file (only ever one the manifest lists). */
  imageFile(id: string): string {
    return join(this.manifest.imagesDir, this.image(id).file);
  }

  /** The display PNG of an image; concurrent requests share one conversion. */
  display(id: string): Promise<DisplayImage> {
    const file = this.imageFile(id);
    let pending = this.converting.get(id);
    if (!pending) {
      pending = displayImage(this.dir, id, file).finally(() => this.converting.delete(id));
      this.converting.set(id, pending);
    }
    return pending;
  }

  /** An image's spacing: its own (DICOM) once decoded, else the project default, else null. */
  async spacing(id: string): Promise<Spacing | null> {
    return (await this.display(id)).info.spacing ?? this.manifest.spacing;
  }

  prediction(id: string): Prediction | undefined {
    return this.predictions?.byImage.get(id);
  }

  queue(): QueueItem[] {
    const status = (image: string) => statusOf(this.annotations.get(image));
    if (!this.selection)
      return this.manifest.images.map((im) => ({ rank: null, image: im.id, status: status(im.id) }));
    return this.selection.ranked
      .filter((r) => this.images.has(r.image))
      .map((r) => ({ rank: r.rank, image: r.image, score: r.score, gain: r.gain, status: status(r.image) }));
  }

  review(): ReviewItem[] {
    return this.manifest.images.map((im) => {
      const record = this.annotations.get(im.id);
      const p = this.prediction(im.id);
      const known = p?.confidence.filter((c): c is number => c !== null) ?? [];
      return {
        image: im.id,
        status: statusOf(record),
        source: record?.source,
        lowest: p ? lowestConfidence(p) : null,
        mean: known.length ? known.reduce((a, b) => a + b, 0) / known.length : null,
        predicted: p !== undefined,
      };
    });
  }

  /** Checks a point against an image: finite, on the image (pixel centres from 0 to size - 1, ±0.5). */
  private checkPoint(id: string, p: Point, what: string): void {
    const im = this.image(id);
    if (!(Number.isFinite(p.x) && Number.isFinite(p.y)))
      throw invalid(`${what}: x and y must be finite numbers`);
    if (p.x < -0.5 || p.y < -0.5 || p.x > im.width - 0.5 || p.y > im.height - 0.5)
      throw invalid(
        `${what}: (${p.x}, ${p.y}) is off the image (${im.width} x ${im.height}; x from -0.5 to ${im.width - 0.5}, y from -0.5 to ${im.height - 0.5})`,
      );
  }

  private landmarkIndex(landmark: number): number {
    if (!Number.isInteger(landmark) || landmark < 0 || landmark >= this.landmarks.length)
      throw notFound(`no landmark ${landmark}: this project has landmarks 0 to ${this.landmarks.length - 1}`);
    return landmark;
  }

  /** Places, moves or (with null) deletes one landmark. */
  async setPoint(id: string, landmark: number, point: Point | null): Promise<AnnotationRecord> {
    this.image(id);
    const k = this.landmarkIndex(landmark);
    if (point) this.checkPoint(id, point, `landmark ${k} (${this.landmarks[k]})`);
    return this.annotations.setPoint(id, k, point);
  }

  /** Replaces all landmarks of an image (a corrected prediction, an undo). */
  async setPoints(
    id: string,
    points: (Point | null)[],
    source: AnnotationRecord['source'],
  ): Promise<AnnotationRecord> {
    this.image(id);
    if (points.length !== this.landmarks.length)
      throw invalid(
        `points: expected ${this.landmarks.length} (one per landmark, null where not placed), got ${points.length}`,
      );
    points.forEach((p, k) => {
      if (p) this.checkPoint(id, p, `points[${k}] (${this.landmarks[k]})`);
    });
    return this.annotations.replace(id, points, source);
  }

  /** Takes the current prediction of an image as its annotation. */
  async accept(id: string): Promise<AnnotationRecord> {
    const p = this.prediction(id);
    if (!p) throw notFound(`no prediction for image '${id}' in the current run`);
    if (p.points.length !== this.landmarks.length)
      throw invalid(
        `the prediction of '${id}' has ${p.points.length} landmarks, the project ${this.landmarks.length}`,
      );
    return this.setPoints(id, p.points, 'accepted');
  }

  /** The labeled images (every landmark placed) as a landmarks file's content: detection templates. */
  labeled(): Annotations {
    const images = this.annotations
      .all()
      .filter((r) => statusOf(r) === 'done' && this.images.has(r.image))
      .map((r) => ({ image: r.image, points: r.points as Point[] }));
    return { names: this.landmarks, images };
  }

  /** Changes the manifest and writes it; changes run one at a time. */
  updateManifest(change: (m: Manifest) => Manifest): Promise<Manifest> {
    const run = async () => {
      const next = change(structuredClone(this.manifest));
      await writeManifest(this.dir, next);
      this.manifest = next;
      return next;
    };
    const p = this.manifestQueue.then(run, run);
    this.manifestQueue = p.catch(() => {});
    return p;
  }

  /** Lists a model folder in the manifest (the newest of its kind is the one jobs use). */
  async addModel(path: string, kind: ModelKind): Promise<void> {
    const entry = { name: basename(path), kind, path: resolve(path) };
    await this.updateManifest((m) => ({ ...m, models: withModel(m.models, entry) }));
  }

  /** Makes a selection in selections/<name> the current one (the annotation queue). */
  async useSelection(name: string): Promise<void> {
    const selection = await readProjectSelection(this.dir, name);
    await this.updateManifest((m) => ({ ...m, selection: name }));
    this.selection = selection;
  }

  /** Makes a finished run the current predictions. */
  async usePredictions(name: string): Promise<void> {
    const run = await readPredictionRun(this.dir, name);
    await this.updateManifest((m) => ({ ...m, predictions: name }));
    this.predictions = run;
  }
}
