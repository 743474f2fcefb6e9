// `fewmark serve`: the annotation and review page for a project, on
// loopback unless told otherwise, until Ctrl-C (or SIGTERM).
import { type RunningServer, startServer } from '../../web/server.js';
import { UsageError } from '../errors.js';

export interface ServeOptions {
  project: string;
  port?: number;
  host?: string;
  log?: boolean;
  /** Called once listening (the CLI prints the address). */
  onListening?: (server: RunningServer) => void;
}

/** Serves until a signal; resolves once the server has closed. */
export async function serve(o: ServeOptions): Promise<void> {
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535))
    throw new UsageError(`Expected a port from 0 to 65535 for --port but received ${o.port}`);
  const server = await startServer(o.project, { port: o.port ?? 8765, host: o.host, log: o.log });
  o.onListening?.(server);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // Every acknowledged save is already on disk; closing only ends requests and jobs.
      void server.close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
