/**
 * Operating errors of the ledger writer (a broken invariant is LedgerInvariantError from the
 * rules: a crash). Each says whether a retry with the same transfer ids is safe: it always is,
 * since a transfer that did land answers `exists`.
 */

/** The writer cannot take submissions now (no lease yet, the database is down, it is closing). */
export class LedgerUnavailableError extends Error {
  override readonly name = 'LedgerUnavailableError';
  /** An outage, not a bug: the HTTP edge answers 503 with Retry-After (src/shared/outage.ts). */
  readonly kind = 'unavailable';
  constructor(
    message: string,
    /** When the append's outcome is unknown, some transfers may have landed: retry, they answer `exists`. */
    readonly outcomeUnknown = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The submission queue is full: shed load instead of growing without bound. */
export class LedgerOverloadedError extends Error {
  override readonly name = 'LedgerOverloadedError';
}

/** One caller's transfers do not fit in a single ledger event (they must land atomically). */
export class LedgerSubmissionTooLargeError extends RangeError {
  override readonly name = 'LedgerSubmissionTooLargeError';
}
