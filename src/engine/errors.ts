// The engine's error types and the one message shape for bad arguments.

/** An error raised by libtorch or OpenCV, carried with the caller's JS stack. */
export class NativeError extends Error {
  override name = 'NativeError';
}

/** "Expected X for name but received Y" — the shape every argument check uses. */
export function invalidArgument(fn: string, name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`${fn}: expected ${expected} for ${name} but received ${describe(actual)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value))
    return `[${value
      .slice(0, 6)
      .map((v) => (typeof v === 'number' ? String(v) : describe(v)))
      .join(', ')}${value.length > 6 ? ', ...' : ''}]`;
  if (typeof value === 'object' && value && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: readonly number[]; dtype: string };
    return `a ${t.dtype} tensor of shape [${t.shape.join(', ')}]`;
  }
  if (typeof value === 'string') return `'${value}'`;
  return `${String(value)} of type ${typeof value}`;
}
