// One error shape for the API, {error: message}, with a status that says
// whose fault it is: 4xx with a message the page can show for a bad
// request, 5xx (logged) for the server's own failures. No message names a
// place in the server's file system: file errors (ENOENT, EISDIR...) and bad
// files name their path, and the page's user needs the file's name, not
// where the server keeps it; the full error goes to the server's stderr.
import { sep } from 'node:path';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DataError } from '../io/errors.js';
import { ProjectError } from '../project/errors.js';

const STATUS = { 'not-found': 404, invalid: 400, conflict: 409 } as const;

export interface ErrorBody {
  error: string;
}

/** The status and message of any error thrown by a route. */
function describeError(err: unknown): { status: number; message: string } {
  if (err instanceof ProjectError) return { status: STATUS[err.kind], message: err.message };
  // A project file that does not parse: the request cannot be served as asked.
  if (err instanceof DataError) return { status: 422, message: err.message };
  const e = err as FastifyError;
  if (e.validation) {
    // Ajv's message after the place it applies to: "body/x must be number".
    const v = e.validation[0];
    const where = `${e.validationContext ?? 'request'}${v?.instancePath ?? ''}`;
    return { status: 400, message: `${where} ${v?.message ?? e.message}` };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return { status: e.statusCode, message: e.message };
  return { status: 500, message: `internal error: ${e.message ?? String(err)}` };
}

/** An absolute path (POSIX or Windows) after the start, a space, a quote or a bracket. */
const ABSOLUTE_PATH = /(^|[\s'"`(=[<,])(\/[^\s'"`()[\]<>,;:]+|[A-Za-z]:\\[^\s'"`()[\]<>,;:]+)/g;

/**
 * `text` without file system paths: one inside the project becomes
 * relative to it ("annotations/x.json"), any other absolute path its last
 * component ("/data/xrays/a.png" -> "a.png").
 */
export function hidePaths(text: string, projectDir?: string): string {
  const relative = projectDir ? text.split(`${projectDir}${sep}`).join('') : text;
  return relative.replace(
    ABSOLUTE_PATH,
    (_, lead: string, path: string) => `${lead}${path.split(/[\\/]/).filter(Boolean).at(-1) ?? ''}`,
  );
}

/** The error handler of a server over the project in `projectDir`. */
export function errorHandler(projectDir: string) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const { status, message } = describeError(err);
    if (status >= 500) {
      // Without a logger (the default) request.log drops everything: the server's own
      // failure would be seen nowhere.
      if (request.log.level) request.log.error({ err }, message);
      else console.error(`fewmark serve: ${request.method} ${request.url}:`, err);
    }
    void reply.status(status).send({ error: hidePaths(message, projectDir) } satisfies ErrorBody);
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error: `not found: ${request.method} ${request.url}` } satisfies ErrorBody);
}
