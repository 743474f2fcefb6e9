// The annotator in a real browser (Debian's chromium driven by
// playwright-core): open the page, annotate every landmark of the first
// image of the queue by clicking, reload and find them saved, move one by
// dragging, step with the keyboard, export. Skips when no chromium is
// installed (apt-get install chromium). FEWMARK_SCREENSHOT=FILE keeps a
// screenshot of the annotator (docs/annotator.png is made this way).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { readAnnotations } from '../../src/io/formats/index.js';
import { isMissing } from '../../src/io/types.js';
import { initProject } from '../../src/project/init.js';
import { DETECTIONS_FILE, predictionDir } from '../../src/project/predictions.js';
import { type RunningServer, startServer } from '../../src/web/server.js';
import { type Fixture, makeFixture, writeSelectionFixture } from '../project/fixture.js';

const CANDIDATES = [
  process.env.FEWMARK_CHROMIUM,
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
];
const executable = CANDIDATES.find((p): p is string => !!p && existsSync(p));
const skip = executable ? false : 'no chromium binary (apt-get install chromium, or set FEWMARK_CHROMIUM)';

let f: Fixture;
let server: RunningServer;
let browser: Browser;
let page: Page;
let first: string;
let second: string;
let third: string;
const errors: string[] = [];

const api = async (path: string) => (await fetch(new URL(path, server.url))).json();
const current = () => page.locator('#landmark-list li[aria-current="true"]').getAttribute('data-index');
const saved = () => page.waitForSelector('#save-status[data-state="saved"]');

async function clientPoint(x: number, y: number): Promise<{ x: number; y: number }> {
  return page.evaluate(([px, py]) => window.fewmark!.viewer.toClient(px!, py!), [x, y]);
}

describe('annotator in a browser', { skip }, () => {
  before(async () => {
    f = await makeFixture({ n: 3, size: 256, landmarks: 5, spacing: 0.4 });
    // The queue starts with an image showing every landmark (phantoms may hide one).
    const complete = f.truth.images.find((im) => im.points.every((p) => !isMissing(p)))!.image;
    first = complete;
    const rest = f.truth.images.map((im) => im.image).filter((id) => id !== complete);
    await initProject({
      project: f.project,
      selection: writeSelectionFixture(join(f.root, 'select'), [complete, ...rest]),
    });
    second = rest[0]!;
    third = rest[1]!;
    server = await startServer(f.project, { port: 0 });
    browser = await chromium.launch({ executablePath: executable, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('annotate by clicking, reload, move, keys, export', async () => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('#image-list li').first().getAttribute('data-image'), first);
    assert.equal(await page.textContent('#image-title'), first);

    // Click every landmark where the phantom has it.
    const truth = f.truth.images.find((im) => im.image === first)!;
    const targets = truth.points;
    for (const [k, t] of targets.entries()) {
      assert.equal(await current(), String(k), `landmark ${k} is the current one`);
      const c = await clientPoint(t.x, t.y);
      await page.mouse.click(c.x, c.y);
    }
    await saved();
    assert.match((await page.textContent('#save-status')) ?? '', /All changes saved/);
    let view = await api(`/api/images/${first}`);
    assert.equal(view.annotation.status, 'done');
    view.annotation.points.forEach((p: [number, number], k: number) => {
      assert.ok(
        Math.hypot(p[0] - targets[k]!.x, p[1] - targets[k]!.y) < 0.6,
        `landmark ${k}: ${p} vs ${JSON.stringify(targets[k])}`,
      );
    });
    // Pixel and mm coordinates are shown (spacing 0.4 mm).
    const where = (await page.textContent('#landmark-list li[data-index="0"] .where')) ?? '';
    assert.match(where, /px · .* mm/);

    // Reload: the same image, every landmark placed.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.textContent('#image-title'), first);
    assert.equal(await page.locator('#landmark-list li[data-state="placed"]').count(), targets.length);
    assert.equal(await page.textContent(`#image-list li[data-image="${first}"] .badge`), 'labeled');

    // Drag landmark 1 by 6 pixels to the right.
    const from = await clientPoint(view.annotation.points[1][0], view.annotation.points[1][1]);
    const to = await clientPoint(view.annotation.points[1][0] + 6, view.annotation.points[1][1]);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await saved();
    const moved = (await api(`/api/images/${first}`)).annotation;
    assert.ok(
      Math.abs(moved.points[1][0] - (view.annotation.points[1][0] + 6)) < 0.6,
      `moved to ${moved.points[1]}`,
    );
    assert.ok(Math.abs(moved.points[1][1] - view.annotation.points[1][1]) < 0.6);
    assert.equal(moved.revision, view.annotation.revision + 1);
    view = await api(`/api/images/${first}`);

    // Keys: next landmark, next image and back, delete then restore by clicking.
    await page.locator('#viewer').focus();
    const before = Number(await current());
    await page.keyboard.press('ArrowDown');
    assert.equal(await current(), String((before + 1) % targets.length));
    await page.keyboard.press('n');
    await page.waitForFunction((id) => document.querySelector('#image-title')?.textContent === id, second);
    await page.keyboard.press('p');
    await page.waitForFunction((id) => document.querySelector('#image-title')?.textContent === id, first);
    await page.locator('#landmark-list li[data-index="4"]').click();
    await page.keyboard.press('Delete');
    await saved();
    assert.equal((await api(`/api/images/${first}`)).annotation.points[4], null);
    const c4 = await clientPoint(targets[4]!.x, targets[4]!.y);
    await page.mouse.click(c4.x, c4.y);
    await saved();
    assert.equal((await api(`/api/images/${first}`)).annotation.status, 'done');

    // Brightness and contrast change the view only.
    await page.locator('#contrast').fill('1.6');
    await page.locator('#brightness').fill('1.2');

    // Export the annotations as wide CSV and download them.
    await page.selectOption('#export-kind', 'annotations');
    await page.selectOption('#export-format', 'wide-csv');
    await page.click('#export');
    const link = await page.waitForSelector('#export-link');
    const href = (await link.getAttribute('href'))!;
    const csv = await (await fetch(new URL(href, server.url))).text();
    assert.match(csv, /^image,thumb_tip_x,/);
    assert.ok(csv.includes(first));
    const files = readdirSync(join(f.project, 'exports'));
    assert.equal(files.length, 1);
    const back = await readAnnotations(join(f.project, 'exports', files[0]!));
    assert.deepEqual(back.images[0]!.points[1], { x: moved.points[1][0], y: moved.points[1][1] });

    if (process.env.FEWMARK_SCREENSHOT) {
      await page.locator('#landmark-list li[data-index="2"]').click();
      await page.mouse.move(c4.x + 30, c4.y + 40);
      await page.screenshot({ path: process.env.FEWMARK_SCREENSHOT });
    }
    assert.deepEqual(errors, []);
  });

  test('review: lowest confidence first, accept one prediction, correct another by dragging', async () => {
    // A detection run as `fewmark detect` writes it, for the two unlabeled images.
    const run = 'run-e2e';
    mkdirSync(predictionDir(f.project, run), { recursive: true });
    const predicted = (image: string, confidence: number[]) => ({
      image,
      points: f.truth.images
        .find((im) => im.image === image)!
        .points.map((p, k) => (isMissing(p) ? { x: 30 + k, y: 30 } : p)),
      confidence,
    });
    writeFileSync(
      join(predictionDir(f.project, run), DETECTIONS_FILE),
      JSON.stringify({
        landmarks: f.truth.names,
        templates: [first],
        detections: [
          predicted(second, [0.9, 0.8, 0.85, 0.9, 0.95]),
          predicted(third, [0.7, 0.3, 0.9, 0.9, 0.9]),
        ],
      }),
    );
    await server.context.project.usePredictions(run);

    await page.goto(`${server.url}#review/`);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const order = await page
      .locator('#image-list li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-image')));
    assert.deepEqual(order.slice(0, 2), [third, second], 'lowest confidence first');
    assert.equal(await page.textContent('#image-title'), third);
    assert.equal(await page.locator('#landmark-list li[data-state="predicted"]').count(), 5);
    assert.match(
      (await page.textContent('#landmark-list li[data-index="1"] .where')) ?? '',
      /confidence 0\.30/,
    );

    // Correct landmark 1 of the least confident image by dragging it: the image becomes labeled.
    const p1 = (await api(`/api/images/${third}`)).prediction.points[1];
    const from = await clientPoint(p1[0], p1[1]);
    const to = await clientPoint(p1[0] - 4, p1[1] + 3);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 5 });
    await page.mouse.up();
    await saved();
    const corrected = (await api(`/api/images/${third}`)).annotation;
    assert.equal(corrected.source, 'corrected');
    assert.equal(corrected.status, 'done');
    assert.ok(Math.hypot(corrected.points[1][0] - (p1[0] - 4), corrected.points[1][1] - (p1[1] + 3)) < 0.6);

    // Accept the other with the key.
    await page.locator(`#image-list li[data-image="${second}"]`).click();
    await page.waitForFunction((id) => document.querySelector('#image-title')?.textContent === id, second);
    await page.keyboard.press('a');
    await saved();
    const accepted = (await api(`/api/images/${second}`)).annotation;
    assert.equal(accepted.source, 'accepted');
    assert.equal(
      await page.textContent(`#image-list li[data-image="${second}"] .badge`),
      accepted.status === 'done' ? 'labeled' : 'partial',
    );
    assert.deepEqual(errors, []);
  });
});
