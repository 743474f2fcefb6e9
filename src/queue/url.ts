// Where the work queue lives: `redis://HOST[:PORT]`. Parsed without loading
// any Redis client, so the command line can check --queue before any work.

export interface QueueAddress {
  url: string;
  host: string;
  port: number;
}

/** A bad --queue: exit 2, like other bad flags. */
export class QueueUrlError extends RangeError {
  override name = 'QueueUrlError';
  readonly exitCode = 2;
  constructor(
    readonly url: string,
    /** What is wrong, without the URL. */
    readonly problem: string,
  ) {
    super(`--queue ${url}: ${problem}`);
  }
}

export function parseQueueUrl(url: string): QueueAddress {
  const bad = (why: string) => new QueueUrlError(url, `${why}; expected redis://HOST or redis://HOST:PORT`);
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
