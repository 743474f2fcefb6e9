// Errors a command raises to end with a message and an exit code.
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}
