import { DomainError } from './errors.js';

// Whether an error is a dependency outage (PostgreSQL, Redis, the event store, a provider) rather
// than a bug: the HTTP edge answers 503 for one, and infrastructure that follows a dependency
// (the projection runner) waits and resumes instead of stopping for good.

/** Socket-level failures: the dependency (PostgreSQL, Redis, a provider) cannot be reached. */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
/**
 * PostgreSQL SQLSTATEs that say the server cannot serve now: connection exceptions (class 08),
 * insufficient resources (class 53: too many connections, out of memory or disk), operator
 * intervention (57P01-57P05: shut down, restarting, idle session ended).
 */
const OUTAGE_SQLSTATE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-5])$/;
/** What pg, ioredis and the job queue say when their connection or pool is gone (they set no code). */
const OUTAGE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Cannot use a pool after calling end on the pool',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection is closed.',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
];

/**
 * True when the error (or one it wraps: `cause`, AggregateError's `errors`) is a dependency
 * being unreachable, overloaded or shutting down, not a bug: the client may retry.
 */
export function isDependencyOutage(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 16) {
    const current = pending.pop();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const candidate = current as {
      code?: unknown;
      message?: unknown;
      name?: unknown;
      type?: unknown;
      kind?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    const code = typeof candidate.code === 'string' ? candidate.code : '';
    const message = typeof candidate.message === 'string' ? candidate.message : '';
    if (OUTAGE_CODES.has(code) || OUTAGE_SQLSTATE.test(code)) return true;
    if (OUTAGE_MESSAGES.some((known) => message.includes(known))) return true;
    if (candidate.name === 'MaxRetriesPerRequestError') return true;
    // EventStoreDB client errors (UnavailableError, DeadlineExceededError…) carry a `type`;
    // a payment provider's outage carries `kind: 'unavailable'` (an unreadable answer included).
    if (['unavailable', 'deadline-exceeded', 'timeout'].includes(String(candidate.type))) return true;
    if (candidate.kind === 'unavailable' && !(current instanceof DomainError)) return true;
    pending.push(candidate.cause);
    if (Array.isArray(candidate.errors)) pending.push(...candidate.errors.slice(0, 8));
  }
  return false;
}
