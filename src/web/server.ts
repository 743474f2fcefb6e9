// The annotation server: the page (static files) and a JSON API over one
// project. Fastify rather than hand-written routing on node:http because
// the safety rules of the issue are its built-in, well-tested features: a
// request body limit (413), JSON schema validation of bodies and
// parameters (Ajv), content-type checks (415), and @fastify/static's
// path-traversal-safe file serving; routes stay small and declarative.
//
// It listens on loopback by default. Requests must then name a local host
// (so a web page elsewhere cannot reach it through DNS rebinding), and
// changes from another origin are always refused (no cross-site requests
// on the user's behalf).
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { Project } from '../project/project.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { JobRunner, type JobRunnerOptions } from './jobs.js';
import { annotationRoutes } from './routes/annotations.js';
import { exportRoutes } from './routes/exports.js';
import { imageRoutes } from './routes/images.js';
import { jobRoutes } from './routes/jobs.js';
import { clientDir, pageDir } from './static.js';

/** Largest request body: a full set of landmark coordinates fits many times over. */
const BODY_LIMIT = 64 * 1024;

/** Longest URL parameter (decoded) the router accepts; above the schemas' limits. */
const MAX_PARAM_LENGTH = 1024;

export interface ServerContext {
  project: Project;
  jobs: JobRunner;
}

export interface ServerOptions extends JobRunnerOptions {
  /** The address it listens on (default 127.0.0.1). */
  host?: string;
  /** Log requests to stderr. */
  log?: boolean;
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** The host name of a Host header (without the port). */
const hostName = (header: string) =>
  header.startsWith('[') ? header.replace(/\]:\d+$/, ']') : header.replace(/:\d+$/, '');

export async function createServer(
  project: Project,
  options: ServerOptions = {},
): Promise<{ app: FastifyInstance; context: ServerContext }> {
  const context: ServerContext = { project, jobs: new JobRunner(project, options) };
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // Image ids are file names, up to 255 bytes: more than find-my-way's
    // default of 100 characters (which answers 414). Longer than the
    // schemas allow gets the schema's 400 with a message.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    logger: options.log ? { level: 'info' } : false,
    // Validation is strict: no coercion of "12" to 12, no silent dropping of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  app.setErrorHandler(errorHandler(project.dir));
  app.setNotFoundHandler(notFoundHandler);

  // On loopback, only local names: a page elsewhere whose name is made to
  // resolve to 127.0.0.1 cannot talk to it. Listening on a network address
  // is the user's choice to be reached by other names.
  const local = !options.host || LOCAL_HOSTS.includes(options.host);
  app.addHook('onRequest', async (req, reply) => {
    if (local && !LOCAL_HOSTS.includes(hostName(req.headers.host ?? '')))
      return reply.status(403).send({ error: `host '${req.headers.host ?? ''}' is not served here` });
    const origin = req.headers.origin;
    if (req.method !== 'GET' && req.method !== 'HEAD' && origin) {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {}
      if (originHost !== req.headers.host)
        return reply.status(403).send({ error: `changes from origin ${origin} are refused` });
    }
  });

  await app.register(fastifyStatic, { root: pageDir(), prefix: '/', index: 'index.html', wildcard: false });
  await app.register(fastifyStatic, {
    root: clientDir(),
    prefix: '/js/',
    decorateReply: false,
    wildcard: false,
  });
  imageRoutes(app, context);
  annotationRoutes(app, context);
  jobRoutes(app, context);
  exportRoutes(app, context);
  app.addHook('onClose', async () => context.jobs.close());
  return { app, context };
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  context: ServerContext;
  close(): Promise<void>;
}

/** Opens the project and listens; port 0 picks a free port. */
export async function startServer(
  projectDir: string,
  o: ServerOptions & { port?: number } = {},
): Promise<RunningServer> {
  const project = await Project.open(projectDir);
  const { app, context } = await createServer(project, o);
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${shown}:${port}/`, app, context, close: () => app.close() };
}
