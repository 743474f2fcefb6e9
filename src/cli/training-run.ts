// What both training commands show and handle while a loop runs: a progress
// bar counting steps (or seconds, with a time budget alone), Ctrl-C or
// SIGTERM asking for a stop after the current step with a checkpoint (a
// second signal quits at once: every write is atomic, so the last
// checkpoint stays whole), checkpoint lines.
import { formatDuration, startProgress } from './progress.js';

export interface TrainingRun {
  /** Polled by the loop after every step. */
  shouldStop: () => boolean;
  /** The signal that stopped the run, if one did. */
  stopSignal: () => NodeJS.Signals | undefined;
  /** One step done: `detail` is the loop's own losses. */
  step(
    s: { step: number; elapsed: number; stepsPerSecond: number; etaSeconds: number },
    detail: string,
  ): void;
  onCheckpoint: (path: string, step: number) => void;
  /** Stops the bar and lets Ctrl-C end the process again. */
  end(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
export const exitCodeOf = (signal: NodeJS.Signals) => (signal === 'SIGTERM' ? 143 : 130);

export function startTrainingRun(
  label: string,
  budget: { steps: number | null; minutes: number | null },
): TrainingRun {
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(exitCodeOf(signal));
    stopSignal = signal;
    process.stderr.write(
      `\n${signal}: stopping after this step and saving a checkpoint (again to quit at once; --resume continues)\n`,
    );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const byTime = budget.steps === null;
  const bar = startProgress(
    byTime ? `${label} (s)` : label,
    byTime ? budget.minutes! * 60 : budget.steps!,
    15,
  );
  return {
    shouldStop: () => stopSignal !== undefined,
    stopSignal: () => stopSignal,
    step: (s, detail) =>
      bar.update(
        byTime ? Math.round(s.elapsed) : s.step,
        `step ${s.step} ${detail} ${s.stepsPerSecond.toFixed(2)} steps/s ETA ${formatDuration(s.etaSeconds)}`,
      ),
    onCheckpoint: (path, step) => process.stderr.write(`\ncheckpoint at step ${step}: ${path}\n`),
    end: () => {
      bar.stop();
      for (const signal of SIGNALS) process.off(signal, onSignal);
    },
  };
}
