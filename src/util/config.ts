// Shared by the training configurations (extractor and refinement): typed
// defaults overridden from JSON, and the learning-rate schedule.

/**
 * Merges `over` into `base` (the defaults), rejecting unknown keys, arrays
 * of another length or element type, and mistyped values; `path` names the
 * source in errors. Null defaults, and steps/minutes, take a number or null.
 */
export function mergeConfig(base: unknown, over: unknown, path: string): unknown {
  if (over === undefined) return base;
  if (base !== null && typeof base === 'object' && !Array.isArray(base)) {
    if (over === null || typeof over !== 'object' || Array.isArray(over))
      throw new Error(`${path}: expected an object, got ${JSON.stringify(over)}`);
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
      if (!(k in out)) throw new Error(`${path}: unknown key '${k}' (known: ${Object.keys(out).join(', ')})`);
      out[k] = mergeConfig(out[k], v, `${path}.${k}`);
    }
    return out;
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(over) || over.length !== base.length || over.some((v) => typeof v !== typeof base[0]))
      throw new Error(`${path}: expected ${base.length} ${typeof base[0]}s, got ${JSON.stringify(over)}`);
    return over;
  }
  if (base === null || ((path.endsWith('.steps') || path.endsWith('.minutes')) && over === null)) {
    if (over !== null && typeof over !== 'number')
      throw new Error(`${path}: expected a number or null, got ${JSON.stringify(over)}`);
    return over;
  }
  if (typeof over !== typeof base)
    throw new Error(`${path}: expected a ${typeof base}, got ${JSON.stringify(over)}`);
  return over;
}

/**
 * Config overrides for a budget given as steps and/or minutes: steps give a
 * step count and no time limit unless minutes are given too; minutes alone
 * set the time limit, and with `minutesAloneClearSteps` also drop a step
 * count (the refiner, whose default is a step count).
 */
export function budgetOverrides(
  steps: number | undefined,
  minutes: number | undefined,
  minutesAloneClearSteps = false,
): Record<string, number | null> {
  if (steps !== undefined) return { steps, minutes: minutes ?? null };
  if (minutes === undefined) return {};
  return minutesAloneClearSteps ? { minutes, steps: null } : { minutes };
}

export interface Schedule {
  lr: number;
  warmupSteps: number;
  /** Final learning rate as a fraction of lr. */
  finalLrFraction: number;
}

/**
 * Linear warm-up, then cosine decay over `progress` in [0, 1]: the fraction
 * of steps done, or of the time budget spent when training by time (so the
 * decay ends when the budget does, whatever the machine's speed).
 */
export function learningRate(c: Schedule, step: number, progress: number): number {
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  const t = Math.min(1, Math.max(0, progress));
  const floor = c.lr * c.finalLrFraction;
  return floor + (c.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}
