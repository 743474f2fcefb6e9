// Errors a command raises to end with a message and an exit code.
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/**
 * A config resolved from flags and an optional --config file: its errors
 * are bad flags (exit 2) when only flags were given, else the file's (exit 1).
 */
export function configFromFlags<T>(resolve: () => T, configFile: string | undefined): T {
  try {
    return resolve();
  } catch (err) {
    if (configFile === undefined && err instanceof Error && !('exitCode' in err))
      throw new UsageError(err.message);
    throw err;
  }
}
