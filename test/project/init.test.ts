// Making a project: the manifest lists the images and landmarks, a
// selection orders the queue, annotations import, and bad input is named.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isMissing } from '../../src/io/types.js';
import { initProject } from '../../src/project/init.js';
import { MANIFEST_FILE } from '../../src/project/manifest.js';
import { Project } from '../../src/project/project.js';
import { makeFixture, writeSelectionFixture } from './fixture.js';

describe('fewmark init (project)', () => {
  test('creates a project; a selection orders the queue; annotations import', async () => {
    const f = await makeFixture({ n: 4, size: 64, landmarks: 3, ranked: ['phantom-002', 'phantom-000'] });
    const manifest = JSON.parse(readFileSync(join(f.project, MANIFEST_FILE), 'utf8'));
    assert.equal(manifest.images.length, 4);
    assert.deepEqual(manifest.images[0], {
      id: 'phantom-000',
      file: 'phantom-000.png',
      width: 64,
      height: 64,
    });
    assert.deepEqual(manifest.landmarks, f.truth.names);
    assert.equal(manifest.selection, 'select-out');
    for (const sub of ['annotations', 'selections', 'models', 'predictions', 'exports'])
      assert.ok(existsSync(join(f.project, sub)), sub);

    let p = await Project.open(f.project);
    assert.deepEqual(
      p.queue().map((q) => [q.rank, q.image, q.status]),
      [
        [1, 'phantom-002', 'todo'],
        [2, 'phantom-000', 'todo'],
      ],
    );

    const r = await initProject({ project: f.project, annotations: f.labels, spacing: { x: 0.2, y: 0.2 } });
    assert.equal(r.created, false);
    assert.deepEqual(r.imported, ['phantom-000', 'phantom-001', 'phantom-002', 'phantom-003']);
    p = await Project.open(f.project);
    // Phantoms may leave a landmark off the image: then the import is partial.
    const complete = f.truth.images
      .find((im) => im.image === 'phantom-002')!
      .points.every((q) => !isMissing(q));
    assert.equal(p.queue()[0]!.status, complete ? 'done' : 'partial');
    assert.deepEqual(p.annotations.get('phantom-001')!.points[0], f.truth.images[1]!.points[0]);
    assert.deepEqual(p.manifest.spacing, { x: 0.2, y: 0.2, source: 'user' });
    // A second import skips what is annotated already.
    const again = await initProject({ project: f.project, annotations: f.labels });
    assert.equal(again.imported.length, 0);
    assert.equal(again.skipped.length, 4);
  });

  test('problems are named', async () => {
    const f = await makeFixture({ n: 2, size: 64, landmarks: 2 });
    await assert.rejects(
      initProject({ project: join(f.root, 'new'), landmarks: ['a'] }),
      /is not a project yet; give --images DIR/,
    );
    await assert.rejects(
      initProject({ project: join(f.root, 'new'), images: f.images }),
      /needs its landmark names/,
    );
    await assert.rejects(
      initProject({ project: join(f.root, 'new'), images: f.images, landmarks: ['a', 'a'] }),
      /landmark name 'a' appears twice/,
    );
    const bad = writeSelectionFixture(join(f.root, 'bad-select'), ['phantom-000', 'nope']);
    await assert.rejects(
      initProject({ project: f.project, selection: bad }),
      /selection\.json: ranks images that are not in the project: nope/,
    );
    await assert.rejects(
      initProject({ project: f.project, model: join(f.root, 'no-model') }),
      /no-model: no such model folder/,
    );
    await assert.rejects(
      Project.open(join(f.root, 'none')),
      /not a fewmark project \(no fewmark-project\.json\)/,
    );
  });

  test('the command line: fewmark init creates, then adds a selection; bad flags are named', async () => {
    const f = await makeFixture({ n: 2, size: 64, landmarks: 2 });
    const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
    const fewmark = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
    const project = join(f.root, 'cli-project');
    let r = fewmark(
      'init',
      '--images',
      f.images,
      '--project',
      project,
      '--landmarks',
      'Sella, Nasion',
      '--spacing',
      '0.1',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /created project .*cli-project: 2 images, 2 landmarks/);
    assert.deepEqual((await Project.open(project)).landmarks, ['Sella', 'Nasion']);
    const selection = writeSelectionFixture(join(f.root, 'picked'), ['phantom-001']);
    r = fewmark('init', '--project', project, '--selection', selection);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /updated project .*selection 'picked'/);
    r = fewmark('init', '--project', project, '--spacing', 'wide');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /expected MM or MMX,MMY/);
    r = fewmark('init', '--project', join(f.root, 'other'), '--images', f.images);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^fewmark: a new project needs its landmark names/);
  });
});
