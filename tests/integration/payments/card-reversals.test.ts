/**
 * Card refunds and chargebacks (issue #28) against the Flutterwave simulator, the app's webhook
 * route and the real ledger: the wallet gives back what it holds, what was spent becomes the
 * customer's receivable (their wallets under review), what the provider keeps of its fee is owed
 * to it, and the clearing account never goes negative. Each figure below is checked in the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerReceivableId,
  customerWalletId,
  providerClearingId,
  providerPayableId,
} from '../../../ledger/rules/index.js';
import { MAGIC_CARDS } from '../../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser, withStepUp, type CreatedUser } from '../../helpers/auth.js';
import { key, paymentsTestApp, until } from './helpers.js';

let testApp: TestApp;
let admin: CreatedUser;
/** The admin's token after a TOTP step-up (refunds and their resolution ask for one). */
let steppedUp: string;

beforeAll(async () => {
  testApp = await paymentsTestApp();
  admin = await createUser(testApp, { roles: ['admin'] });
  steppedUp = await withStepUp(testApp, admin);
}, 60_000);
afterAll(async () => testApp?.close());

const simulator = () => testApp.services.payments.cardProvider.simulator!;
const ledger = () => testApp.services.ledger;

interface Funded {
  fundingId: string;
  txRef: string;
  feeMinor: bigint;
}

/** A card pays `amountMinor` into the customer's USD wallet through the hosted page. */
async function fundByCard(customer: CreatedUser, amountMinor: number): Promise<Funded> {
  const opened = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency: 'USD' },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const funding = opened.json() as { fundingId: string; txRef: string; checkoutUrl: string };
  await fetch(funding.checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
  });
  const row = await until(
    async () => (await testApp.services.payments.cards.refresh(funding.fundingId))!,
    (found) => found.status !== 'PENDING',
  );
  expect(row.status).toBe('CREDITED');
  return { fundingId: funding.fundingId, txRef: funding.txRef, feeMinor: row.fee_minor! };
}

/** Credit-normal balance (wallets, payables). */
async function credit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

/** Debit-normal balance (clearing, receivables). */
async function debit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.debitsPosted - account.creditsPosted;
}

const CLEARING = providerClearingId('flutterwave', 'USD');
const PAYABLE = providerPayableId('flutterwave', 'USD');

async function refund(fundingId: string, amountMinor: number, idempotencyKey = key(), token = steppedUp) {
  return testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/card-fundings/${fundingId}/refunds`,
    headers: { ...authHeader(token), 'idempotency-key': idempotencyKey },
    payload: { amountMinor, reason: 'customer asked, goods not needed' },
  });
}

async function reversals(fundingId: string) {
  const response = await testApp.app.inject({
    method: 'GET',
    url: `/v1/admin/card-fundings/${fundingId}/reversals`,
    headers: authHeader(admin.accessToken),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().items as { reversalId: string; status: string; kind: string; amountMinor: number }[];
}

async function verified(): Promise<void> {
  const report = await ledger().verify({ projections: false });
  expect(report.ok).toBe(true);
  expect(await debit(CLEARING)).toBeGreaterThanOrEqual(0n);
}

describe('card refunds', () => {
  it('a finance admin refunds part, then the rest: the wallet gives it back, the kept fee is owed to Flutterwave, once per key', async () => {
    const customer = await createUser(testApp);
    const clearingBefore = await debit(CLEARING);
    const payableBefore = await credit(PAYABLE);
    const funded = await fundByCard(customer, 2_500);
    expect(funded.feeMinor).toBe(95n); // 3.8 % of $25.00
    const wallet = customerWalletId(customer.userId, 'USD');
    expect(await credit(wallet)).toBe(2_500n);

    const idempotencyKey = key();
    const first = await refund(funded.fundingId, 1_000, idempotencyKey);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      kind: 'refund',
      status: 'BOOKED',
      amountMinor: 1_000,
      walletMinor: 1_000,
      receivableMinor: 0,
    });
    // The same request again: the same refund, nothing moves twice, Flutterwave asked once.
    const again = await refund(funded.fundingId, 1_000, idempotencyKey);
    expect(again.json().reversalId).toBe(first.json().reversalId);
    expect(simulator().refundedMinor(funded.txRef)).toBe(1_000n);
    expect(await credit(wallet)).toBe(1_500n);

    // More than is left of the funding: refused, nothing moves.
    const tooMuch = await refund(funded.fundingId, 1_501);
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json().code).toBe('card_refund_exceeds_funding');
    expect(await credit(wallet)).toBe(1_500n);

    // The rest: Flutterwave gives back $15.00 but kept its $0.95 fee, so the clearing account (this
    // suite's own, first used here) holds $14.05: the $0.95 it cannot give is owed to Flutterwave.
    expect(clearingBefore).toBe(0n);
    expect(await debit(CLEARING)).toBe(1_405n);
    const rest = await refund(funded.fundingId, 1_500);
    expect(rest.statusCode, rest.body).toBe(200);
    const expectedGap = 95n;
    expect(BigInt(rest.json().providerGapMinor)).toBe(expectedGap);
    expect(await credit(wallet)).toBe(0n);
    expect(simulator().refundedMinor(funded.txRef)).toBe(2_500n);
    expect(await debit(CLEARING)).toBe(clearingBefore + 2_405n - 2_500n + expectedGap);
    expect(await credit(PAYABLE)).toBe(payableBefore + expectedGap);
    expect((await reversals(funded.fundingId)).map((item) => item.status)).toEqual(['BOOKED', 'BOOKED']);
    await verified();
  });

  it('a whole refund from an empty clearing account: the kept fee is owed to Flutterwave and the clearing ends at zero', async () => {
    expect(await debit(CLEARING)).toBe(0n); // the previous test gave everything back
    const customer = await createUser(testApp);
    const funded = await fundByCard(customer, 1_000);
    expect(await debit(CLEARING)).toBe(962n); // $10.00 less the $0.38 fee
    const payableBefore = await credit(PAYABLE);
    const response = await refund(funded.fundingId, 1_000);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ walletMinor: 1_000, receivableMinor: 0, providerGapMinor: 38 });
    expect(await credit(PAYABLE)).toBe(payableBefore + 38n);
    expect(await debit(CLEARING)).toBe(0n);
    await verified();
  });

  it('refusals: not a finance admin or no step-up 403, unknown funding 404, more than the wallet holds 422, a card not credited 409', async () => {
    const customer = await createUser(testApp);
    const funded = await fundByCard(customer, 800);
    expect((await refund(funded.fundingId, 100, key(), customer.accessToken)).statusCode).toBe(403);
    // A finance admin without a fresh TOTP step-up is refused too (money leaving to a card).
    const noStepUp = await refund(funded.fundingId, 100, key(), admin.accessToken);
    expect(noStepUp.statusCode).toBe(403);
    expect(noStepUp.json().code).toBe('step_up_required');
    const unknown = await refund('7d1c8f59-2b4e-4d1a-9b3e-1f2a3b4c5d6e', 100);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('card_funding_not_found');
    // Converting $5.00 to XAF leaves $3.00 in the USD wallet: a refund of $4.00 is refused.
    const quote = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/fx/quotes',
      headers: authHeader(customer.accessToken),
      payload: { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 500 },
    });
    expect(quote.statusCode, quote.body).toBe(201);
    const converted = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/fx/conversions',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { quoteId: quote.json().quoteId },
    });
    expect(converted.statusCode, converted.body).toBe(200);
    const overWallet = await refund(funded.fundingId, 400);
    expect(overWallet.statusCode).toBe(422);
    expect(overWallet.json()).toMatchObject({
      code: 'card_refund_exceeds_wallet',
      walletAvailableMinor: 300,
    });
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(300n);
    expect(simulator().refundedMinor(funded.txRef)).toBe(0n);

    const declined = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/card-fundings',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 600, currency: 'USD' },
    });
    const open = declined.json() as { fundingId: string };
    const notCredited = await refund(open.fundingId, 100);
    expect(notCredited.statusCode).toBe(409);
    expect(notCredited.json().code).toBe('card_funding_not_refundable');
  });
});

describe('card chargebacks', () => {
  it('a chargeback beyond what the wallet holds: the wallet gives back what is left, the customer owes the rest, wallets under review; repeated webhooks book it once', async () => {
    const customer = await createUser(testApp);
    const funded = await fundByCard(customer, 2_000);
    // The customer converts $12.00 to XAF (spent from the USD wallet) before the bank takes it back.
    const quote = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/fx/quotes',
      headers: authHeader(customer.accessToken),
      payload: { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 1_200 },
    });
    await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/fx/conversions',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { quoteId: quote.json().quoteId },
    });
    const wallet = customerWalletId(customer.userId, 'USD');
    const receivable = customerReceivableId(customer.userId, 'USD');
    expect(await credit(wallet)).toBe(800n);

    // A dispute opens (a lien at Flutterwave): nothing is taken back yet.
    simulator().setWebhookMode('duplicate');
    const { id } = simulator().raiseChargeback(funded.txRef, { status: 'pending' });
    await simulator().drainWebhooks();
    expect(await reversals(funded.fundingId)).toEqual([]);
    expect(await credit(wallet)).toBe(800n);

    // The bank wins: the whole $20.00 goes back to the card; webhooks come twice, then again.
    simulator().raiseChargeback(funded.txRef, { id, status: 'lost' });
    simulator().setWebhookMode('out_of_order');
    simulator().raiseChargeback(funded.txRef, { id, status: 'lost' });
    await simulator().drainWebhooks();
    const booked = await until(
      () => reversals(funded.fundingId),
      (items) => items.length === 1 && items[0]!.status === 'BOOKED',
      20_000,
    );
    simulator().setWebhookMode('normal');
    expect(booked[0]).toMatchObject({
      reversalId: `chargeback:${id}`,
      kind: 'chargeback',
      amountMinor: 2_000,
    });
    expect(await credit(wallet)).toBe(0n);
    expect(await debit(receivable)).toBe(1_200n);

    // Under review: both wallets frozen, so the XAF the customer converted cannot be spent.
    for (const currency of ['USD', 'XAF']) {
      const view = await testApp.app.inject({
        method: 'GET',
        url: `/v1/wallet?currency=${currency}`,
        headers: authHeader(customer.accessToken),
      });
      expect(view.json().status).toBe('frozen');
    }
    // A finance admin asking again books nothing more.
    const sync = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${funded.fundingId}/chargebacks/sync`,
      headers: authHeader(admin.accessToken),
    });
    expect(sync.statusCode, sync.body).toBe(200);
    expect(sync.json().items).toHaveLength(1);
    expect(await debit(receivable)).toBe(1_200n);
    expect(await credit(wallet)).toBe(0n);
    await verified();
  });

  it('a chargeback the merchant wins takes nothing back; a partial one covered by the wallet leaves it active', async () => {
    const customer = await createUser(testApp);
    const funded = await fundByCard(customer, 1_500);
    simulator().raiseChargeback(funded.txRef, { status: 'won' });
    await simulator().drainWebhooks();
    const partial = simulator().raiseChargeback(funded.txRef, { status: 'accepted', amountMinor: 600n });
    await simulator().drainWebhooks();
    await until(
      () => reversals(funded.fundingId),
      (items) => items.some((item) => item.status === 'BOOKED'),
      20_000,
    );
    const items = await reversals(funded.fundingId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ reversalId: `chargeback:${partial.id}`, amountMinor: 600 });
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(900n);
    expect(await debit(customerReceivableId(customer.userId, 'USD'))).toBe(0n);
    const view = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet?currency=USD',
      headers: authHeader(customer.accessToken),
    });
    expect(view.json().status).toBe('active');
    await verified();
  });
});
