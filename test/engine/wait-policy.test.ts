// OpenMP's wait policy: fewmark's spin count unless the user set one, and it
// reaches libgomp (read when the addon loads, so checked in a fresh process).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { DEFAULT_SPIN_COUNT, setWaitPolicy } from '../../src/engine/wait-policy.js';

describe('OpenMP wait policy', () => {
  test('sets the spin count when the user chose nothing', () => {
    const env: NodeJS.ProcessEnv = {};
    setWaitPolicy(env);
    assert.equal(env.GOMP_SPINCOUNT, DEFAULT_SPIN_COUNT);
  });

  test("keeps the user's policy or spin count", () => {
    const passive: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'PASSIVE' };
    setWaitPolicy(passive);
    assert.equal(passive.GOMP_SPINCOUNT, undefined);
    const spin: NodeJS.ProcessEnv = { GOMP_SPINCOUNT: '50000' };
    setWaitPolicy(spin);
    assert.equal(spin.GOMP_SPINCOUNT, '50000');
  });

  test('is in the environment libgomp reads when the engine loads', () => {
    const env = { ...process.env };
    delete env.GOMP_SPINCOUNT;
    delete env.OMP_WAIT_POLICY;
    const engine = new URL('../../src/engine/index.js', import.meta.url).href;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(engine)}); console.log(process.env.GOMP_SPINCOUNT)`,
      ],
      { env, encoding: 'utf8' },
    );
    assert.equal(out.trim(), DEFAULT_SPIN_COUNT);
  });
});
