// A synthetic dataset of hand X-ray phantoms on disk (`fewmark phantom`):
// out/images/<id>.png (8-bit grey), out/landmarks.csv (wide CSV, exact
// landmarks) and out/phantom.json (settings, and which images are atypical).
// Everything is written into a temporary folder next to `out` and renamed
// into place at the end, so a failure never leaves a landmarks file that
// describes missing images.
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeAnnotations } from '../io/formats/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface PhantomOptions {
  /** Output folder; it must not exist or be empty, unless `overwrite`. */
  out: string;
  /** Number of images (positive integer). */
  n: number;
  /** Seed (integer 0..2^32-1): the same seed gives byte-identical files. */
  seed: number;
  /** Width and height in pixels: a multiple of 32 from 64 to 2048 (default 512). */
  size?: number;
  /** How many landmarks (1..17, spread over the hand) or which, by name (default all 17). */
  landmarks?: number | string[];
  /** Fraction of atypical images, 0..0.5 (default 0.125). */
  atypicalRate?: number;
  /** Replace an existing, non-empty `out` folder. */
  overwrite?: boolean;
  /** Called after each image. */
  onProgress?: (done: number, total: number) => void;
}

export interface PhantomResult {
  images: number;
  seconds: number;
  /** Absolute path of the output folder. */
  out: string;
}

const MAX_IMAGES = 1_000_000;

function fail(what: string, expected: string, received: unknown): never {
  const shown =
    typeof received === 'string' ? `'${received}'` : (JSON.stringify(received) ?? String(received));
  throw new RangeError(`Expected ${expected} for ${what} but received ${shown}`);
}

interface Checked {
  out: string;
  n: number;
  seed: number;
  size: number;
  landmarks: number | string[] | undefined;
  atypicalRate: number;
}

/** Checks options and fills in defaults; throws a RangeError naming the option. */
function checkPhantomOptions(options: PhantomOptions, landmarkNames: readonly string[]): Checked {
  const { out, n, seed } = options;
  if (typeof out !== 'string' || out.trim() === '') fail('out', 'a folder path', out);
  if (!Number.isInteger(n) || n < 1 || n > MAX_IMAGES)
    fail('n', `a positive integer (at most ${MAX_IMAGES})`, n);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    fail('seed', 'an integer from 0 to 4294967295', seed);
  const size = options.size ?? 512;
  if (!Number.isInteger(size) || size % 32 !== 0 || size < 64 || size > 2048)
    fail('size', 'a multiple of 32 from 64 to 2048', size);
  const atypicalRate = options.atypicalRate ?? 0.125;
  if (typeof atypicalRate !== 'number' || !(atypicalRate >= 0 && atypicalRate <= 0.5))
    fail('atypicalRate', 'a number from 0 to 0.5', atypicalRate);
  const { landmarks } = options;
  if (typeof landmarks === 'number') {
    if (!Number.isInteger(landmarks) || landmarks < 1 || landmarks > landmarkNames.length)
      fail('landmarks', `a count from 1 to ${landmarkNames.length} or a list of names`, landmarks);
  } else if (landmarks !== undefined) {
    if (!Array.isArray(landmarks) || landmarks.length === 0)
      fail('landmarks', `a count from 1 to ${landmarkNames.length} or a list of names`, landmarks);
    const seen = new Set<string>();
    for (const name of landmarks) {
      if (!landmarkNames.includes(name)) fail('landmarks', `names from ${landmarkNames.join(', ')}`, name);
      if (seen.has(name)) fail('landmarks', 'each name once', name);
      seen.add(name);
    }
  }
  return { out: resolve(out), n, seed, size, landmarks, atypicalRate };
}

async function exists(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.write(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writePhantomDataset(options: PhantomOptions): Promise<PhantomResult> {
  const P = await import('./index.js');
  const o = checkPhantomOptions(options, P.LANDMARK_NAMES);
  const started = performance.now();

  const existing = await exists(o.out);
  if (existing && !existing.isDirectory()) fail('out', 'a folder path', `${o.out} (a file)`);
  const occupied = existing ? (await readdir(o.out)).length > 0 : false;
  if (occupied && !options.overwrite)
    throw new RangeError(
      `Expected a new or empty folder for out but received '${o.out}', which has files (pass overwrite to replace it)`,
    );

  const parent = dirname(o.out);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(o.out)}.phantom-${process.pid}-${Date.now()}.tmp`);
  const config = { size: o.size, atypicalRate: o.atypicalRate, landmarks: o.landmarks };
  const width = P.idWidth(o.n);
  const report = options.onProgress;

  try {
    await mkdir(join(tmp, 'images'), { recursive: true });
    const plans = [];
    let writing: Promise<void> = Promise.resolve();
    for (let i = 0; i < o.n; i++) {
      const plan = P.planPhantom(o.seed, i, config, width);
      const png = P.encodePhantom(plan);
      // Encode the next image while this one goes to disk.
      await writing;
      writing = writeSynced(join(tmp, 'images', `${plan.id}.png`), png);
      // Keep only what the landmarks file and manifest need.
      plans.push({ id: plan.id, points: plan.points, atypical: plan.atypical, note: plan.note });
      report?.(i + 1, o.n);
    }
    await writing;
    const annotations = P.phantomAnnotations({ n: o.n, seed: o.seed, ...config }, plans);
    await writeAnnotations(join(tmp, 'landmarks.csv'), annotations);
    const manifest = {
      generator: 'fewmark phantom',
      version: 1,
      seed: o.seed,
      n: o.n,
      size: o.size,
      atypicalRate: o.atypicalRate,
      pixelSpacingMm: P.phantomSpacing(o.size).x,
      landmarks: annotations.names,
      images: plans.map((p) => ({ id: p.id, atypical: p.atypical, note: p.note })),
    };
    await writeFileAtomic(join(tmp, 'phantom.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    // Into place: an existing folder is moved aside first and removed after.
    if (existing) {
      if (occupied) {
        const old = `${tmp}.old`;
        await rename(o.out, old);
        await rename(tmp, o.out);
        await rm(old, { recursive: true, force: true });
      } else {
        await rm(o.out, { recursive: true, force: true });
        await rename(tmp, o.out);
      }
    } else await rename(tmp, o.out);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { images: o.n, seconds: (performance.now() - started) / 1000, out: o.out };
}
