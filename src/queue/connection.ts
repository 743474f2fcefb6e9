// Connecting to the work queue: a server that does not answer is named
// within a few seconds rather than retried forever (BullMQ's own
// connections retry without end, which is right once running, not at start).
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { parseQueueUrl, type QueueAddress } from './url.js';

export { parseQueueUrl, type QueueAddress, QueueUrlError } from './url.js';

/** Every job of every kind goes through this one BullMQ queue. */
export const QUEUE_NAME = 'fewmark';

/** No Redis at a good URL: exit 1, like other unusable inputs. */
export class QueueUnreachableError extends Error {
  override name = 'QueueUnreachableError';
  readonly exitCode = 1;
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
    // Its default (2 s) kept a failed check's process alive that long after the error.
    disconnectTimeout: 100,
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
