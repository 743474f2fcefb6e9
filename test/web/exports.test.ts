// Exports: concurrent exports each get their own file, and CSV exports
// cannot run as spreadsheet formulas (text cells starting with = + - @ get
// a leading ', numbers never).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { readAnnotations } from '../../src/io/formats/index.js';
import { Project } from '../../src/project/project.js';
import { createServer } from '../../src/web/server.js';
import { makeOddFixture, type OddFixture } from './odd-names.js';

let f: OddFixture;
let app: FastifyInstance;

const IDS = ['=cmd', '+1', '@x', '-2', 'plain'];
const exportOf = (format: string) =>
  app.inject({ method: 'POST', url: '/api/exports', payload: { kind: 'annotations', format } });

before(async () => {
  f = await makeOddFixture(IDS, ['=SUM(A1)', '-tip', 'c']);
  ({ app } = await createServer(await Project.open(f.project)));
  for (const id of IDS) {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/images/${encodeURIComponent(id)}/annotation`,
      payload: { points: [[-0.5, 1], [2, 3], null] },
    });
    assert.equal(r.statusCode, 200, r.body);
  }
});
after(() => app.close());

describe('exports', () => {
  test('20 exports at once: 20 files, each complete', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => exportOf('wide-csv')));
    for (const r of replies) assert.equal(r.statusCode, 201, r.body);
    const names = replies.map((r) => r.json().name as string);
    assert.equal(new Set(names).size, 20, names.join(' '));
    const listed = readdirSync(join(f.project, 'exports'));
    for (const name of names) {
      assert.ok(listed.includes(name), name);
      assert.equal((await readAnnotations(join(f.project, 'exports', name))).images.length, IDS.length);
    }
    // Folder formats too.
    const folders = await Promise.all(Array.from({ length: 5 }, () => exportOf('isbi-txt')));
    for (const r of folders) assert.equal(r.statusCode, 201, r.body);
    assert.equal(new Set(folders.map((r) => r.json().name)).size, 5);
    for (const r of folders) assert.equal(readdirSync(r.json().path).length, IDS.length);
  });

  test("CSV text cells starting with = + - @ begin with '; numbers stay numbers", async () => {
    const wide = await exportOf('wide-csv');
    const rows: string[][] = parse(readFileSync(wide.json().path, 'utf8'));
    assert.deepEqual(rows[0]!.slice(0, 5), ['image', "'=SUM(A1)_x", "'=SUM(A1)_y", "'-tip_x", "'-tip_y"]);
    const byImage = new Map(rows.slice(1).map((r) => [r[0], r]));
    assert.deepEqual([...byImage.keys()].sort(), ["'+1", "'-2", "'=cmd", "'@x", 'plain']);
    assert.deepEqual(byImage.get("'=cmd")!.slice(1, 5), ['-0.5', '1', '2', '3']);

    const long = await exportOf('long-csv');
    const lrows: string[][] = parse(readFileSync(long.json().path, 'utf8'));
    const first = lrows.find((r) => r[0] === "'@x" && r[1] === "'=SUM(A1)");
    assert.deepEqual(first, ["'@x", "'=SUM(A1)", '-0.5', '1']);
    for (const r of lrows.slice(1)) assert.doesNotMatch(`${r[0]}|${r[1]}`, /(^|\|)[=+\-@]/, r.join(','));

    // Not CSV: names as they are.
    const coco = await exportOf('coco');
    const back = await readAnnotations(coco.json().path);
    assert.deepEqual(back.images.map((i) => i.image).sort(), [...IDS].sort());
  });
});
