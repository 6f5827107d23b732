/**
 * TestPaymentPort: FOR DEVELOPMENT, TESTS AND BENCHMARKS ONLY. It moves no money: it answers at
 * once so that the order flow can be exercised end to end until payments (issue 8) provide the
 * real port. `createOrdersService` refuses it when NODE_ENV=production.
 *
 * Outcome rule (so tests and demos can choose): a Mobile Money phone ending in 0000 fails with
 * "insufficient funds", one ending in 1111 stays pending (the provider "answers later"), any
 * other payment is captured in full.
 */
import { randomUUID } from 'node:crypto';
import type { PaymentOutcome, PaymentPort, PaymentRequest } from './ports.js';

export const TEST_PAYMENT_PORT_NAME = 'test-payment-port';

export function createTestPaymentPort(): PaymentPort {
  return {
    name: TEST_PAYMENT_PORT_NAME,
    async authorizeAndCapture(request: PaymentRequest): Promise<PaymentOutcome> {
      if (request.method.kind === 'mobile_money') {
        if (request.method.phone.endsWith('0000'))
          return { status: 'failed', reason: 'insufficient funds (test payment port)' };
        if (request.method.phone.endsWith('1111'))
          return { status: 'pending', paymentId: `test-${randomUUID()}` };
      }
      return { status: 'captured', paymentId: `test-${randomUUID()}`, amountMinor: request.amountMinor };
    },
  };
}
