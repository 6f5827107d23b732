import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, providerClearingId, providerFeesExpenseId } from '../../../ledger/rules/index.js';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import type { TestApp } from '../../helpers/app.js';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { paymentStatus, paymentsTestApp, topUp, until, wallet } from './helpers.js';

let testApp: TestApp;
let customer: CreatedUser;

beforeAll(async () => {
  testApp = await paymentsTestApp();
  customer = await createUser(testApp, { roles: ['customer'] });
});
afterAll(async () => testApp?.close());

describe('wallet top-up by Mobile Money', () => {
  it('answers 202 with the USSD code, then credits the wallet and books the provider fee apart', async () => {
    const response = await topUp(testApp, customer.accessToken, 10_000, MAGIC_NUMBERS.MTN.succeed);
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body.ussdCode).toBe('*126#');
    expect(body.payment.status).toBe('PENDING');
    const after = await until(
      () => wallet(testApp, customer.accessToken),
      (w) => w.balanceMinor === 10_000,
    );
    expect(after.availableMinor).toBe(10_000);
    const ledger = testApp.services.ledger;
    expect((await ledger.account(customerWalletId(customer.userId, 'XAF')))?.creditsPosted).toBe(10_000n);
    expect((await ledger.account(providerFeesExpenseId('XAF')))?.debitsPosted).toBe(250n);
    const clearing = await ledger.account(providerClearingId('campay', 'XAF'));
    expect(clearing!.debitsPosted - clearing!.creditsPosted).toBe(9_750n);
    expect(await paymentStatus(testApp, customer.accessToken, body.payment.paymentId)).toBe('SUCCEEDED');
  });
});
