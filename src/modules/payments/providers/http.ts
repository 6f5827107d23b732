import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable, Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ProviderUnavailable } from './errors.js';
import type { ProviderName } from './types.js';

/** Answers bigger than this are not a provider talking to us: refuse rather than buffer them. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Reads retry at most this many times: a provider in trouble should not be hammered. */
export const MAX_READ_RETRIES = 2;
const RETRY_BASE_DELAY_MS = 100;
/**
 * An idle kept-alive socket is closed after this long (what undici, behind fetch, does by
 * default); a server's `Keep-Alive: timeout=N` hint shortens it to N-1 s, so we do not reuse a
 * socket the server is about to close.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;
/** What fetch's `redirect: 'error'` refuses; 300 and 304 are answers like any other. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * One keep-alive pool per protocol for every provider call (and the simulators' webhooks):
 * node:http over a pooled socket costs a fraction of fetch's undici + web streams per call.
 * Pools are per host, so the bounds are per provider; idle sockets are unref'd by the agent
 * and never keep the process alive.
 */
const AGENT_OPTIONS = {
  keepAlive: true,
  maxSockets: 256,
  maxFreeSockets: 256,
  scheduling: 'lifo',
  timeout: IDLE_SOCKET_TIMEOUT_MS,
} as const;
const httpAgent = new HttpAgent(AGENT_OPTIONS);
const httpsAgent = new HttpsAgent(AGENT_OPTIONS);

export interface HttpExchange {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Sent as is (utf8) with its content-length; the caller sets the content-type. */
  body?: string;
  /** The whole exchange (queueing for a socket, connecting, sending, the full answer) must fit. */
  timeoutMs: number;
  /**
   * Redirects are never followed. `error` (the default) rejects a 301/302/303/307/308 like
   * fetch's `redirect: 'error'`; `return` hands the status back like any other.
   */
  redirect?: 'error' | 'return';
}

export interface HttpResult {
  status: number;
  /** The body as utf8 (decoded first when the server compressed it anyway). */
  text: string;
}

/**
 * What the socket layer says when no connection could be made: refused, no such host, DNS
 * failing for now, no route. Raised before the connection exists, so before any byte of the
 * request was written.
 */
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The connection was never established: not one byte of the request left this process, so the
 * server cannot have acted on it. A TypeError like every other network failure.
 */
export class HttpConnectError extends TypeError {
  constructor(
    message: string,
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'HttpConnectError';
  }
}

/** The exchange ran out of time (the name AbortSignal.timeout gives fetch's rejection). */
export class HttpTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * One HTTP exchange over the shared keep-alive agents. Rejects like fetch did: an
 * HttpTimeoutError (name `TimeoutError`) when `timeoutMs` passes, a RangeError for an answer
 * over MAX_RESPONSE_BYTES (declared or streamed), a TypeError for everything else (refused,
 * reset, unexpected redirect, malformed URL), with the underlying error as its cause; an
 * HttpConnectError (a TypeError) when the connection was never established (refused, unknown
 * host, no route) and so nothing was sent.
 */
export function sendHttp(exchange: HttpExchange): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    let decoder: Transform | undefined;
    // Named by its host only: query strings (webhook payloads) stay out of error messages.
    let target = 'the server';
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      decoder?.destroy();
      // The socket goes with the request: it is never handed back to the pool mid-answer.
      request?.destroy();
      reject(error);
    };
    // Whether the request may have left: true once its socket is connected (TLS: once the
    // handshake is done, since nothing is written before), or from the start on a reused one.
    let connected = false;
    const failNetwork = (error: Error): void => {
      const code = (error as { code?: unknown }).code;
      const message = `${exchange.method} to ${target} failed: ${error.message}`;
      fail(
        !connected && typeof code === 'string' && CONNECT_ERROR_CODES.has(code)
          ? new HttpConnectError(message, code, { cause: error })
          : new TypeError(message, { cause: error }),
      );
    };
    const timedOut = (): void =>
      fail(new HttpTimeoutError(`no complete answer within ${exchange.timeoutMs} ms`));
    // The overall deadline: request.setTimeout only notices silence, not a trickling answer.
    const timer = setTimeout(timedOut, exchange.timeoutMs);

    const onResponse = (response: IncomingMessage): void => {
      const status = response.statusCode ?? 0;
      response.on('error', failNetwork);
      if (exchange.redirect !== 'return' && REDIRECT_STATUSES.has(status)) {
        fail(new TypeError(`${exchange.method} to ${target}: unexpected redirect (${status})`));
        return;
      }
      if (Number(response.headers['content-length'] ?? '0') > MAX_RESPONSE_BYTES) {
        fail(new RangeError('response too large'));
        return;
      }
      let body: Readable = response;
      const encoding = response.headers['content-encoding']?.trim().toLowerCase();
      if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
      else if (encoding === 'br') decoder = createBrotliDecompress();
      else if (encoding === 'deflate') decoder = createInflate();
      if (decoder !== undefined) {
        decoder.on('error', failNetwork);
        body = response.pipe(decoder);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      body.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > MAX_RESPONSE_BYTES) fail(new RangeError('response too large'));
        else chunks.push(chunk);
      });
      body.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, text: total === 0 ? '' : Buffer.concat(chunks, total).toString('utf8') });
      });
      response.on('close', () => {
        if (!response.complete)
          failNetwork(new Error('the connection closed before the answer was complete'));
      });
    };

    try {
      const url = new URL(exchange.url);
      target = url.host;
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') throw new TypeError(`unsupported protocol ${url.protocol}`);
      const headers: Record<string, string | number> = { 'user-agent': 'node', ...exchange.headers };
      if (exchange.body !== undefined || exchange.method === 'POST' || exchange.method === 'PUT')
        headers['content-length'] = exchange.body === undefined ? 0 : Buffer.byteLength(exchange.body);
      const send = secure ? httpsRequest : httpRequest;
      request = send(
        url,
        { method: exchange.method, headers, agent: secure ? httpsAgent : httpAgent },
        onResponse,
      );
      request.on('error', failNetwork);
      // The agent gives new sockets its idle timeout; the call's own applies while connecting too.
      request.on('socket', (socket) => {
        socket.setTimeout(exchange.timeoutMs);
        if (!socket.connecting) connected = true;
        else
          socket.once(secure ? 'secureConnect' : 'connect', () => {
            connected = true;
          });
      });
      request.setTimeout(exchange.timeoutMs, timedOut);
      request.end(exchange.body);
    } catch (error) {
      failNetwork(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/**
 * Answers that say the server did not act on the request: 429 (rate limited, refused before
 * any work) and 503 (not able to handle it now). Every other 5xx (500, 502, 504…) may come
 * after the provider acted (a crash after the charge, a gateway that gave up waiting): unknown.
 */
export const UNPROCESSED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

export interface ProviderCall {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (OAuth2 token endpoints); ignored with `json`. */
  form?: Record<string, string>;
  timeoutMs: number;
  /** Only idempotent calls (reads, or writes carrying an idempotency key) may retry. */
  retries: number;
}

export interface ProviderAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function classify(provider: ProviderName, error: unknown): ProviderUnavailable {
  if (error instanceof ProviderUnavailable) return error;
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return new ProviderUnavailable(provider, 'TIMEOUT', `${provider} did not answer in time`, {
      cause: error,
    });
  if (error instanceof HttpConnectError)
    return new ProviderUnavailable(provider, 'CONNECT_FAILED', `${provider} could not be reached`, {
      cause: error,
      unprocessed: true,
    });
  if (error instanceof RangeError)
    return new ProviderUnavailable(provider, 'BAD_RESPONSE', `${provider} sent an oversized answer`, {
      cause: error,
    });
  return new ProviderUnavailable(provider, 'NETWORK', `${provider} is unreachable`, { cause: error });
}

async function attempt(provider: ProviderName, call: ProviderCall): Promise<ProviderAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let body: string | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers['content-type'] = 'application/json';
  } else if (call.form !== undefined) {
    body = new URLSearchParams(call.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await sendHttp({
    method: call.method,
    url: call.url,
    headers,
    body,
    timeoutMs: call.timeoutMs,
  });
  if (response.status >= 500 || response.status === 429) {
    throw new ProviderUnavailable(
      provider,
      `HTTP_${response.status}`,
      `${provider} answered ${response.status}`,
      { unprocessed: UNPROCESSED_STATUSES.has(response.status) },
    );
  }
  return { status: response.status, text: response.text, body: parseJson(response.text) };
}

/**
 * One HTTP exchange with a provider, under a timeout. 5xx, 429, timeouts and network errors
 * (an unexpected redirect among them: redirects are never followed) become ProviderUnavailable,
 * `unprocessed` when the provider certainly did not act (CONNECT_FAILED, HTTP_429, HTTP_503)
 * (after bounded retries with backoff when the call allows them); every other status is
 * returned for the adapter to interpret.
 */
export async function callProvider(provider: ProviderName, call: ProviderCall): Promise<ProviderAnswer> {
  const retries = Math.min(call.retries, MAX_READ_RETRIES);
  for (let attemptIndex = 0; ; attemptIndex += 1) {
    try {
      return await attempt(provider, call);
    } catch (error) {
      const unavailable = classify(provider, error);
      if (attemptIndex >= retries) throw unavailable;
      const delayMs = RETRY_BASE_DELAY_MS * 2 ** attemptIndex * (0.5 + Math.random() / 2);
      await sleep(delayMs);
    }
  }
}

/** A field of an untyped JSON object, as a string when it is a string or a number. */
export function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * A provider amount (`100`, `"100"`, `"10.00"`) as integer minor units of XAF. Providers
 * echo XAF with decimals that are always zero; anything else is a broken answer.
 */
export function parseAmountMinor(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const match = /^(-?\d{1,15})(?:\.0+)?$/.exec(value.trim());
  return match?.[1] === undefined ? undefined : BigInt(match[1]);
}
