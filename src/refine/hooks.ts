// How the refinement rounds and the fine stage report and are stopped: a
// progress bar and Ctrl-C in the CLI, callbacks and an AbortSignal in the
// library.
import type { RefineStepReport } from './train.js';

/** Steps and/or minutes, as the training loop takes them. */
export interface TrainingBudget {
  steps: number | null;
  minutes: number | null;
}

/** How one round's training reports and is stopped (a progress bar and Ctrl-C, or callbacks and a signal). */
export interface RoundTraining {
  shouldStop(): boolean;
  step(s: RefineStepReport): void;
  onCheckpoint(path: string, step: number): void;
  end(): void;
}

export interface RoundHooks {
  /** One line about what happens next (a round starts, pseudo-labels are made). */
  log?(line: string): void;
  /** Counted work: 'loading images', 'detecting', ... */
  progress?(phase: string, done: number, total: number): void;
  /** Called as each training starts (a round's: 'refining'; the fine stage's: 'fine stage'). */
  training?(budget: TrainingBudget, what: string): RoundTraining;
  /** Stops detection between images; training stops through `training().shouldStop`. */
  signal?: AbortSignal;
}
