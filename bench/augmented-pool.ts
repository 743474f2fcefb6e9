// A large pool of radiographs made from a few real ones (for bench/
// selection-scale): each image is a real ISBI training image turned
// (+-8 deg), scaled (+-8%), shifted (+-4%) and gamma-changed (0.8-1.25),
// written at a quarter of the original size (484 x 600 px, PNG), with its
// landmarks moved by the same map, so a chosen image can serve as a
// template. Sources are read once each and all their variants made from
// that, so 10,000 images take minutes.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from '../src/engine/index.js';
import { readImage } from '../src/io/image.js';
import type { Point } from '../src/io/types.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { Rng } from '../src/util/random.js';

export interface PoolImage {
  id: string;
  file: string;
  /** Landmarks in the pool image's pixels. */
  points: Point[];
  /** Which source it was made from. */
  source: string;
}

const OUT_WIDTH = 484;
const OUT_HEIGHT = 600;
/** Sources are halved first (area filter), so the bilinear resampling below does not alias. */
const PRE_SHRINK = 2;

interface Warp {
  angle: number;
  /** Source (halved) pixels per output pixel. */
  step: number;
  shift: Point;
  gamma: number;
}

/** The halved-source point an output pixel shows (output centre at the source centre plus the shift). */
function toSource(u: number, v: number, w: Warp, width: number, height: number): Point {
  const du = u - (OUT_WIDTH - 1) / 2;
  const dv = v - (OUT_HEIGHT - 1) / 2;
  const cos = Math.cos(w.angle) * w.step;
  const sin = Math.sin(w.angle) * w.step;
  return {
    x: (width - 1) / 2 + w.shift.x + cos * du - sin * dv,
    y: (height - 1) / 2 + w.shift.y + sin * du + cos * dv,
  };
}

/** Inverse of toSource. */
function toOutput(p: Point, w: Warp, width: number, height: number): Point {
  const dx = p.x - (width - 1) / 2 - w.shift.x;
  const dy = p.y - (height - 1) / 2 - w.shift.y;
  const cos = Math.cos(w.angle) / w.step;
  const sin = Math.sin(w.angle) / w.step;
  return { x: (OUT_WIDTH - 1) / 2 + cos * dx + sin * dy, y: (OUT_HEIGHT - 1) / 2 - sin * dx + cos * dy };
}

/**
 * Writes `n` images into `dir/images` (skipping those already there) and
 * returns them; sources are used in turn. The same n and seed give the same pool.
 */
export async function writeAugmentedPool(
  sources: { id: string; file: string; points: Point[] }[],
  n: number,
  dir: string,
  seed: number,
  onProgress?: (done: number, total: number) => void,
): Promise<PoolImage[]> {
  const index = join(dir, 'pool.json');
  if (existsSync(index)) {
    const pool = JSON.parse(await readFile(index, 'utf8')) as PoolImage[];
    if (pool.length === n) return pool;
  }
  await mkdir(join(dir, 'images'), { recursive: true });
  const pool: PoolImage[] = [];
  let done = 0;
  for (const [s, source] of sources.entries()) {
    const variants = Array.from({ length: n }, (_, i) => i).filter((i) => i % sources.length === s);
    if (variants.length === 0) continue;
    const img = await readImage(source.file);
    const width = Math.round(img.width / PRE_SHRINK);
    const height = Math.round(img.height / PRE_SHRINK);
    const halved = E.tidy(() =>
      E.resizeImage(img.pixels, width, height, 'area').reshape([1, 1, height, width]),
    );
    img.pixels.dispose();
    try {
      for (const i of variants) {
        const rng = new Rng(seed, 0xa06, i);
        const scale = 0.92 + 0.16 * rng.next();
        const w: Warp = {
          angle: ((rng.next() * 2 - 1) * 8 * Math.PI) / 180,
          // The whole (halved) height fits the output at scale 1.
          step: height / OUT_HEIGHT / scale,
          shift: { x: (rng.next() * 2 - 1) * 0.04 * width, y: (rng.next() * 2 - 1) * 0.04 * height },
          gamma: Math.exp((rng.next() * 2 - 1) * Math.log(1.25)),
        };
        const id = `aug-${String(i).padStart(5, '0')}`;
        const file = join(dir, 'images', `${id}.png`);
        if (!existsSync(file)) {
          const grid = new Float32Array(OUT_WIDTH * OUT_HEIGHT * 2);
          let k = 0;
          for (let v = 0; v < OUT_HEIGHT; v++)
            for (let u = 0; u < OUT_WIDTH; u++) {
              const p = toSource(u, v, w, width, height);
              grid[k++] = (2 * p.x + 1) / width - 1;
              grid[k++] = (2 * p.y + 1) / height - 1;
            }
          const png = E.tidy(() => {
            const warped = E.F.gridSample(halved, E.tensor(grid, [1, OUT_HEIGHT, OUT_WIDTH, 2]), {
              padding: 'zeros',
              alignCorners: false,
            });
            const pixels = warped.div(255).clamp(0, 1).pow(w.gamma).mul(255).add(0.5).clamp(0, 255);
            return E.encodeImage(pixels.reshape([OUT_HEIGHT, OUT_WIDTH]).to('uint8'), '.png');
          });
          await writeFileAtomic(file, png);
        }
        const points = source.points.map((p) => {
          const q = toOutput(
            { x: (p.x + 0.5) / PRE_SHRINK - 0.5, y: (p.y + 0.5) / PRE_SHRINK - 0.5 },
            w,
            width,
            height,
          );
          return { x: q.x, y: q.y };
        });
        pool.push({ id, file, points, source: source.id });
        onProgress?.(++done, n);
      }
    } finally {
      halved.dispose();
    }
  }
  pool.sort((a, b) => a.id.localeCompare(b.id));
  await writeFileAtomic(index, JSON.stringify(pool));
  return pool;
}
