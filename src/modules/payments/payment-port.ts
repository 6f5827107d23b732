/**
 * The real PaymentPort the orders context calls at placement (replacing its TestPaymentPort):
 *   - wallet: a synchronous ledger chain wallet → the order's escrow; `captured` or `failed`
 *     (insufficient funds, frozen, over a limit: nothing moved);
 *   - Mobile Money: a collection is started; `pending` until the provider answers, then the
 *     payments service reports the outcome through `orders.recordPaymentOutcome`.
 */
import type { PaymentOutcome, PaymentPort, PaymentRequest } from '../orders/ports.js';
import { isPaymentsError } from './errors.js';
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
          idempotencyKey: request.idempotencyKey,
          description: 'Commande',
          ...(request.firstAttempt === true ? { firstAttempt: true } : {}),
        });
        if (view.status === 'FAILED')
          return { status: 'failed', reason: view.failureReason ?? 'mobile_money_failed' };
        return { status: 'pending', paymentId: view.paymentId };
      } catch (error) {
        // A refusal (invalid number, unsupported operator) is final for this order.
        if (isPaymentsError(error) && error.kind === 'unprocessable')
          return { status: 'failed', reason: error.code };
        throw error;
      }
    },
  };
}
