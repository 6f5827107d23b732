import type { DomainError } from '../../../shared/errors.js';
import { paymentsErrors } from '../errors.js';
import type { ProviderName } from './types.js';

/**
 * Two kinds of provider failure, because they call for opposite reactions:
 *
 * - `ProviderUnavailable`: we do not know whether the provider did anything (5xx, timeout,
 *   network, bad credentials, unreadable answer). Failing over to another provider is allowed
 *   for a collect or a disbursement, and reads may be retried.
 * - `ProviderRejected`: the provider answered and said no, definitively (invalid phone,
 *   unsupported carrier, bad amount, insufficient balance…). Trying elsewhere would either fail
 *   the same way or charge someone a provider already refused: never fail over.
 */
export class ProviderUnavailable extends Error {
  readonly kind = 'unavailable' as const;
  constructor(
    readonly provider: ProviderName | 'router',
    /** A stable code: TIMEOUT, NETWORK, HTTP_5xx, HTTP_429, AUTH_FAILED, BAD_RESPONSE, CIRCUIT_OPEN, NO_PROVIDER. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderUnavailable';
  }
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
