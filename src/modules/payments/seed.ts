/**
 * The payments demo seed step: the demo customer's wallet holds 50 000 XAF, booked as a CamPay
 * top-up with its provider fee (fixed transfer ids: a second run lands nothing), so the orders
 * seed and a new user can pay from the wallet at once. Development only.
 */
import {
  customerWalletId,
  providerClearingId,
  providerFeeMinor,
  providerFeesExpenseId,
} from '../../../ledger/rules/index.js';
import type { Runtime } from '../../runtime.js';
import { DEMO_USERS, type Identity } from '../identity/index.js';
import type { PaymentsContext } from './index.js';
import { submitAll, type LedgerPort } from './ledger-port.js';

export const DEMO_WALLET_XAF = 50_000n;

export interface PaymentsSeedServices {
  runtime: Runtime;
  identity: Pick<Identity, 'repository'>;
  payments: Pick<PaymentsContext, 'wallets'>;
  ledger: LedgerPort;
}

export const paymentsSeedStep = {
  name: 'payments',
  async run(services: PaymentsSeedServices): Promise<string[]> {
    if (services.runtime.config.isProduction) throw new Error('demo money never exists in production');
    const demo = DEMO_USERS.find((user) => user.role === 'customer')!;
    const customer = await services.identity.repository.findUserByPhone(demo.phone);
    if (customer === undefined) return ['skipped: the identity demo step must run first'];
    await services.payments.wallets.ensure(customer.id, 'XAF');
    const clearing = providerClearingId('campay', 'XAF');
    const refusal = await submitAll(services.ledger, [
      {
        id: `demo:payments:topup:${customer.id}`,
        debitAccountId: clearing,
        creditAccountId: customerWalletId(customer.id, 'XAF'),
        amountMinor: DEMO_WALLET_XAF,
        currency: 'XAF',
        code: 'topup',
        flags: { linked: true },
        userData: { userId: customer.id, category: 'top-ups' },
      },
      {
        id: `demo:payments:fee:${customer.id}`,
        debitAccountId: providerFeesExpenseId('XAF'),
        creditAccountId: clearing,
        amountMinor: providerFeeMinor(DEMO_WALLET_XAF, 'MTN'),
        currency: 'XAF',
        code: 'provider_fee',
        flags: {},
      },
    ]);
    if (refusal !== null) throw new Error(`demo top-up refused: ${refusal.result}`);
    return [`wallet of ${demo.phone} topped up with ${DEMO_WALLET_XAF} XAF`];
  },
};
