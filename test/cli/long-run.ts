// Starting a long `fewmark` run in a test, waiting until it has reported a
// step, and stopping it with a signal: shared by the interruption tests.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
export const env = { ...process.env, FEWMARK_THREADS: '1' };

export function fewmark(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Starts `fewmark ARGS`; `reached` resolves once it has printed "step N" with N >= `steps`. */
export function startUntilStep(args: string[], steps: number) {
  const child = spawn(process.execPath, [main, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  const reached = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const seen = [...err.matchAll(/step (\d+) /g)].map((m) => Number(m[1]));
      if (seen.some((s) => s >= steps)) resolve();
    });
    child.on('exit', () => reject(new Error(`the run ended early:\n${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Sends `signal` and waits for the exit code (SIGKILL after 30 s). */
  const stop = async (signal: NodeJS.Signals) => {
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { child, reached, exited, stop, output: () => ({ err, out }) };
}

/** The last "checkpoint at step N" a run printed. */
export const lastCheckpoint = (text: string) =>
  Math.max(...[...text.matchAll(/checkpoint at step (\d+)/g)].map((m) => Number(m[1])));
