// The one error type for bad input files: names the file, the line when
// there is one, and the problem.
export class DataError extends Error {
  override name = 'DataError';
  readonly exitCode = 1;
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${problem}`);
  }
}
