import { DomainError, domainErrors } from '../../shared/errors.js';

/**
 * The orders context's refusals, free of HTTP: the edge (src/http/errors.ts) maps them to
 * problem+json. The decider's refusals are `OrderError`s (a DomainError with `currentStatus`).
 */
export const ordersErrors = domainErrors('orders');

export { OrderError, type OrderErrorCode } from './decider.js';

/**
 * Whether the orders context refused a command (the order is missing, or its state does not
 * allow it): what another context catches when the order may have moved on meanwhile.
 */
export function isOrderRefusal(error: unknown): error is DomainError {
  return error instanceof DomainError && error.context === 'orders';
}
