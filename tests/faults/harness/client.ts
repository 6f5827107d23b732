import { randomUUID } from 'node:crypto';

/** One request as a client app sends it, with the key its retries reuse. */
export interface Operation {
  name: string;
  method: 'POST' | 'GET';
  path: string;
  token: string;
  body?: Record<string, unknown>;
  key: string;
}

export interface Outcome {
  status: number;
  body: Record<string, unknown>;
  /** Tries it took (network errors, 5xx and 409 in-progress are retried with the same key). */
  tries: number;
  replayed: boolean;
}

/** What the load sent and what it got, for the checks after recovery. */
export interface ClientLog {
  operations: { operation: Operation; outcome: Outcome | { error: string } }[];
}

const CALL_TIMEOUT_MS = 8_000;
/** Long enough for a restart of the app on a busy CI machine (up to 40 s seen) plus an outage. */
const ANSWER_DEADLINE_MS = 120_000;
const RETRY_PAUSE_MS = 150;
const MAX_RETRY_PAUSE_MS = 1_500;

export function operation(
  name: string,
  path: string,
  token: string,
  body: Record<string, unknown> = {},
): Operation {
  return { name, method: 'POST', path, token, body, key: `fault-${randomUUID()}` };
}

async function once(baseUrl: string, operation: Operation): Promise<Omit<Outcome, 'tries'>> {
  const response = await fetch(`${baseUrl}${operation.path}`, {
    method: operation.method,
    headers: {
      authorization: `Bearer ${operation.token}`,
      'idempotency-key': operation.key,
      ...(operation.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: operation.body === undefined ? undefined : JSON.stringify(operation.body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { unreadable: text.slice(0, 200) };
  }
  return { status: response.status, body, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

function retryable(answer: Omit<Outcome, 'tries'>): boolean {
  if (answer.status >= 500) return true;
  return answer.status === 409 && answer.body.code === 'idempotency_in_progress';
}

/**
 * A client that behaves like our mobile app: after a network error, a timeout, a 5xx or
 * `idempotency_in_progress` it sends the same request with the same Idempotency-Key again, with a
 * growing pause, until `deadlineMs` (the app may be down for a restart meanwhile).
 */
export function createClient(baseUrl: () => string, log: ClientLog = { operations: [] }) {
  let inFlight = 0;
  async function send(operation: Operation, deadlineMs = ANSWER_DEADLINE_MS): Promise<Outcome> {
    inFlight += 1;
    try {
      return await sendUntilAnswered(operation, deadlineMs);
    } finally {
      inFlight -= 1;
    }
  }

  async function sendUntilAnswered(operation: Operation, deadlineMs: number): Promise<Outcome> {
    const deadline = Date.now() + deadlineMs;
    let pause = RETRY_PAUSE_MS;
    let last = 'never answered';
    for (let tries = 1; ; tries += 1) {
      try {
        const answer = await once(baseUrl(), operation);
        if (!retryable(answer)) {
          const outcome = { ...answer, tries };
          log.operations.push({ operation, outcome });
          return outcome;
        }
        last = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() + pause > deadline) {
        log.operations.push({ operation, outcome: { error: last } });
        throw new Error(`${operation.name} ${operation.path} got no answer in ${deadlineMs} ms: ${last}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(MAX_RETRY_PAUSE_MS, pause * 2);
    }
  }

  /**
   * A read, tried again after a network error (the instance it reached was killed, or is
   * restarting), as an app behind a load balancer would, until `deadlineMs`.
   */
  async function get(path: string, token: string, deadlineMs = ANSWER_DEADLINE_MS): Promise<Outcome> {
    const read: Operation = { name: 'read', method: 'GET', path, token, key: `read-${randomUUID()}` };
    const deadline = Date.now() + deadlineMs;
    let pause = RETRY_PAUSE_MS;
    for (let tries = 1; ; tries += 1) {
      try {
        return { ...(await once(baseUrl(), read)), tries };
      } catch (error) {
        if (Date.now() + pause > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(MAX_RETRY_PAUSE_MS, pause * 2);
    }
  }

  return { send, get, log, inFlight: () => inFlight };
}

export type Client = ReturnType<typeof createClient>;
