/**
 * Redis connections for the queue (BullMQ over ioredis): URL checks, a reachability probe with a
 * clear error, and the URL as it may be logged (no password).
 */
import { Redis } from 'ioredis';
import { PaperlabError } from '../core/errors.js';

/** Queue names: heavy jobs (seeds, ES slices) and the light per-generation parent jobs that gather them. */
export const DEFAULT_QUEUE = 'paperlab';
export const gatherQueue = (queue: string): string => `${queue}-gather`;

export function checkRedisUrl(url: string, argument = '--redis'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PaperlabError(argument, `'${url}' is not a URL`, 'pass e.g. --redis redis://127.0.0.1:6379');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new PaperlabError(argument, `'${url}' is not a redis:// URL`, 'pass e.g. --redis redis://127.0.0.1:6379');
  return u;
}

/** The URL without its password, for logs and sweep.json. */
export function redactUrl(url: string): string {
  const u = checkRedisUrl(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/** BullMQ connection options for a URL. Blocking clients (workers, events) need maxRetriesPerRequest null. */
export function connectionFor(url: string): { url: string; maxRetriesPerRequest: null } {
  checkRedisUrl(url);
  return { url, maxRetriesPerRequest: null };
}

/**
 * Connects once, without retries, and PINGs: a clear PaperlabError when Redis cannot be reached.
 * Returns Redis's maxmemory-policy (BullMQ needs 'noeviction': evicted keys would lose jobs).
 */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<{ maxmemoryPolicy: string | null }> {
  checkRedisUrl(url);
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: NodeJS.ErrnoException | undefined;
  r.on('error', (e: NodeJS.ErrnoException) => (cause ??= e));
  try {
    await r.connect();
    await r.ping();
    let policy: string | null = null;
    try {
      const v = (await r.config('GET', 'maxmemory-policy')) as string[];
      policy = v[1] ?? null;
    } catch {
      policy = null; // CONFIG may be disabled on managed Redis
    }
    return { maxmemoryPolicy: policy };
  } catch (e) {
    const err = cause ?? (e as NodeJS.ErrnoException);
    throw new PaperlabError(
      '--redis',
      `cannot reach Redis at ${redactUrl(url)} (${err.code ?? err.message})`,
      'start one (Debian: apt-get install redis-server; redis-server --port 6379) or pass the right --redis redis://HOST:PORT',
    );
  } finally {
    r.disconnect();
  }
}
