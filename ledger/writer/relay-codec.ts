import { LedgerOverloadedError, LedgerSubmissionTooLargeError, LedgerUnavailableError } from './errors.js';

/**
 * What travels through `ledger_relay` (relay.ts), pure: calls and answers as JSON text with bigints
 * (amounts, balances, nanosecond timestamps) tagged exactly, and the holder's errors as the
 * caller's own classes, which callers already handle.
 */

/** An answer as stored: the call's result, or the error the holder's writer threw. */
export type RelayAnswer = { readonly ok: unknown } | EncodedError;

export interface EncodedError {
  readonly error: { name: string; message: string; outcomeUnknown?: boolean };
}

export function encodeRelayValue(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'bigint' ? { $bigint: item.toString() } : item,
  );
}

export function decodeRelayValue(text: string): unknown {
  return JSON.parse(text, (_key, item: unknown) => {
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const tagged = item as { $bigint?: unknown };
      if (typeof tagged.$bigint === 'string' && Object.keys(item).length === 1) return BigInt(tagged.$bigint);
    }
    return item;
  });
}

/** The stored answer of an error (its message is operational: no personal data reaches it). */
export function encodeError(error: unknown): EncodedError {
  const known = error instanceof Error ? error : new Error(String(error));
  return {
    error: {
      name: known.name,
      message: known.message.slice(0, 500),
      ...(known instanceof LedgerUnavailableError ? { outcomeUnknown: known.outcomeUnknown } : {}),
    },
  };
}

/** The holder's error, as the caller's own class. */
export function decodeError(encoded: EncodedError['error']): Error {
  const message = `ledger writer: ${encoded.message}`;
  switch (encoded.name) {
    case 'LedgerOverloadedError':
      return new LedgerOverloadedError(message);
    case 'LedgerSubmissionTooLargeError':
      return new LedgerSubmissionTooLargeError(message);
    case 'TypeError':
      return new TypeError(message);
    case 'LedgerUnavailableError':
      return new LedgerUnavailableError(message, encoded.outcomeUnknown ?? true);
    default:
      // The holder stopped on a broken invariant or failed otherwise: whether it appended is unknown.
      return new LedgerUnavailableError(message, true);
  }
}

/** A stored answer's result; throws the holder's error. */
export function resultOf(stored: string): unknown {
  const answer = decodeRelayValue(stored) as RelayAnswer;
  if ('error' in answer) throw decodeError(answer.error);
  return answer.ok;
}
