// Progress for long work: a cli-progress bar on a terminal, a plain line
// every few seconds otherwise (logs, CI), always on stderr.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, detail?: string): void;
  stop(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(r).padStart(2, '0')}`;
}

export function startProgress(label: string, total: number, everySeconds = 10): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} {detail}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: '' });
    return {
      update: (done, detail = '') => {
        bar.setTotal(Math.max(total, done));
        bar.update(done, { detail });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(done, detail = '') {
      const now = Date.now();
      if (now - last < everySeconds * 1000 && done < total) return;
      last = now;
      process.stderr.write(`${label} ${done}/${total} ${detail}\n`);
    },
    stop() {},
  };
}
