// The annotation store: saves of one image apply in order, are on disk
// when they resolve, keep their previous versions, and read back; a broken
// file is named.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnnotationStore, HISTORY_KEEP, statusOf } from '../../src/project/annotations.js';
import { fileNameOfId, isInside } from '../../src/project/paths.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fewmark-store-'));

describe('annotation store', () => {
  test('concurrent saves of one image all land, in order, and read back', async () => {
    const dir = tmp();
    const store = await AnnotationStore.open(dir, 4);
    const saves = [];
    for (let i = 0; i < 20; i++) saves.push(store.setPoint('img', i % 4, { x: i, y: i + 0.5 }));
    const records = await Promise.all(saves);
    assert.deepEqual(
      records.map((r) => r.revision),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const last = store.get('img')!;
    assert.deepEqual(
      last.points.map((p) => p?.x),
      [16, 17, 18, 19],
    );
    assert.equal(statusOf(last), 'done');
    const again = await AnnotationStore.open(dir, 4);
    assert.deepEqual(again.get('img'), last);
    const history = readdirSync(join(dir, 'annotations', 'history', 'img'));
    assert.equal(history.length, 19);
    assert.ok(19 <= HISTORY_KEEP);
  });

  test('delete a point; status todo / partial / done', async () => {
    const store = await AnnotationStore.open(tmp(), 2);
    assert.equal(statusOf(store.get('a')), 'todo');
    await store.setPoint('a', 0, { x: 1, y: 1 });
    assert.equal(statusOf(store.get('a')), 'partial');
    await store.setPoint('a', 1, { x: 2, y: 2 });
    assert.equal(statusOf(store.get('a')), 'done');
    await store.setPoint('a', 0, null);
    assert.deepEqual(store.get('a')!.points, [null, { x: 2, y: 2 }]);
  });

  test('odd image ids become one safe file name each', async () => {
    const dir = tmp();
    const store = await AnnotationStore.open(dir, 1);
    for (const id of ['..', '.', 'a b', 'x%2F', 'ä/..']) await store.setPoint(id, 0, { x: 1, y: 1 });
    const names = readdirSync(join(dir, 'annotations')).filter((n) => n !== 'history');
    assert.equal(names.length, 5);
    for (const n of names) assert.ok(isInside(join(dir, 'annotations'), join(dir, 'annotations', n)), n);
    assert.equal(fileNameOfId('..'), '%2E%2E');
    const again = await AnnotationStore.open(dir, 1);
    assert.equal(again.all().length, 5);
  });

  test('a broken annotation file is named; leftover temporary files are ignored', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'annotations'));
    writeFileSync(join(dir, 'annotations', '.a.json.123.1.tmp'), '{half');
    assert.equal((await AnnotationStore.open(dir, 2)).all().length, 0);
    writeFileSync(join(dir, 'annotations', 'a.json'), '{"image":"a","points":[[1,2]]}');
    await assert.rejects(
      AnnotationStore.open(dir, 2),
      /a\.json: not an annotation file: points must list the project's 2 landmarks/,
    );
  });
});
