/**
 * The real PaymentPort the orders context calls at placement (replacing its TestPaymentPort):
 *   - wallet: a synchronous ledger chain wallet → the order's escrow; `captured` or `failed`
 *     (insufficient funds, frozen, over a limit: nothing moved);
 *   - Mobile Money: a collection is started; `pending` until the provider answers, then the
 *     payments service reports the outcome through `orders.recordPaymentOutcome`.
 */
import type {
  PaymentMethod,
  PaymentMethodProblem,
  PaymentOutcome,
  PaymentPort,
  PaymentRequest,
} from '../orders/index.js';
import { isPaymentsError } from './errors.js';
import { uuidFromName } from './ids.js';
import { detectOperator, toE164 } from './providers/index.js';
import type { PaymentsService } from './payments-service.js';
import type { OrderPricing, WalletService } from './wallet-service.js';

export const LEDGER_PAYMENT_PORT_NAME = 'ledger-payment-port';

export interface PaymentPortOptions {
  wallets: () => WalletService;
  payments: () => PaymentsService;
  /** The order's price breakdown (the port only receives the total). */
  pricingOf: (orderId: string) => Promise<OrderPricing>;
}

export function createLedgerPaymentPort(options: PaymentPortOptions): PaymentPort {
  return {
    name: LEDGER_PAYMENT_PORT_NAME,
    checkMethod,
    async paymentOf(request) {
      // The attempt is named by the payer and the key, as initiate() named it.
      const view = await options
        .payments()
        .view(uuidFromName('payment', `${request.payerId}\n${request.idempotencyKey}`));
      if (view === undefined || view.orderId !== request.orderId) return undefined;
      return {
        paymentId: view.paymentId,
        status: view.status,
        ussdCode: view.ussdCode,
        expiresAt: view.expiresAt,
      };
    },
    async authorizeAndCapture(request: PaymentRequest): Promise<PaymentOutcome> {
      const method = request.method;
      if (method.kind === 'wallet') {
        const pricing = request.pricing ?? (await options.pricingOf(request.orderId));
        if (BigInt(pricing.totalMinor) !== request.amountMinor)
          throw new Error('the order total and the payment request disagree');
        const result = await options.wallets().payOrder({
          userId: request.payerId,
          orderId: request.orderId,
          currency: request.currency,
          pricing,
        });
        if (!result.ok) return { status: 'failed', reason: result.code };
        return {
          status: 'captured',
          paymentId: `wallet-${request.orderId}`,
          amountMinor: request.amountMinor,
        };
      }
      try {
        const view = await options.payments().initiate({
          userId: request.payerId,
          purpose: { kind: 'order', orderId: request.orderId },
          amountMinor: request.amountMinor,
          currency: request.currency,
          phone: method.phone,
          operator: method.provider,
          idempotencyKey: request.idempotencyKey,
          description: 'Commande',
          ...(request.firstAttempt === true ? { firstAttempt: true } : {}),
        });
        if (view.status === 'FAILED')
          return { status: 'failed', reason: view.failureReason ?? 'mobile_money_failed' };
        return { status: 'pending', paymentId: view.paymentId };
      } catch (error) {
        // A refusal (invalid number, unsupported operator) is final for this order. An outage
        // (no provider could take it) is thrown on: the order fails and its client learns why.
        if (isPaymentsError(error) && error.kind === 'unprocessable')
          return { status: 'failed', reason: error.code };
        throw error;
      }
    },
  };
}

/**
 * Checked before an order is placed, so that a wrong method creates nothing: a Mobile Money
 * number must be a Cameroon MTN or Orange mobile, and the operator the client chose must be the
 * number's (an MTN number sent as ORANGE would be charged through the wrong route and recorded
 * as the wrong operator).
 */
export function checkMethod(method: PaymentMethod): PaymentMethodProblem | undefined {
  if (method.kind !== 'mobile_money') return undefined;
  const phone = toE164(method.phone);
  const operator = phone === undefined ? undefined : detectOperator(phone);
  if (operator === undefined)
    return { code: 'unsupported_phone', message: 'Give an MTN or Orange Mobile Money number from Cameroon.' };
  if (operator !== method.provider)
    return {
      code: 'operator_mismatch',
      message: `This number is an ${operator} number, not ${method.provider}.`,
      details: { operator },
    };
  return undefined;
}
