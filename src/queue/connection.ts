// Where the work queue lives: a `redis://HOST[:PORT]` URL, checked before
// any work. A bad URL is a usage error; a server that does not answer is
// named within a few seconds rather than retried forever (BullMQ's own
// connections retry without end, which is right once running, not at start).
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';

/** Every job of every kind goes through this one BullMQ queue. */
export const QUEUE_NAME = 'fewmark';

export interface QueueAddress {
  url: string;
  host: string;
  port: number;
}

/** A bad --queue: exit 2, like other bad flags. */
export class QueueUrlError extends RangeError {
  override name = 'QueueUrlError';
  readonly exitCode = 2;
}

/** No Redis at a good URL: exit 1, like other unusable inputs. */
export class QueueUnreachableError extends Error {
  override name = 'QueueUnreachableError';
  readonly exitCode = 1;
}

export function parseQueueUrl(url: string): QueueAddress {
  const bad = (why: string) =>
    new QueueUrlError(`--queue ${url}: ${why}; expected redis://HOST or redis://HOST:PORT`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:') throw bad(`the scheme is ${u.protocol.replace(/:$/, '') || 'missing'}`);
  if (!u.hostname) throw bad('no host');
  if (u.username || u.password || (u.pathname && u.pathname !== '/') || u.search || u.hash)
    throw bad('only a host and a port are understood');
  const port = u.port ? Number(u.port) : 6379;
  // URL keeps IPv6 hosts in brackets; the socket wants them bare.
  return { url, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** BullMQ connection options for an address (its own connections retry while running). */
export const connectionOf = (a: QueueAddress): ConnectionOptions => ({ host: a.host, port: a.port });

/**
 * Parses the URL and checks that a Redis server answers there, within
 * `timeoutMs`; the error names the URL and the reason (ECONNREFUSED, ...).
 */
export async function checkQueue(url: string, timeoutMs = 3000): Promise<QueueAddress> {
  const address = parseQueueUrl(url);
  const client = new Redis({
    host: address.host,
    port: address.port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let reason: string | undefined;
  client.on('error', (err: NodeJS.ErrnoException) => {
    reason ??= err.code ?? err.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new QueueUnreachableError(
      `--queue ${url}: no Redis server answers there (${reason ?? (err as Error).message}); start redis-server on that host, reachable from this machine and every worker`,
    );
  } finally {
    client.disconnect();
  }
  return address;
}
