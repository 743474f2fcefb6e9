// A small project for tests: phantom images with known landmarks, made
// into a project, with an optional selection fixture in the format
// `fewmark select` writes.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAnnotations } from '../../src/io/formats/index.js';
import type { Annotations } from '../../src/io/types.js';
import { writePhantomDataset } from '../../src/phantom/dataset.js';
import { initProject } from '../../src/project/init.js';

export interface Fixture {
  root: string;
  images: string;
  /** The phantoms' true landmarks (wide CSV). */
  labels: string;
  truth: Annotations;
  project: string;
}

export interface FixtureOptions {
  n?: number;
  size?: number;
  landmarks?: number;
  /** Image ids, best first, written as selections/<name>/selection.json and imported. */
  ranked?: string[];
  spacing?: number;
}

/** Writes a selection.json as `fewmark select --out DIR` does; returns its path. */
export function writeSelectionFixture(dir: string, ranked: string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'selection.json');
  writeFileSync(
    file,
    JSON.stringify({
      strategy: 'greedy+swap',
      budget: ranked.length,
      model: '/models/test',
      created: new Date().toISOString(),
      ranked: ranked.map((image, i) => ({
        rank: i + 1,
        image,
        file: `/images/${image}.png`,
        score: 0.9 - i * 0.01,
        gain: 0.1 / (i + 1),
      })),
    }),
  );
  return file;
}

export async function makeFixture(o: FixtureOptions = {}): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), 'fewmark-project-'));
  const data = join(root, 'phantoms');
  await writePhantomDataset({
    out: data,
    n: o.n ?? 4,
    seed: 3,
    size: o.size ?? 128,
    landmarks: o.landmarks ?? 5,
  });
  const labels = join(data, 'landmarks.csv');
  const project = join(root, 'project');
  const selection = o.ranked ? writeSelectionFixture(join(root, 'select-out'), o.ranked) : undefined;
  await initProject({
    project,
    images: join(data, 'images'),
    landmarksFrom: labels,
    spacing: o.spacing ? { x: o.spacing, y: o.spacing } : undefined,
    selection,
  });
  return { root, images: join(data, 'images'), labels, truth: await readAnnotations(labels), project };
}
