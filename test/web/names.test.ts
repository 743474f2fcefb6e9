// Image ids of any length and script work through the whole API (read,
// display, save, history, reopen), and no error answer names a place in
// the server's file system.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { fileNameOfId } from '../../src/project/paths.js';
import { Project } from '../../src/project/project.js';
import { hidePaths } from '../../src/web/errors.js';
import { createServer } from '../../src/web/server.js';
import { JAPANESE, LONG, makeOddFixture, type OddFixture } from './odd-names.js';

let f: OddFixture;
let app: FastifyInstance;

const url = (id: string) => `/api/images/${encodeURIComponent(id)}`;
const bytes = (name: string) => Buffer.byteLength(name);

before(async () => {
  f = await makeOddFixture([JAPANESE, LONG, 'plain', 'gone', 'broken'], ['a', 'b', 'c']);
  ({ app } = await createServer(await Project.open(f.project)));
});
after(() => app.close());

describe('image names', () => {
  test('30 Japanese characters and 240 ASCII characters: read, display, save, reopen', async () => {
    for (const id of [JAPANESE, LONG]) {
      const view = await app.inject({ method: 'GET', url: url(id) });
      assert.equal(view.statusCode, 200, `${id.slice(0, 10)}: ${view.body}`);
      assert.equal(view.json().id, id);
      const png = await app.inject({ method: 'GET', url: `${url(id)}/display.png` });
      assert.equal(png.statusCode, 200, png.body);
      for (const x of [3, 4]) {
        const saved = await app.inject({
          method: 'PUT',
          url: `${url(id)}/landmarks/0`,
          payload: { x, y: 5 },
        });
        assert.equal(saved.statusCode, 200, saved.body);
      }
    }
    // Every file name the ids became fits (255 bytes, with room for a temporary file's suffix).
    const dirs = ['annotations', 'annotations/history', 'cache/display'];
    for (const dir of dirs)
      for (const name of readdirSync(join(f.project, dir))) assert.ok(bytes(name) <= 210, `${dir}/${name}`);
    const again = await Project.open(f.project);
    for (const id of [JAPANESE, LONG]) {
      assert.deepEqual(again.annotations.get(id)?.points[0], { x: 4, y: 5 });
      assert.equal(again.annotations.get(id)?.revision, 2);
    }
    const queue = (await app.inject({ method: 'GET', url: '/api/queue' })).json();
    assert.ok(queue.items.some((i: { image: string }) => i.image === JAPANESE));
  });

  test('long ids get distinct short file names with a readable prefix; short ones keep theirs', () => {
    assert.equal(fileNameOfId('phantom-001'), 'phantom-001');
    assert.equal(fileNameOfId('a b'), 'a%20b');
    const a = fileNameOfId(`${LONG}-1`);
    const b = fileNameOfId(`${LONG}-2`);
    assert.notEqual(a, b);
    assert.ok(a.startsWith('aaaaaaaaaa'), a);
    assert.ok(bytes(a) <= 200 && bytes(b) <= 200);
    const j = fileNameOfId(JAPANESE);
    assert.ok(bytes(j) <= 200, j);
    assert.ok(j.startsWith(encodeURIComponent('患者番号')), j);
    assert.equal(fileNameOfId(JAPANESE), j, 'the same id, the same name');
    assert.doesNotMatch(fileNameOfId('x'.repeat(300)), /[/\\]/);
  });

  test('an id longer than any file name gets a 400 in words, not 414', async () => {
    const r = await app.inject({ method: 'GET', url: url('b'.repeat(600)) });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error, /params\/id must NOT have more than 512 characters/);
  });
});

describe('errors name no server paths', () => {
  test('a failing save (500) and an unreadable image (422) answer without paths; stderr has the details', async () => {
    // A folder where the annotation file goes: the rename over it fails.
    mkdirSync(join(f.project, 'annotations', `${fileNameOfId('broken')}.json`, 'x'), { recursive: true });
    rmSync(join(f.images, 'gone.png'));
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      logged.push(args);
    };
    try {
      const failed = await app.inject({
        method: 'PUT',
        url: `${url('broken')}/landmarks/0`,
        payload: { x: 1, y: 1 },
      });
      assert.equal(failed.statusCode, 500);
      assert.match(failed.json().error, /^internal error: .*broken\.json/);
      const unreadable = await app.inject({ method: 'GET', url: url('gone') });
      assert.equal(unreadable.statusCode, 422);
      assert.match(unreadable.json().error, /^gone\.png: cannot read image: ENOENT/);
      for (const r of [failed, unreadable]) {
        assert.ok(!r.body.includes(f.root), r.body);
        assert.doesNotMatch(r.body, /\/tmp\/|\/work\//, r.body);
      }
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 1, 'the 500 is logged, the 422 (the user can fix it) is not');
    assert.match(String((logged[0]![1] as Error).message), new RegExp(f.project));
  });

  test('hidePaths: project paths relative, others their last part; numbers and URLs stay', () => {
    const p = '/srv/data/my project';
    assert.equal(
      hidePaths(
        `EISDIR: illegal operation, rename '${p}/annotations/.a.json.1.2.tmp' -> '${p}/annotations/a.json'`,
        p,
      ),
      "EISDIR: illegal operation, rename 'annotations/.a.json.1.2.tmp' -> 'annotations/a.json'",
    );
    assert.equal(
      hidePaths('/data/xrays/a.png: cannot read image: ENOENT'),
      'a.png: cannot read image: ENOENT',
    );
    assert.equal(hidePaths('open C:\\Users\\me\\x.csv failed'), 'open x.csv failed');
    assert.equal(hidePaths('detecting 3/40'), 'detecting 3/40');
    assert.equal(hidePaths('body/x must be number'), 'body/x must be number');
  });
});
