import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverPayableId, providerClearingId, worldId } from '../../../ledger/rules/index.js';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { paymentsTestApp, until, wallet } from './helpers.js';

let testApp: TestApp;
beforeAll(async () => {
  testApp = await paymentsTestApp();
});
afterAll(async () => testApp?.close());

describe('scheduled payments work', () => {
  it('registers the sweep, auto top-up, automatic settlement and nightly reconciliation schedules', () => {
    const names = testApp.services.jobs.schedules().map((schedule) => schedule.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'payments-sweep',
        'wallet-auto-topup',
        'payouts-auto-settlement',
        'reconciliation-nightly',
      ]),
    );
  });

  it('auto top-up (opt-in) collects the chosen amount when the balance is under the threshold, once per hour at most', async () => {
    const customer = await createUser(testApp, { roles: ['customer'] });
    const set = await testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: {
        autoTopUp: {
          enabled: true,
          thresholdMinor: 1_000,
          amountMinor: 5_000,
          phone: MAGIC_NUMBERS.MTN.succeed,
        },
      },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().autoTopUp).toEqual({ enabled: true, thresholdMinor: 1_000, amountMinor: 5_000 });
    expect((await testApp.services.payments.wallets.autoTopUpSweep()).started).toBe(1);
    await until(
      () => wallet(testApp, customer.accessToken),
      (w) => w.balanceMinor === 5_000,
    );
    expect((await testApp.services.payments.wallets.autoTopUpSweep()).started).toBe(0);
    const incomplete = await testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { autoTopUp: { enabled: true } },
    });
    expect(incomplete.statusCode).toBe(400);
  });

  it('the daily automatic settlement pays an opted-in driver above the minimum, and skips one below it', async () => {
    const rich = await createUser(testApp, { roles: ['driver'], phone: '+237670066601' });
    const poor = await createUser(testApp, { roles: ['driver'], phone: '+237670066602' });
    const outcomes = await testApp.services.ledger.submit([
      {
        id: 'sched:float',
        debitAccountId: providerClearingId('campay', 'XAF'),
        creditAccountId: worldId('XAF'),
        amountMinor: 100_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
      {
        id: 'sched:rich',
        debitAccountId: worldId('XAF'),
        creditAccountId: driverPayableId(rich.userId, 'XAF'),
        amountMinor: 12_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
      {
        id: 'sched:poor',
        debitAccountId: worldId('XAF'),
        creditAccountId: driverPayableId(poor.userId, 'XAF'),
        amountMinor: 900n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(outcomes.every((outcome) => outcome.result === 'ok')).toBe(true);
    for (const driver of [rich, poor]) {
      const opted = await testApp.app.inject({
        method: 'PUT',
        url: '/v1/payouts/settings',
        headers: authHeader(driver.accessToken),
        payload: { payeeKind: 'driver', autoEnabled: true, minimumMinor: 5_000 },
      });
      expect(opted.statusCode, opted.body).toBe(204);
    }
    expect((await testApp.services.payments.payouts.automaticSettlement()).created).toBe(1);
    await until(
      () => testApp.services.ledger.account(driverPayableId(rich.userId, 'XAF')),
      (account) => account?.debitsPosted === 12_000n,
    );
    // The ledger posts the payout's debit before the payout's own row reads
    // SUCCEEDED (the projection catches up), so wait for the read side too.
    const list = await until(
      () =>
        testApp.app.inject({
          method: 'GET',
          url: '/v1/payouts?payeeKind=driver',
          headers: authHeader(rich.accessToken),
        }),
      (response) => response.json().items?.[0]?.status === 'SUCCEEDED',
    );
    expect(list.json()).toMatchObject({
      availableMinor: 0,
      items: [expect.objectContaining({ status: 'SUCCEEDED', automatic: true, amountMinor: 12_000 })],
    });
    expect(
      (
        await testApp.app.inject({
          method: 'GET',
          url: '/v1/payouts?payeeKind=driver',
          headers: authHeader(poor.accessToken),
        })
      ).json().items,
    ).toEqual([]);
  });
});

describe('refund to Mobile Money when the customer asks', () => {
  it('a customer sends wallet money to their verified number: the wallet is debited once the provider confirms', async () => {
    const customer = await createUser(testApp, { roles: ['customer'], phone: '+237690066603' });
    await testApp.services.ledger.submit([
      {
        id: 'withdraw:float',
        debitAccountId: providerClearingId('campay', 'XAF'),
        creditAccountId: worldId('XAF'),
        amountMinor: 50_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
      {
        id: 'withdraw:refund',
        debitAccountId: worldId('XAF'),
        creditAccountId: (await import('../../../ledger/rules/index.js')).customerWalletId(
          customer.userId,
          'XAF',
        ),
        amountMinor: 4_000n,
        currency: 'XAF',
        code: 'refund',
        flags: {},
      },
    ]);
    const tooMuch = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: authHeader(customer.accessToken),
      payload: { amountMinor: 4_001 },
    });
    expect(tooMuch.statusCode).toBe(422);
    const sent = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': `w-${customer.userId}` },
      payload: { amountMinor: 3_000 },
    });
    expect(sent.statusCode, sent.body).toBe(201);
    expect(sent.json()).toMatchObject({ payeeKind: 'customer', status: 'APPROVED', amountMinor: 3_000 });
    await until(
      () => wallet(testApp, customer.accessToken),
      (w) => w.balanceMinor === 1_000 && w.heldMinor === 0,
    );
    await until(
      () => testApp.services.payments.payouts.get(sent.json().payoutId),
      (payout) => payout?.status === 'SUCCEEDED',
    );
  });
});
