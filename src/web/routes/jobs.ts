// Background jobs (detection, refinement, choosing the next images): start, watch, cancel.
import type { FastifyInstance } from 'fastify';
import type { JobKind } from '../jobs.js';
import { jobBody, jobParams } from '../schemas.js';
import type { ServerContext } from '../server.js';

export function jobRoutes(app: FastifyInstance, { jobs }: ServerContext): void {
  app.get('/api/jobs', async () => ({ jobs: jobs.list(), available: jobs.availability() }));

  app.post<{ Body: { kind: JobKind; budget?: number } }>(
    '/api/jobs',
    { schema: { body: jobBody } },
    async (req, reply) => {
      const job = await jobs.start(req.body.kind, { budget: req.body.budget });
      return reply.status(202).send({ job });
    },
  );

  app.get<{ Params: { job: string } }>('/api/jobs/:job', { schema: { params: jobParams } }, async (req) => ({
    job: jobs.get(req.params.job),
  }));

  app.delete<{ Params: { job: string } }>(
    '/api/jobs/:job',
    { schema: { params: jobParams } },
    // Answers once the job's processes have ended.
    async (req) => ({ job: await jobs.cancel(req.params.job) }),
  );
}
