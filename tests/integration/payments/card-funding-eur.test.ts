/**
 * EUR card funding (issue #28) against the Flutterwave simulator and the real PostgreSQL ledger: a
 * EUR payment lands in the recipient's XAF wallet converted at the EUR rate (the peg, 655.957), its
 * terms fixed when the funding is created, booked through the FX bridge of each currency with the
 * spread as revenue and the rounding to the FX account; limits count its USD equivalent; a
 * chargeback and a refund take back the francs it credited. Every figure is checked in the ledger,
 * and `ledger.verify` passes after each flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerReceivableId,
  customerWalletId,
  fxBridgeId,
  fxRoundingId,
  fxSpreadRevenueId,
  providerClearingId,
  providerFeesExpenseId,
} from '../../../ledger/rules/index.js';
import { MAGIC_CARDS } from '../../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser, withStepUp, type CreatedUser } from '../../helpers/auth.js';
import { key, paymentsTestApp, topUp, until, wallet as walletView } from './helpers.js';

let testApp: TestApp;
let admin: CreatedUser;
let steppedUp: string;

beforeAll(async () => {
  // The spread is set here so the expected francs below are computed by hand from it.
  testApp = await paymentsTestApp({ FX_SPREAD_BPS: '150', FX_USD_XAF_RATE: '600' });
  admin = await createUser(testApp, { roles: ['admin'] });
  steppedUp = await withStepUp(testApp, admin);
}, 60_000);
afterAll(async () => testApp?.close());

const simulator = () => testApp.services.payments.cardProvider.simulator!;
const ledger = () => testApp.services.ledger;

async function credit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}
async function debit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.debitsPosted - account.creditsPosted;
}

async function open(token: string, body: Record<string, unknown>, idempotencyKey = key()) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(token), 'idempotency-key': idempotencyKey },
    payload: body,
  });
}

/** Opens a EUR funding, pays it on the hosted page and waits for it to be credited. */
async function fundEur(customer: CreatedUser, amountMinor: number) {
  const opened = await open(customer.accessToken, { amountMinor, currency: 'EUR' });
  expect(opened.statusCode, opened.body).toBe(201);
  const view = opened.json();
  await fetch(view.checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
  });
  const row = await until(
    async () => (await testApp.services.payments.cards.refresh(view.fundingId))!,
    (found) => found.status !== 'PENDING',
    20_000,
  );
  expect(row.status).toBe('CREDITED');
  return { view, row };
}

async function verified(): Promise<void> {
  const report = await ledger().verify({ projections: false });
  expect(report.ok).toBe(true);
  expect(await debit(providerClearingId('flutterwave', 'EUR'))).toBeGreaterThanOrEqual(0n);
}

describe('EUR card funding', () => {
  it('€50.00 lands in the XAF wallet at the peg: terms fixed at creation, each currency balanced through its bridge, spread and rounding booked', async () => {
    const customer = await createUser(testApp);
    const platformBefore = {
      spread: await credit(fxSpreadRevenueId('XAF')),
      rounding: await credit(fxRoundingId('XAF')),
      bridgeXaf: await debit(fxBridgeId('XAF')),
      bridgeEur: await credit(fxBridgeId('EUR')),
      clearing: await debit(providerClearingId('flutterwave', 'EUR')),
      fees: await debit(providerFeesExpenseId('EUR')),
    };
    const idempotencyKey = key();
    const opened = await open(customer.accessToken, { amountMinor: 5_000, currency: 'EUR' }, idempotencyKey);
    expect(opened.statusCode, opened.body).toBe(201);
    // 50 × 655.957 = 32 797.85 XAF; spread 1.5 % = 491.967 75 → 491; the customer ⌊32 305.882 25⌋ =
    // 32 305; the bridge 32 798 (half-even); rounding 32 798 − 32 305 − 491 = 2.
    expect(opened.json()).toMatchObject({
      status: 'PENDING',
      currency: 'EUR',
      walletCurrency: 'XAF',
      amountMinor: 5_000,
      conversion: {
        rate: '655.957',
        rateSource: 'peg',
        spreadBps: 150,
        creditMinor: 32_305,
        spreadMinor: 491,
        roundingMinor: 2,
      },
    });
    const again = await open(customer.accessToken, { amountMinor: 5_000, currency: 'EUR' }, idempotencyKey);
    expect(again.json().fundingId).toBe(opened.json().fundingId);

    // A second funding of the same customer, paid first: two credits add up exactly.
    const { row } = await fundEur(customer, 5_000);
    expect(row.credit_minor).toBe(32_305n);

    await fetch(opened.json().checkoutUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
    });
    const first = await until(
      async () => (await testApp.services.payments.cards.refresh(opened.json().fundingId))!,
      (found) => found.status !== 'PENDING',
      20_000,
    );
    expect(first.status).toBe('CREDITED');
    const fees = first.fee_minor! + row.fee_minor!;
    expect(fees).toBeGreaterThan(0n);

    expect(await credit(customerWalletId(customer.userId, 'XAF'))).toBe(2n * 32_305n);
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(0n);
    expect((await credit(fxSpreadRevenueId('XAF'))) - platformBefore.spread).toBe(2n * 491n);
    expect((await credit(fxRoundingId('XAF'))) - platformBefore.rounding).toBe(2n * 2n);
    expect((await debit(fxBridgeId('XAF'))) - platformBefore.bridgeXaf).toBe(2n * 32_798n);
    expect((await credit(fxBridgeId('EUR'))) - platformBefore.bridgeEur).toBe(2n * 5_000n);
    expect((await debit(providerClearingId('flutterwave', 'EUR'))) - platformBefore.clearing).toBe(
      2n * 5_000n - fees,
    );
    expect((await debit(providerFeesExpenseId('EUR'))) - platformBefore.fees).toBe(fees);

    // Webhooks again and another read: nothing moves twice.
    await simulator().drainWebhooks();
    await testApp.services.payments.cards.refresh(first.funding_id);
    expect(await credit(customerWalletId(customer.userId, 'XAF'))).toBe(2n * 32_305n);

    // The statement files the francs under top-ups; the wallet shows them.
    const statement = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/transactions?currency=XAF&category=top-ups',
      headers: authHeader(customer.accessToken),
    });
    expect(statement.statusCode, statement.body).toBe(200);
    // The statement reads the ledger's read model, which follows the ledger a moment later.
    const items = await until(
      async () =>
        (
          await testApp.app.inject({
            method: 'GET',
            url: '/v1/wallet/transactions?currency=XAF&category=top-ups',
            headers: authHeader(customer.accessToken),
          })
        ).json().items as { amountMinor: number; direction: string }[],
      (found) => found.length === 2,
    );
    expect(items.map((item) => [item.direction, item.amountMinor])).toEqual([
      ['in', 32_305],
      ['in', 32_305],
    ]);
    const xaf = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet?currency=XAF',
      headers: authHeader(customer.accessToken),
    });
    expect(xaf.json()).toMatchObject({ currency: 'XAF', balanceMinor: 64_610 });
    await verified();
  });

  it('limits count a EUR funding as its USD equivalent (EUR→XAF ÷ USD→XAF, rounded up); bad currency 400 with nothing recorded', async () => {
    const funder = await createUser(testApp);
    // €460 = $502.91 at 655.957 / 600: over the $500 per funding.
    const tooMuch = await open(funder.accessToken, { amountMinor: 46_000, currency: 'EUR' });
    expect(tooMuch.statusCode, tooMuch.body).toBe(422);
    expect(tooMuch.json()).toMatchObject({ code: 'card_funding_limit_exceeded', limit: 'per_funding' });
    // €450 = $491.97 (49 196.775 cents → 49 197), then $500: 99 197 of the day's 100 000.
    expect((await open(funder.accessToken, { amountMinor: 45_000, currency: 'EUR' })).statusCode).toBe(201);
    expect((await open(funder.accessToken, { amountMinor: 50_000, currency: 'USD' })).statusCode).toBe(201);
    // €7 = 765.28 → 766 cents: 99 963, still within.
    expect((await open(funder.accessToken, { amountMinor: 700, currency: 'EUR' })).statusCode).toBe(201);
    // €1 more = 110 cents: 100 073 > 100 000.
    const daily = await open(funder.accessToken, { amountMinor: 100, currency: 'EUR' });
    expect(daily.statusCode, daily.body).toBe(422);
    expect(daily.json()).toMatchObject({ code: 'card_funding_limit_exceeded', limit: 'funder_daily' });
    const gbp = await open(funder.accessToken, { amountMinor: 1_000, currency: 'GBP' });
    expect(gbp.statusCode).toBe(400);
    const listed = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/card-fundings',
      headers: authHeader(funder.accessToken),
    });
    expect(listed.json().items).toHaveLength(3);
  });

  it('a chargeback after the francs were partly withdrawn: the wallet gives back what is left, the customer owes the rest in XAF, wallets under review; a refund of another funding takes back its francs', async () => {
    const customer = await createUser(testApp);
    // €20.00: 13 119.14 exact; spread ⌊196.787 1⌋ = 196; customer ⌊12 922.352 9⌋ = 12 922.
    const { view, row } = await fundEur(customer, 2_000);
    expect(row.credit_minor).toBe(12_922n);
    const wallet = customerWalletId(customer.userId, 'XAF');
    const receivable = customerReceivableId(customer.userId, 'XAF');
    expect(await credit(wallet)).toBe(12_922n);
    // Someone's Mobile Money top-up puts francs at CamPay, so a withdrawal can be paid from there.
    const filler = await createUser(testApp);
    expect((await topUp(testApp, filler.accessToken, 20_000, '+237670001234')).statusCode).toBe(202);
    await until(
      () => walletView(testApp, filler.accessToken),
      (view) => view.balanceMinor === 20_000,
      20_000,
    );
    // The customer sends 10 000 francs to Mobile Money (held at once).
    const withdrawn = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 10_000 },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(201);
    const bridgeEurBefore = await credit(fxBridgeId('EUR'));
    const bridgeXafBefore = await debit(fxBridgeId('XAF'));

    const { id } = simulator().raiseChargeback(view.txRef, { status: 'lost' });
    await simulator().drainWebhooks();
    const reversals = async () =>
      (
        await testApp.app.inject({
          method: 'GET',
          url: `/v1/admin/card-fundings/${view.fundingId}/reversals`,
          headers: authHeader(admin.accessToken),
        })
      ).json().items as Record<string, unknown>[];
    const booked = await until(
      reversals,
      (items) => items.length === 1 && items[0]!.status === 'BOOKED',
      20_000,
    );
    expect(booked[0]).toMatchObject({
      reversalId: `chargeback:${id}`,
      amountMinor: 2_000,
      currency: 'EUR',
      walletCurrency: 'XAF',
      walletAmountMinor: 12_922,
    });
    // What the wallet still had available (2 922) comes back; the 10 000 withdrawn is owed.
    expect((await ledger().account(wallet))!.availableMinor).toBe(0n);
    expect(booked[0]).toMatchObject({ walletMinor: 2_922, receivableMinor: 10_000 });
    expect(await debit(receivable)).toBe(10_000n);
    expect((await credit(fxBridgeId('EUR'))) - bridgeEurBefore).toBe(-2_000n);
    expect((await debit(fxBridgeId('XAF'))) - bridgeXafBefore).toBe(-12_922n);
    for (const currency of ['USD', 'XAF']) {
      const state = await testApp.app.inject({
        method: 'GET',
        url: `/v1/wallet?currency=${currency}`,
        headers: authHeader(customer.accessToken),
      });
      expect(state.json().status).toBe('frozen');
    }
    // Again from finance: nothing more.
    await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${view.fundingId}/chargebacks/sync`,
      headers: authHeader(admin.accessToken),
    });
    expect(await debit(receivable)).toBe(10_000n);
    await verified();

    // A refund of part of another customer's EUR funding: €5 of €20 takes ⌊12 922 × 500 / 2 000⌋ = 3 230 francs.
    const other = await createUser(testApp);
    const funded = await fundEur(other, 2_000);
    const refunded = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${funded.view.fundingId}/refunds`,
      headers: { ...authHeader(steppedUp), 'idempotency-key': key() },
      payload: { amountMinor: 500, reason: 'the funder asked' },
    });
    expect(refunded.statusCode, refunded.body).toBe(200);
    expect(refunded.json()).toMatchObject({ status: 'BOOKED', walletAmountMinor: 3_230, walletMinor: 3_230 });
    expect(await credit(customerWalletId(other.userId, 'XAF'))).toBe(12_922n - 3_230n);
    expect(simulator().refundedMinor(funded.view.txRef)).toBe(500n);
    await verified();
  });
});
