// Scoped lifetime for native tensors, like tfjs `tidy`: every tensor made
// inside `tidy(fn)` is disposed when fn returns, except the ones it returns
// (which move to the enclosing scope) and those marked with `keep`.

export interface Scoped {
  dispose(): void;
  readonly isDisposed: boolean;
  kept: boolean;
  /** Called once the object's life no longer ends with a scope. */
  unscoped(): void;
}

const scopes: Set<Scoped>[] = [];

/** Called by every new tensor; returns whether a scope now owns it. */
export function track(t: Scoped): boolean {
  const top = scopes[scopes.length - 1];
  top?.add(t);
  return top !== undefined;
}

/** Excludes a tensor from every enclosing scope: it lives until dispose(). */
export function keep<T extends Scoped>(t: T): T {
  if (!t.kept) {
    t.kept = true;
    for (const s of scopes) s.delete(t);
    t.unscoped();
  }
  return t;
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Scoped>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: fn must be synchronous (it returned a Promise)');
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  const returned = new Set<Scoped>();
  collect(result, returned, 0);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) {
      if (parent) parent.add(t);
      else t.unscoped();
    } else if (!t.kept) t.dispose();
  }
  return result;
}

function isScoped(v: unknown): v is Scoped {
  return typeof v === 'object' && v !== null && 'dispose' in v && 'kept' in v && 'unscoped' in v;
}

// Finds tensors in what fn returned: a tensor, or arrays/plain objects/maps of them.
function collect(value: unknown, into: Set<Scoped>, depth: number): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isScoped(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, into, depth + 1);
}
