// The phantom generator: deterministic bytes, landmarks that move exactly
// with the image, the share of atypical images, in-memory and on-disk sets
// that agree, option checks and atomic output.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { phantom } from '../../src/cli/commands/phantom.js';
import * as E from '../../src/engine/index.js';
import { readAnnotations } from '../../src/io/formats/index.js';
import * as P from '../../src/phantom/index.js';

const root = mkdtempSync(join(tmpdir(), 'fewmark-phantom-'));
after(() => rmSync(root, { recursive: true, force: true }));

const files = (dir: string) =>
  [...readdirSync(join(dir, 'images')).map((f) => join('images', f)), 'landmarks.csv', 'phantom.json'].sort();

describe('phantom: determinism', () => {
  test('the same seed gives byte-identical files; another seed different ones', async () => {
    const a = await phantom({ out: join(root, 'a'), n: 4, seed: 7, size: 128 });
    const b = await phantom({ out: join(root, 'b'), n: 4, seed: 7, size: 128 });
    const c = await phantom({ out: join(root, 'c'), n: 4, seed: 8, size: 128 });
    assert.equal(a.images, 4);
    assert.deepEqual(files(a.out), [
      'images/phantom-000.png',
      'images/phantom-001.png',
      'images/phantom-002.png',
      'images/phantom-003.png',
      'landmarks.csv',
      'phantom.json',
    ]);
    for (const f of files(a.out))
      assert.ok(readFileSync(join(a.out, f)).equals(readFileSync(join(b.out, f))), `${f} differs`);
    for (const f of files(a.out).filter((f) => f !== 'phantom.json'))
      assert.ok(!readFileSync(join(a.out, f)).equals(readFileSync(join(c.out, f))), `${f} is the same`);
  });

  test('an image does not depend on how many are made', () => {
    const few = P.generatePhantoms({ n: 2, seed: 3, size: 64 });
    const more = P.generatePhantoms({ n: 5, seed: 3, size: 64 });
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(few.images[i]!.image.toArray(), more.images[i]!.image.toArray());
      assert.deepEqual(few.annotations.images[i], more.annotations.images[i]);
    }
    for (const img of [...few.images, ...more.images]) img.image.dispose();
  });
});

describe('phantom: on disk and in memory', () => {
  test('landmarks.csv and the PNGs hold what generatePhantoms returns', async () => {
    const { out } = await phantom({ out: join(root, 'm'), n: 3, seed: 11, size: 96, landmarks: 6 });
    const set = P.generatePhantoms({ n: 3, seed: 11, size: 96, landmarks: 6 });
    const ann = await readAnnotations(join(out, 'landmarks.csv'));
    assert.deepEqual(ann.names, set.annotations.names);
    assert.equal(ann.names.length, 6);
    assert.deepEqual(
      ann.images.map((i) => [i.image, i.points]),
      set.annotations.images.map((i) => [i.image, i.points]),
    );
    for (const img of set.images) {
      const decoded = E.decodeImage(readFileSync(join(out, 'images', `${img.id}.png`))).pixels;
      assert.deepEqual(decoded.shape, [96, 96]);
      assert.equal(decoded.dtype, 'uint8');
      assert.deepEqual(decoded.toArray(), img.image.toArray());
      decoded.dispose();
      img.image.dispose();
    }
    const manifest = JSON.parse(readFileSync(join(out, 'phantom.json'), 'utf8'));
    assert.equal(manifest.images.length, 3);
    assert.deepEqual(manifest.landmarks, ann.names);
  });

  test('all 17 named landmarks by default, inside the image; only missing phalanges are NaN', () => {
    for (let i = 0; i < 40; i++) {
      const plan = P.planPhantom(21, i, { size: 256 });
      assert.equal(plan.points.length, 17);
      plan.points.forEach((p, k) => {
        if (Number.isNaN(p.x)) {
          assert.equal(plan.atypical, 'missing-phalanx', `${plan.id} ${P.LANDMARK_NAMES[k]}`);
          assert.match(P.LANDMARK_NAMES[k]!, /_tip$/);
        } else {
          assert.ok(p.x >= 0 && p.y >= 0 && p.x <= 255 && p.y <= 255, `${plan.id} ${P.LANDMARK_NAMES[k]}`);
        }
      });
    }
  });
});

/** Canonical image with a small Gaussian blob at each point. */
function markers(points: { x: number; y: number }[], size: number, sigma: number): Float32Array {
  const img = new Float32Array(size * size);
  for (const p of points) {
    if (Number.isNaN(p.x)) continue;
    for (let y = Math.floor(p.y - 4 * sigma); y <= Math.ceil(p.y + 4 * sigma); y++)
      for (let x = Math.floor(p.x - 4 * sigma); x <= Math.ceil(p.x + 4 * sigma); x++)
        img[y * size + x]! += Math.exp(-((x - p.x) ** 2 + (y - p.y) ** 2) / (2 * sigma * sigma));
  }
  return img;
}

/** Intensity-weighted centroid of img in a square window around p. */
function centroid(img: Float32Array, size: number, p: { x: number; y: number }, r: number) {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let y = Math.max(0, Math.round(p.y) - r); y <= Math.min(size - 1, Math.round(p.y) + r); y++)
    for (let x = Math.max(0, Math.round(p.x) - r); x <= Math.min(size - 1, Math.round(p.x) + r); x++) {
      const w = img[y * size + x]!;
      sw += w;
      sx += w * x;
      sy += w * y;
    }
  return { x: sx / sw, y: sy / sw, weight: sw };
}

describe('phantom: landmarks move exactly with the image', () => {
  test('a marker drawn at each canonical landmark lands on the mapped landmark (< 0.5 px)', () => {
    const size = 512;
    const seed = 5;
    // Typical images and every strongly deformed one among the first 40.
    const indices = [...Array.from({ length: 6 }, (_, i) => i)];
    for (let i = 6; i < 120; i++) if (P.atypicalKind(seed, i) === 'strong-deformation') indices.push(i);
    assert.ok(indices.length >= 8);
    let worst = 0;
    for (const i of indices) {
      const plan = P.planPhantom(seed, i, { size });
      const canonical = markers(plan.canonical, size, 1.5);
      const warped = E.tidy(
        () => P.warpImage(E.tensor(canonical, [size, size]), plan.warp).data() as Float32Array,
      );
      plan.points.forEach((p, k) => {
        if (Number.isNaN(p.x)) return;
        const c = centroid(warped, size, p, 8);
        assert.ok(c.weight > 1, `${plan.id} ${P.LANDMARK_NAMES[k]}: no marker near the landmark`);
        const error = Math.hypot(c.x - p.x, c.y - p.y);
        worst = Math.max(worst, error);
        assert.ok(
          error < 0.5,
          `${plan.id} ${P.LANDMARK_NAMES[k]}: marker at ${c.x},${c.y}, landmark at ${p.x},${p.y}`,
        );
      });
    }
    assert.ok(worst < 0.5);
  });

  test('forward inverts the sampling map to well below a pixel', () => {
    for (let i = 0; i < 24; i++) {
      const plan = P.planPhantom(9, i, { size: 512 });
      plan.canonical.forEach((q) => {
        if (Number.isNaN(q.x)) return;
        const back = P.backward(plan.warp, P.forward(plan.warp, q));
        assert.ok(Math.hypot(back.x - q.x, back.y - q.y) < 1e-6);
      });
      assert.ok(P.minJacobian(plan.warp) > 0, `${plan.id} folds`);
    }
  });
});

describe('phantom: atypical images', () => {
  test('about one in eight, seeded, every kind present', () => {
    for (const seed of [1, 2, 3]) {
      const kinds = Array.from({ length: 400 }, (_, i) => P.atypicalKind(seed, i));
      const count = kinds.filter((k) => k !== null).length;
      assert.ok(count >= 40 && count <= 60, `seed ${seed}: ${count} of 400 atypical`);
      for (const k of P.ATYPICAL_KINDS) assert.ok(kinds.includes(k), `seed ${seed}: no ${k}`);
      // Every block of 8 has exactly one.
      for (let b = 0; b < 50; b++) assert.equal(kinds.slice(8 * b, 8 * b + 8).filter(Boolean).length, 1);
    }
    assert.notDeepEqual(
      Array.from({ length: 40 }, (_, i) => P.atypicalKind(1, i)),
      Array.from({ length: 40 }, (_, i) => P.atypicalKind(2, i)),
    );
    assert.equal(Array.from({ length: 50 }, (_, i) => P.atypicalKind(1, i, 0)).filter(Boolean).length, 0);
  });

  test('atypical anatomy: a missing tip, an extra digit, changed proportions', () => {
    const seed = 4;
    const typical = P.planPhantom(seed, [0, 1, 2].find((i) => !P.atypicalKind(seed, i))!, {});
    const bones = typical.hand.bones.length;
    for (let i = 0; i < 80; i++) {
      const kind = P.atypicalKind(seed, i);
      if (!kind) continue;
      const plan = P.planPhantom(seed, i, {});
      assert.ok(plan.note.length > 0);
      const missing = P.LANDMARK_NAMES.filter((_, k) => Number.isNaN(plan.points[k]!.x));
      if (kind !== 'missing-phalanx') assert.deepEqual(missing, [], plan.id);
      else {
        // The tip, and the PIP joint too when the middle phalanx is gone, of one finger.
        const finger = missing[0]!.split('_')[0]!;
        assert.ok(missing.length === 1 || missing.length === 2, plan.id);
        assert.deepEqual(missing, [`${finger}_tip`, `${finger}_pip`].slice(0, missing.length), plan.id);
      }
      if (kind === 'missing-phalanx') assert.ok(plan.hand.bones.length < bones);
      if (kind === 'extra-digit') assert.ok(plan.hand.bones.length > bones);
    }
  });

  test('typical images make better one-shot templates than atypical ones', (t) => {
    // A minimal one-shot detector: each landmark's patch in the template is
    // searched for (NCC) near the true landmark in every other image. The
    // mean error over targets rates the template; a missing landmark counts
    // as a miss (the search radius).
    const n = 24;
    const S = 128;
    const R = 5;
    const W = 8;
    const set = P.generatePhantoms({ n, seed: 12, size: S });
    const pixels = set.images.map((img) => Float32Array.from(img.image.data() as Uint8Array));
    for (const img of set.images) img.image.dispose();
    const points = set.annotations.images.map((a) => a.points);
    const side = 2 * R + 1;
    const at = (img: Float32Array, x: number, y: number) =>
      img[Math.min(S - 1, Math.max(0, y)) * S + Math.min(S - 1, Math.max(0, x))]!;
    const template = new Float32Array(side * side);
    const score = points.map((tp, ti) => {
      let error = 0;
      let count = 0;
      tp.forEach((p, k) => {
        const cx = Math.round(p.x);
        const cy = Math.round(p.y);
        if (!Number.isNaN(p.x)) {
          let mean = 0;
          for (let i = 0; i < side * side; i++) {
            template[i] = at(pixels[ti]!, cx - R + (i % side), cy - R + Math.floor(i / side));
            mean += template[i]! / (side * side);
          }
          for (let i = 0; i < side * side; i++) template[i]! -= mean;
        }
        points.forEach((qp, j) => {
          const q = qp[k]!;
          if (j === ti || Number.isNaN(q.x)) return;
          count++;
          if (Number.isNaN(p.x)) {
            error += W;
            return;
          }
          let best = Number.NEGATIVE_INFINITY;
          let bx = 0;
          let by = 0;
          for (let dy = -W; dy <= W; dy++)
            for (let dx = -W; dx <= W; dx++) {
              const x0 = Math.round(q.x) + dx;
              const y0 = Math.round(q.y) + dy;
              let dot = 0;
              let sum = 0;
              let sq = 0;
              for (let i = 0; i < side * side; i++) {
                const v = at(pixels[j]!, x0 - R + (i % side), y0 - R + Math.floor(i / side));
                dot += template[i]! * v;
                sum += v;
                sq += v * v;
              }
              const ncc = dot / Math.sqrt(Math.max(1e-9, sq - (sum * sum) / (side * side)));
              if (ncc > best) {
                best = ncc;
                bx = x0;
                by = y0;
              }
            }
          error += Math.min(W, Math.hypot(bx - q.x, by - q.y));
        });
      });
      return error / count;
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const atypical = score.filter((_, i) => set.images[i]!.atypical);
    const typical = score.filter((_, i) => !set.images[i]!.atypical);
    assert.equal(atypical.length, 3);
    t.diagnostic(
      `mean template error: atypical ${mean(atypical).toFixed(2)} px, typical ${mean(typical).toFixed(2)} px`,
    );
    assert.ok(
      mean(atypical) > mean(typical) * 1.1,
      `atypical ${mean(atypical)} px vs typical ${mean(typical)} px`,
    );
  });
});

describe('phantom: options and output folder', () => {
  const out = join(root, 'x');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ n: 0 }, /Expected a positive integer .* for n but received 0/],
    [{ n: 2.5 }, /for n but received 2\.5/],
    [{ seed: -1 }, /for seed but received -1/],
    [{ size: 100 }, /Expected a multiple of 32 from 64 to 2048 for size but received 100/],
    [{ size: 4096 }, /for size but received 4096/],
    [{ landmarks: 0 }, /for landmarks but received 0/],
    [{ landmarks: ['nose'] }, /for landmarks but received 'nose'/],
    [{ atypicalRate: 0.9 }, /for atypicalRate but received 0\.9/],
  ];
  for (const [change, message] of cases)
    test(`rejects ${JSON.stringify(change)}`, async () => {
      await assert.rejects(phantom({ out, n: 2, seed: 1, size: 64, ...change } as never), message);
      assert.ok(!existsSync(out));
    });

  test('a failure mid-way leaves nothing behind; a full folder needs overwrite', async () => {
    const dir = join(root, 'fail');
    await assert.rejects(
      phantom({
        out: join(dir, 'set'),
        n: 5,
        seed: 1,
        size: 64,
        onProgress: (done) => {
          if (done === 3) throw new Error('disk full');
        },
      }),
      /disk full/,
    );
    assert.deepEqual(readdirSync(dir), []);

    const first = await phantom({ out: join(dir, 'set'), n: 2, seed: 1, size: 64 });
    await assert.rejects(phantom({ out: first.out, n: 3, seed: 2, size: 64 }), /overwrite/);
    assert.equal(readdirSync(join(first.out, 'images')).length, 2);
    await phantom({ out: first.out, n: 3, seed: 2, size: 64, overwrite: true });
    assert.equal(readdirSync(join(first.out, 'images')).length, 3);
    assert.deepEqual(readdirSync(dir), ['set']);
  });
});
