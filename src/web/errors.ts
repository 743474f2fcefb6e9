// One error shape for the API, {error: message}, with a status that says
// whose fault it is: 4xx with a message the page can show for a bad
// request, 5xx (logged) for the server's own failures.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DataError } from '../io/errors.js';
import { ProjectError } from '../project/errors.js';

const STATUS = { 'not-found': 404, invalid: 400, conflict: 409 } as const;

export interface ErrorBody {
  error: string;
}

/** The status and message of any error thrown by a route. */
export function describeError(err: unknown): { status: number; message: string } {
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

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, message } = describeError(err);
  if (status >= 500) request.log.error({ err }, message);
  void reply.status(status).send({ error: message } satisfies ErrorBody);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error: `not found: ${request.method} ${request.url}` } satisfies ErrorBody);
}
