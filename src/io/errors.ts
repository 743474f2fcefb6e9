// The one error type for bad input files: names the file, the line when
// there is one, and the problem; and reading an input file with that error.
import { readFile } from 'node:fs/promises';
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

/** The short reason a file operation failed: ENOENT, EACCES, ... */
export const ioReason = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Reads an input file; failure is a DataError "cannot read <what>: <reason>". */
export async function readInput(file: string, what = ''): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new DataError(file, `cannot read${what ? ` ${what}` : ''}: ${ioReason(err)}`);
  }
}
