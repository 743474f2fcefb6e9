// What both training commands show and handle while a loop runs: a progress
// bar counting steps (or seconds, with a time budget alone), Ctrl-C asking
// for a stop with a checkpoint (twice: quit at once), checkpoint lines.
import { formatDuration, startProgress } from './progress.js';

export interface TrainingRun {
  /** Polled by the loop after every step. */
  shouldStop: () => boolean;
  /** One step done: `detail` is the loop's own losses. */
  step(
    s: { step: number; elapsed: number; stepsPerSecond: number; etaSeconds: number },
    detail: string,
  ): void;
  onCheckpoint: (path: string, step: number) => void;
  /** Stops the bar and lets Ctrl-C end the process again. */
  end(): void;
}

export function startTrainingRun(
  label: string,
  budget: { steps: number | null; minutes: number | null },
): TrainingRun {
  let stopRequested = false;
  const onSignal = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write(
      '\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n',
    );
  };
  process.on('SIGINT', onSignal);
  const byTime = budget.steps === null;
  const bar = startProgress(
    byTime ? `${label} (s)` : label,
    byTime ? budget.minutes! * 60 : budget.steps!,
    15,
  );
  return {
    shouldStop: () => stopRequested,
    step: (s, detail) =>
      bar.update(
        byTime ? Math.round(s.elapsed) : s.step,
        `step ${s.step} ${detail} ${s.stepsPerSecond.toFixed(2)} steps/s ETA ${formatDuration(s.etaSeconds)}`,
      ),
    onCheckpoint: (path, step) => process.stderr.write(`\ncheckpoint at step ${step}: ${path}\n`),
    end: () => {
      bar.stop();
      process.off('SIGINT', onSignal);
    },
  };
}
