import type { DomainError } from '../../../shared/errors.js';
import { paymentsErrors } from '../errors.js';
import type { ProviderName } from './types.js';

/**
 * Two kinds of provider failure, because they call for opposite reactions:
 *
 * - `ProviderUnavailable`: the provider gave no usable answer (5xx, timeout, network, bad
 *   credentials, unreadable answer). Reads may be retried. A collect or a disbursement may go to
 *   another provider ONLY when `unprocessed` is true: the provider certainly did not act on it
 *   (the connection was never established, the call never left because the token could not be
 *   had, or the provider answered 401/429/503 to it). Otherwise it may have charged or paid
 *   someone: sending it elsewhere could move the money twice.
 * - `ProviderRejected`: the provider answered and said no, definitively (invalid phone,
 *   unsupported carrier, bad amount, insufficient balance…). Trying elsewhere would either fail
 *   the same way or charge someone a provider already refused: never fail over.
 */
export class ProviderUnavailable extends Error {
  readonly kind = 'unavailable' as const;
  /** True only when the provider certainly did not act on the call (see above). */
  readonly unprocessed: boolean;
  /**
   * Providers the router left a collect or disbursement with although they gave no answer (a
   * timeout, a 5xx, a lost connection): they may hold it, and it is looked for there by our
   * reference. Empty outside the router.
   */
  mayHaveReached: ProviderName[] = [];
  constructor(
    readonly provider: ProviderName | 'router',
    /** A stable code: TIMEOUT, NETWORK, CONNECT_FAILED, HTTP_5xx, HTTP_429, AUTH_FAILED, BAD_RESPONSE, CIRCUIT_OPEN, NO_PROVIDER. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown; unprocessed?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderUnavailable';
    this.unprocessed = options?.unprocessed ?? false;
  }
}

/** The same failure, known not to have reached the provider's money call (it never left). */
export function beforeTheCall(error: unknown): unknown {
  if (!(error instanceof ProviderUnavailable) || error.unprocessed) return error;
  return new ProviderUnavailable(error.provider, error.code, error.message, {
    cause: error.cause,
    unprocessed: true,
  });
}

export class ProviderRejected extends Error {
  readonly kind = 'rejected' as const;
  /**
   * Providers the router asked before the one that refused, whose call may have reached them (a
   * timeout, a 5xx, a lost connection): the refusal does not prove that nothing was collected.
   */
  mayHaveReached: ProviderName[] = [];
  constructor(
    readonly provider: ProviderName | 'router',
    /** The provider's code (ER101, ER102, ER201, ER301, PAYER_NOT_FOUND…) or ours (UNSUPPORTED_OPERATOR, INVALID_PHONE, INVALID_AMOUNT, NOT_FOUND). */
    readonly code: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'ProviderRejected';
  }
}

export type ProviderError = ProviderUnavailable | ProviderRejected;

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderUnavailable || error instanceof ProviderRejected;
}

/**
 * How callers turn a provider error into a payments domain error: a rejection is the client's
 * to fix (unprocessable, with the provider's code), an outage is ours (unavailable, retry in
 * 30 s). Provider messages are not forwarded: they may echo the phone number.
 */
export function providerErrorToDomainError(error: ProviderError): DomainError {
  if (error instanceof ProviderRejected) {
    const notFound = error.code === 'NOT_FOUND';
    return paymentsErrors.of(
      notFound ? 'not_found' : 'unprocessable',
      notFound ? 'payment_not_found' : 'payment_rejected',
      'The payment provider refused the request',
      { details: { provider: error.provider, providerCode: error.code } },
    );
  }
  return paymentsErrors.of(
    'unavailable',
    'payment_provider_unavailable',
    'No payment provider is reachable; try again later',
    { details: { providerCode: error.code }, retryAfterSeconds: 30 },
  );
}
