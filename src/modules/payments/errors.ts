import { DomainError, domainErrors } from '../../shared/errors.js';

/** The payments context's refusals, free of HTTP: the edge (src/http/errors.ts) maps them to problem+json. */
export const paymentsErrors = domainErrors('payments');

/** Whether the payments context refused (a client's mistake, a provider's refusal, an outage). */
export function isPaymentsError(error: unknown): error is DomainError {
  return error instanceof DomainError && error.context === 'payments';
}
