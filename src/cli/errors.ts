// Errors a command raises to end with a message and an exit code.
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** Bad input data: the message names the file (and line) and the problem. */
export class InputError extends Error {
  override name = 'InputError';
  readonly exitCode = 1;
}
