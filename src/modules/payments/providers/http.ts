import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderUnavailable } from './errors.js';
import type { ProviderName } from './types.js';

/** Answers bigger than this are not a provider talking to us: refuse rather than buffer them. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Reads retry at most this many times: a provider in trouble should not be hammered. */
export const MAX_READ_RETRIES = 2;
const RETRY_BASE_DELAY_MS = 100;

export interface ProviderCall {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
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

export type FetchFunction = typeof fetch;

async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) throw new RangeError('response too large');
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > MAX_RESPONSE_BYTES) throw new RangeError('response too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
    return new ProviderUnavailable(provider, 'TIMEOUT', `${provider} did not answer in time`, { cause: error });
  if (error instanceof RangeError)
    return new ProviderUnavailable(provider, 'BAD_RESPONSE', `${provider} sent an oversized answer`, { cause: error });
  return new ProviderUnavailable(provider, 'NETWORK', `${provider} is unreachable`, { cause: error });
}

async function attempt(provider: ProviderName, call: ProviderCall, fetchImpl: FetchFunction): Promise<ProviderAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let body: string | undefined;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers['content-type'] = 'application/json';
  }
  const signal = AbortSignal.timeout(call.timeoutMs);
  const response = await fetchImpl(call.url, { method: call.method, headers, body, signal, redirect: 'error' });
  const text = await readBounded(response);
  if (response.status >= 500 || response.status === 429) {
    throw new ProviderUnavailable(provider, `HTTP_${response.status}`, `${provider} answered ${response.status}`);
  }
  return { status: response.status, text, body: parseJson(text) };
}

/**
 * One HTTP exchange with a provider, under a timeout. 5xx, 429, timeouts and network errors
 * become ProviderUnavailable (after bounded retries with backoff when the call allows them);
 * every other status is returned for the adapter to interpret.
 */
export async function callProvider(
  provider: ProviderName,
  call: ProviderCall,
  fetchImpl: FetchFunction = fetch,
): Promise<ProviderAnswer> {
  const retries = Math.min(call.retries, MAX_READ_RETRIES);
  for (let attemptIndex = 0; ; attemptIndex += 1) {
    try {
      return await attempt(provider, call, fetchImpl);
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
