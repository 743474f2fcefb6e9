// A server killed with SIGKILL during a burst of saves loses no save it
// acknowledged: every landmark comes back after a restart with the value
// last acknowledged for it (or the one in flight when it died, which may
// have reached the disk without its reply getting out).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeFixture } from '../project/fixture.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** Starts `fewmark serve` on a free port; resolves with its URL. */
function serve(project: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [main, 'serve', '--project', project, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/\S+\/)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

describe('crash safety', () => {
  test('SIGKILL during a burst of saves loses no acknowledged annotation', async () => {
    const f = await makeFixture({ n: 4, size: 64, landmarks: 5 });
    const images = f.truth.images.map((im) => im.image);
    const slots = images.flatMap((image) => [0, 1, 2, 3, 4].map((k) => ({ image, k })));
    let server = await serve(f.project);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback by default');

    // Each slot (image, landmark) is saved again and again, one request at a
    // time; all slots at once. Values only grow, so "which one" is clear.
    const acked = new Map<string, number>();
    const inFlight = new Map<string, number>();
    let total = 0;
    let killed = false;
    const key = (s: { image: string; k: number }) => `${s.image}/${s.k}`;
    const burst = slots.map(async (s) => {
      for (let v = 1; !killed; v++) {
        inFlight.set(key(s), v);
        try {
          const r = await fetch(`${server.url}api/images/${s.image}/landmarks/${s.k}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ x: v % 60, y: Math.floor(v / 60) }),
          });
          if (r.status !== 200) throw new Error(`save failed: ${r.status} ${await r.text()}`);
          // A reply that arrives after the kill was still sent by the server: it counts.
          acked.set(key(s), v);
          total++;
        } catch (err) {
          if (killed) return;
          throw err;
        }
        if (total >= 150 && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      }
    });
    await Promise.all(burst);
    const dead = server.child;
    if (dead.exitCode === null && dead.signalCode === null) await new Promise((r) => dead.once('exit', r));
    assert.equal(dead.signalCode, 'SIGKILL');
    assert.ok(total >= 150, `${total} acknowledged saves`);

    server = await serve(f.project);
    try {
      let checked = 0;
      for (const image of images) {
        const view = await (await fetch(`${server.url}api/images/${image}`)).json();
        for (let k = 0; k < 5; k++) {
          const last = acked.get(`${image}/${k}`);
          if (last === undefined) continue;
          const p = view.annotation?.points[k];
          assert.ok(p, `${image} landmark ${k}: acknowledged ${last}, found nothing`);
          const found = p[0] + 60 * p[1];
          const allowed = [last, inFlight.get(`${image}/${k}`)];
          assert.ok(allowed.includes(found), `${image} landmark ${k}: acknowledged ${last}, found ${found}`);
          checked++;
        }
      }
      assert.equal(checked, acked.size);
      console.log(
        `${total} saves acknowledged before SIGKILL; all ${checked} landmarks as acknowledged after restart`,
      );
    } finally {
      server.child.kill('SIGTERM');
    }
  });
});
