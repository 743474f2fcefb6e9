// The one training loop of the extractor and the refiner: a budget of steps
// and/or minutes, warm-up then cosine decay of the learning rate (by the
// fraction of steps done, or of the time spent), progress after every step
// with a smoothed speed and an ETA, a checkpoint on a timer, on the end and
// on a stop request (Ctrl-C, an AbortSignal), each polled after a step.
// What a step does and what a checkpoint holds belong to the caller.
import { learningRate, type Schedule } from './config.js';
import { yieldToEventLoop } from './event-loop.js';

export interface LoopConfig extends Schedule {
  /** Stop after this many steps (null: by time only). */
  steps: number | null;
  /** Stop after this many minutes of training (null: by steps only). */
  minutes: number | null;
  /** Save a checkpoint every this many minutes of training. */
  checkpointMinutes: number;
}

/** Where a run stands; a resumed run starts from its checkpoint's. */
export interface LoopState {
  step: number;
  /** 0 when the budget is time alone. */
  totalSteps: number;
  /** Seconds of training so far. */
  elapsed: number;
}

export interface LoopStep {
  step: number;
  totalSteps: number;
  lr: number;
  stepsPerSecond: number;
  elapsed: number;
  etaSeconds: number;
}

export interface LoopRun<Losses extends { loss: number }> {
  config: LoopConfig;
  start: LoopState;
  /** One optimisation step at this learning rate; its losses (`loss`: the total). */
  step(lr: number): Losses;
  /** Writes a checkpoint of the state after `state.step` steps. */
  save(state: LoopState): Promise<void>;
  onStep?: (r: LoopStep & Losses) => void;
  shouldStop?: () => boolean;
}

export interface LoopResult {
  steps: number;
  totalSteps: number;
  elapsed: number;
  stoppedBy: 'steps' | 'time' | 'signal';
  finalLoss: number;
}

/** Steps that the speed (and so the ETA) is averaged over. */
const SPEED_WINDOW = 20;

export async function runTrainingLoop<Losses extends { loss: number }>(
  run: LoopRun<Losses>,
): Promise<LoopResult> {
  const c = run.config;
  let { step, elapsed } = run.start;
  const { totalSteps } = run.start;
  const budget = c.minutes === null ? Number.POSITIVE_INFINITY : c.minutes * 60;
  let lastSave = elapsed;
  let finalLoss = Number.NaN;
  let stoppedBy: LoopResult['stoppedBy'] = 'steps';
  const recent: number[] = [];
  while (true) {
    if (totalSteps > 0 && step >= totalSteps) break;
    if (elapsed >= budget) {
      stoppedBy = 'time';
      break;
    }
    const t0 = performance.now();
    const progress =
      totalSteps > 0 ? (step - c.warmupSteps) / Math.max(1, totalSteps - c.warmupSteps) : elapsed / budget;
    const lr = learningRate(c, step, progress);
    const losses = run.step(lr);
    step++;
    const seconds = (performance.now() - t0) / 1000;
    elapsed += seconds;
    recent.push(seconds);
    if (recent.length > SPEED_WINDOW) recent.shift();
    const perStep = recent.reduce((a, b) => a + b, 0) / recent.length;
    finalLoss = losses.loss;
    const remaining = totalSteps > 0 ? (totalSteps - step) * perStep : budget - elapsed;
    run.onStep?.({
      ...losses,
      step,
      totalSteps,
      lr,
      stepsPerSecond: 1 / perStep,
      elapsed,
      etaSeconds: Math.max(0, Math.min(remaining, budget - elapsed)),
    });
    await yieldToEventLoop(); // lets a Ctrl-C or SIGTERM reach shouldStop
    if (run.shouldStop?.()) {
      stoppedBy = 'signal';
      break;
    }
    if (elapsed - lastSave >= c.checkpointMinutes * 60) {
      await run.save({ step, totalSteps, elapsed });
      lastSave = elapsed;
    }
  }
  await run.save({ step, totalSteps, elapsed });
  return { steps: step, totalSteps, elapsed, stoppedBy, finalLoss };
}
