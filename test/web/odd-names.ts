// A project whose image file names are the kind that broke the server:
// long (240 ASCII characters), non-ASCII (30 Japanese characters, 90 bytes,
// 270 percent-encoded), and names a spreadsheet would run as a formula.
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePhantomDataset } from '../../src/phantom/dataset.js';
import { initProject } from '../../src/project/init.js';

export const JAPANESE = '患者番号一二三の左手レントゲン写真撮影日二〇二六年十一月分だ';
export const LONG = 'a'.repeat(240);

export interface OddFixture {
  root: string;
  images: string;
  project: string;
  ids: string[];
}

/** Phantom images renamed to `ids` (one each), made into a project with these landmark names. */
export async function makeOddFixture(ids: string[], landmarks: string[]): Promise<OddFixture> {
  const root = mkdtempSync(join(tmpdir(), 'fewmark-names-'));
  const data = join(root, 'phantoms');
  await writePhantomDataset({ out: data, n: ids.length, seed: 5, size: 64, landmarks: 3 });
  const images = join(data, 'images');
  ids.forEach((id, i) => {
    renameSync(join(images, `phantom-${String(i).padStart(3, '0')}.png`), join(images, `${id}.png`));
  });
  const project = join(root, 'project');
  await initProject({ project, images, landmarks });
  return { root, images, project, ids };
}
