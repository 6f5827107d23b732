/**
 * Fault schedules for card refunds and chargebacks (issue #28): a chargeback announced by many
 * webhooks at once, racing the customer spending the wallet; the process dying after the split was
 * fixed, after the ledger booked and before the row said so, after Flutterwave took a refund and
 * before we recorded its answer; the provider down or answering garbage while we read chargebacks;
 * a chargeback (USD, and EUR beyond what a refund left) whose webhook never came, found by the sweep.
 * After each: the reversal booked once (wallet + receivable = what the card got back), the wallet
 * never negative, the clearing account never below zero, and the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerReceivableId,
  customerWalletId,
  fxBridgeId,
  providerClearingId,
} from '../../ledger/rules/index.js';
import { reversalSplit, reversalTransfers } from '../../src/modules/payments/card-reversals.js';
import { createCardReversalsRepository } from '../../src/modules/payments/card-reversals-repository.js';
import type { CardFundingRow } from '../../src/modules/payments/card-funding-repository.js';
import { MAGIC_CARDS } from '../../src/modules/payments/simulators/flutterwave.js';
import type { PaymentsDb } from '../../src/modules/payments/tables.js';
import type { TestApp } from '../helpers/app.js';
import { authHeader, createUser, withStepUp, type CreatedUser } from '../helpers/auth.js';
import { key, paymentsTestApp, topUp, until, wallet } from '../integration/payments/helpers.js';

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
const reversals = () => testApp.services.payments.cardReversals;
const ledger = () => testApp.services.ledger;
const db = () => testApp.services.runtime.database.db as unknown as PaymentsDb;
const CLEARING = providerClearingId('flutterwave', 'USD');

async function fundByCard(
  customer: CreatedUser,
  amountMinor: number,
  currency: 'USD' | 'EUR' = 'USD',
): Promise<CardFundingRow> {
  const opened = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const funding = opened.json() as { fundingId: string; checkoutUrl: string };
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
  return row;
}

async function credit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

async function debit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.debitsPosted - account.creditsPosted;
}

/** The invariants after a schedule. */
async function expectSound(
  customer: CreatedUser,
  walletMinor: bigint,
  receivableMinor: bigint,
): Promise<void> {
  expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(walletMinor);
  expect(await debit(customerReceivableId(customer.userId, 'USD'))).toBe(receivableMinor);
  expect(await debit(CLEARING)).toBeGreaterThanOrEqual(0n);
  const report = await ledger().verify({ projections: false });
  expect(report.ok).toBe(true);
}

async function webhook(payload: unknown) {
  return fetch(`${testApp.services.runtime.config.PUBLIC_BASE_URL}/v1/webhooks/flutterwave`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'verif-hash': 'simulator-flutterwave-verif-hash' },
    body: JSON.stringify(payload),
  });
}

async function reversalRows(fundingId: string) {
  return createCardReversalsRepository(db()).listForFunding(fundingId, 50);
}

async function convert(customer: CreatedUser, amountMinor: number) {
  const quote = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/fx/quotes',
    headers: authHeader(customer.accessToken),
    payload: { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor },
  });
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/fx/conversions',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { quoteId: quote.json().quoteId },
  });
}

describe('card reversals under faults', () => {
  it('twelve webhooks for one chargeback at once, racing the customer converting the wallet: booked once, nothing lost', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 3_000);
    simulator().setWebhookMode('none');
    const { id } = simulator().raiseChargeback(funding.tx_ref, { status: 'lost' });
    const hint = { event: 'chargeback.updated', data: { id, tx_ref: funding.tx_ref, status: 'lost' } };
    const [conversions, ...answers] = await Promise.all([
      Promise.all([convert(customer, 700), convert(customer, 900)]),
      ...Array.from({ length: 12 }, () => webhook(hint)),
    ]);
    simulator().setWebhookMode('normal');
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const rows = await reversalRows(funding.funding_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('BOOKED');
    // Whatever order the conversions and the chargeback took: the wallet and the receivable
    // together give back exactly the $30.00, the customer owes exactly what they converted before
    // the chargeback landed (a conversion after it is refused), and the wallet is left empty.
    expect(rows[0]!.wallet_minor! + rows[0]!.receivable_minor!).toBe(3_000n);
    const converted = conversions.reduce(
      (sum, response, index) => (response.statusCode === 200 ? sum + [700n, 900n][index]! : sum),
      0n,
    );
    for (const response of conversions) expect([200, 402, 422]).toContain(response.statusCode);
    expect(rows[0]!.receivable_minor).toBe(converted);
    await expectSound(customer, 0n, converted);
  });

  it('a refund and a chargeback of one funding at the same moment never take the same remainder twice', async () => {
    // Without one decision at a time per funding, both read "$30.00 left" and took $20.00 + $30.00.
    for (let round = 0; round < 3; round += 1) {
      const customer = await createUser(testApp);
      const funding = await fundByCard(customer, 3_000);
      simulator().setWebhookMode('none');
      const { id } = simulator().raiseChargeback(funding.tx_ref, { status: 'lost', amountMinor: 3_000n });
      const hint = { event: 'chargeback.updated', data: { id, tx_ref: funding.tx_ref, status: 'lost' } };
      const [refund, ...answers] = await Promise.all([
        testApp.app.inject({
          method: 'POST',
          url: `/v1/admin/card-fundings/${funding.funding_id}/refunds`,
          headers: { ...authHeader(steppedUp), 'idempotency-key': key() },
          payload: { amountMinor: 2_000, reason: 'race test' },
        }),
        ...Array.from({ length: 4 }, () => webhook(hint)),
      ]);
      simulator().setWebhookMode('normal');
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      // The refund came first ($20.00, then the chargeback takes the $10.00 left), or the chargeback
      // took it all first and the refund is refused: never more than the $30.00 credited.
      expect([200, 422], refund.body).toContain(refund.statusCode);
      await reversals().sync(funding.funding_id);
      const rows = (await reversalRows(funding.funding_id)).filter((row) => row.status !== 'FAILED');
      const reversed = rows.reduce((sum, row) => sum + row.amount_minor, 0n);
      expect(reversed).toBe(3_000n);
      expect(rows.every((row) => row.status === 'BOOKED')).toBe(true);
      expect(rows).toHaveLength(refund.statusCode === 200 ? 2 : 1);
      await expectSound(customer, 0n, 0n);
    }
  });

  it('the process died after fixing the split and before the ledger: the next hint books that split', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 1_200);
    simulator().setWebhookMode('none');
    const { id } = simulator().raiseChargeback(funding.tx_ref, { status: 'accepted', amountMinor: 500n });
    const repository = createCardReversalsRepository(db());
    const reversalId = `chargeback:${id}`;
    await repository.insert({
      reversalId,
      fundingId: funding.funding_id,
      kind: 'chargeback',
      amountMinor: 500n,
      currency: 'USD',
      providerReference: String(id),
      reason: null,
      requestedBy: null,
    });
    await repository.fixSplit(reversalId, reversalSplit(500n, 1_200n, await debit(CLEARING)));
    const answer = await webhook({ event: 'chargeback.updated', data: { id, tx_ref: funding.tx_ref } });
    expect(answer.status).toBe(200);
    simulator().setWebhookMode('normal');
    expect((await repository.find(reversalId))!.status).toBe('BOOKED');
    await expectSound(customer, 700n, 0n);
  });

  it('the process died after the ledger booked and before the row said so: the next hint books nothing twice', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 1_000);
    simulator().setWebhookMode('none');
    const { id } = simulator().raiseChargeback(funding.tx_ref, { status: 'lost' });
    const repository = createCardReversalsRepository(db());
    const reversalId = `chargeback:${id}`;
    await repository.insert({
      reversalId,
      fundingId: funding.funding_id,
      kind: 'chargeback',
      amountMinor: 1_000n,
      currency: 'USD',
      providerReference: String(id),
      reason: null,
      requestedBy: null,
    });
    const split = reversalSplit(1_000n, 1_000n, await debit(CLEARING));
    await repository.fixSplit(reversalId, split);
    const row = (await repository.find(reversalId))!;
    // What the dead process had submitted.
    const outcomes = await ledger().submit(reversalTransfers(funding, row, split));
    expect(outcomes.every((outcome) => outcome.result === 'ok')).toBe(true);
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(0n);
    await Promise.all([
      webhook({ event: 'chargeback.updated', data: { id, tx_ref: funding.tx_ref } }),
      reversals().sync(funding.funding_id),
    ]);
    simulator().setWebhookMode('normal');
    expect((await repository.find(reversalId))!.status).toBe('BOOKED');
    await expectSound(customer, 0n, 0n);
  });

  it('Flutterwave took a refund and its answer was lost: never asked again and nothing booked for it; the answered refund books once', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 900);
    const idempotencyKey = key();
    // The request reached Flutterwave and the process died before recording its answer: the row
    // is ASKED without a reference, and the card was refunded once.
    const repository = createCardReversalsRepository(db());
    const first = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${funding.funding_id}/refunds`,
      headers: { ...authHeader(steppedUp), 'idempotency-key': idempotencyKey },
      payload: { amountMinor: 400, reason: 'crash test: answer lost' },
    });
    expect(first.statusCode, first.body).toBe(200);
    const reversalId = first.json().reversalId as string;
    // Replays the crash on a second refund: ASKED, provider called, no reference recorded.
    const secondKey = key();
    const other = `refund:lost-${secondKey}`.slice(0, 100);
    await repository.insert({
      reversalId: other,
      fundingId: funding.funding_id,
      kind: 'refund',
      amountMinor: 300n,
      currency: 'USD',
      providerReference: null,
      reason: 'answer lost',
      requestedBy: admin.userId,
    });
    expect(await repository.markAsked(other)).toBe(true);
    await testApp.services.payments.cardProvider.provider!.refund(
      funding.provider_transaction_id!,
      300n,
      'USD',
    );
    expect(simulator().refundedMinor(funding.tx_ref)).toBe(700n);
    // Anything that reads the funding again books only what it knows Flutterwave took.
    await reversals().sync(funding.funding_id);
    expect((await repository.find(other))!.status).toBe('ASKED');
    expect((await repository.find(reversalId))!.status).toBe('BOOKED');
    expect(simulator().refundedMinor(funding.tx_ref)).toBe(700n);
    await expectSound(customer, 500n, 0n);
    // Finance checked Flutterwave's dashboard: the $3.00 went back to the card; resolving books it once.
    const resolve = () =>
      testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/card-fundings/${funding.funding_id}/refunds/${encodeURIComponent(other)}/resolve`,
        headers: authHeader(steppedUp),
        payload: { outcome: 'refunded', providerReference: '7000099', reason: 'seen on the dashboard' },
      });
    const resolved = await resolve();
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toMatchObject({ status: 'BOOKED', walletMinor: 300 });
    expect((await resolve()).json().code).toBe('card_refund_not_in_review');
    await expectSound(customer, 200n, 0n);
  });

  it('a refund asked while Flutterwave is down: 502, not asked again on retry (409 outcome unknown), nothing moved', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 600);
    const idempotencyKey = key();
    const ask = () =>
      testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/card-fundings/${funding.funding_id}/refunds`,
        headers: { ...authHeader(steppedUp), 'idempotency-key': idempotencyKey },
        payload: { amountMinor: 600, reason: 'provider down' },
      });
    simulator().setOutage('http_503');
    const failed = await ask();
    simulator().setOutage('none');
    expect(failed.statusCode).toBe(502);
    const retried = await ask();
    expect([409, 502]).toContain(retried.statusCode);
    const direct = await reversals()
      .refund({
        fundingId: funding.funding_id,
        adminId: admin.userId,
        amountMinor: 600n,
        reason: 'provider down',
        idempotencyKey,
      })
      .catch((error: { code?: string }) => error.code);
    expect(direct).toBe('card_refund_outcome_unknown');
    expect(simulator().refundedMinor(funding.tx_ref)).toBe(0n);
    await expectSound(customer, 600n, 0n);
    // Finance found nothing at Flutterwave: the refund fails, nothing moves, and a new one may be asked.
    const [row] = await reversalRows(funding.funding_id);
    const resolved = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${funding.funding_id}/refunds/${encodeURIComponent(row!.reversal_id)}/resolve`,
      headers: authHeader(steppedUp),
      payload: { outcome: 'not_refunded', reason: 'not on the dashboard' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json().status).toBe('FAILED');
    await expectSound(customer, 600n, 0n);
  });

  it('the provider answers garbage while chargebacks are read: a problem, nothing booked; read again later, booked once', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 800);
    simulator().setWebhookMode('none');
    const { id } = simulator().raiseChargeback(funding.tx_ref, { status: 'lost' });
    simulator().setOutage('garbage');
    const hint = await webhook({ event: 'chargeback.updated', data: { id, tx_ref: funding.tx_ref } });
    simulator().setOutage('none');
    expect(hint.status).toBe(502);
    expect(await reversalRows(funding.funding_id)).toHaveLength(0);
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(800n);
    const again = await webhook({ event: 'chargeback.updated', data: { id, tx_ref: funding.tx_ref } });
    expect(again.status).toBe(200);
    simulator().setWebhookMode('normal');
    await expectSound(customer, 0n, 0n);
  });

  it('a chargeback whose webhook never came: the sweep finds it in the period list and books it once; a won one and a pending one take nothing; the provider down fails the run, nothing booked', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 900);
    const untouched = await createUser(testApp);
    const wonFunding = await fundByCard(untouched, 700);
    const pendingFunding = await fundByCard(untouched, 300);
    simulator().setWebhookMode('none');
    simulator().raiseChargeback(funding.tx_ref, { status: 'accepted', amountMinor: 600n });
    simulator().raiseChargeback(wonFunding.tx_ref, { status: 'won' });
    simulator().raiseChargeback(pendingFunding.tx_ref, { status: 'pending' });
    simulator().setWebhookMode('normal');
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(900n);

    simulator().setOutage('http_503');
    await expect(reversals().sweepChargebacks()).rejects.toThrow();
    simulator().setOutage('none');
    expect(await reversalRows(funding.funding_id)).toHaveLength(0);

    const first = await reversals().sweepChargebacks();
    expect(first.errors).toBe(0);
    expect(first.booked).toBeGreaterThanOrEqual(1);
    const again = await reversals().sweepChargebacks();
    expect(again.booked).toBe(0);
    const rows = await reversalRows(funding.funding_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'chargeback', status: 'BOOKED' });
    await expectSound(customer, 300n, 0n);
    expect(await credit(customerWalletId(untouched.userId, 'USD'))).toBe(1_000n);
    expect(await reversalRows(wonFunding.funding_id)).toHaveLength(0);
    expect(await reversalRows(pendingFunding.funding_id)).toHaveLength(0);
  });

  it('a EUR chargeback whose webhook never came, larger than what is left after a refund: the sweep takes back what is left once, in francs from the XAF wallet and the rest owed, wallets under review; every currency balances', async () => {
    const customer = await createUser(testApp);
    const funding = await fundByCard(customer, 2_000, 'EUR');
    expect(funding).toMatchObject({ currency: 'EUR', status: 'CREDITED' });
    const credited = funding.credit_minor!;
    const xafWallet = customerWalletId(customer.userId, 'XAF');
    const receivable = customerReceivableId(customer.userId, 'XAF');
    expect(await credit(xafWallet)).toBe(credited);
    // Finance refunds €5.00 of the €20.00 through our flow: ⌊francs × 500 / 2 000⌋ go back.
    const refunded = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${funding.funding_id}/refunds`,
      headers: { ...authHeader(steppedUp), 'idempotency-key': key() },
      payload: { amountMinor: 500, reason: 'the funder asked' },
    });
    expect(refunded.statusCode, refunded.body).toBe(200);
    const refundFrancs = (credited * 500n) / 2_000n;
    expect(refunded.json()).toMatchObject({ status: 'BOOKED', walletAmountMinor: Number(refundFrancs) });
    // Someone's Mobile Money top-up puts francs at CamPay; the customer sends 8 000 of theirs there.
    const filler = await createUser(testApp);
    expect((await topUp(testApp, filler.accessToken, 20_000, '+237670001234')).statusCode).toBe(202);
    await until(
      () => wallet(testApp, filler.accessToken),
      (view) => view.balanceMinor === 20_000,
      20_000,
    );
    const withdrawn = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 8_000 },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(201);
    const availableBefore = (await ledger().account(xafWallet))!.availableMinor;
    expect(availableBefore).toBe(credited - refundFrancs - 8_000n);
    const bridgeEurBefore = await credit(fxBridgeId('EUR'));

    // The bank takes the whole €20.00 back; no webhook comes.
    simulator().setWebhookMode('none');
    const chargeback = simulator().raiseChargeback(funding.tx_ref, { status: 'lost', amountMinor: 2_000n });
    simulator().setWebhookMode('normal');
    expect(await reversalRows(funding.funding_id)).toHaveLength(1); // the refund only

    const first = await reversals().sweepChargebacks();
    expect(first.errors).toBe(0);
    expect(first.booked).toBeGreaterThanOrEqual(1);
    const again = await reversals().sweepChargebacks();
    expect(again.booked).toBe(0);
    const rows = await reversalRows(funding.funding_id);
    expect(rows).toHaveLength(2);
    const booked = rows.find((row) => row.reversal_id === `chargeback:${chargeback.id}`)!;
    // Only the €15.00 left of the funding, and every franc it credited that the refund did not take.
    const leftFrancs = credited - refundFrancs;
    expect(booked).toMatchObject({
      kind: 'chargeback',
      status: 'BOOKED',
      currency: 'EUR',
      amount_minor: 1_500n,
      wallet_amount_minor: leftFrancs,
      wallet_minor: availableBefore,
      receivable_minor: leftFrancs - availableBefore,
    });
    expect((await ledger().account(xafWallet))!.availableMinor).toBe(0n);
    expect(await debit(receivable)).toBe(leftFrancs - availableBefore);
    expect(bridgeEurBefore - (await credit(fxBridgeId('EUR')))).toBe(1_500n);
    for (const currency of ['USD', 'XAF']) {
      const view = await testApp.app.inject({
        method: 'GET',
        url: `/v1/wallet?currency=${currency}`,
        headers: authHeader(customer.accessToken),
      });
      expect(view.json().status, currency).toBe('frozen');
    }
    const report = await ledger().verify({ projections: false });
    expect(report.ok, JSON.stringify(report.mismatches)).toBe(true);
    for (const currency of ['XAF', 'USD', 'EUR'] as const) {
      const line = report.trialBalance[currency];
      expect(line.debitsPosted, currency).toBe(line.creditsPosted);
    }
    expect(await debit(providerClearingId('flutterwave', 'EUR'))).toBeGreaterThanOrEqual(0n);
  });
});
