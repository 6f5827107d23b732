/**
 * Fault schedules for EUR card funding (issue #28): a EUR payment converted into the XAF wallet on
 * arrival. Webhooks repeated or out of order racing the payer's return and the verify job; the
 * process dying between the ledger's answer and the funding row; a chargeback announced by a dozen
 * webhooks at once while finance syncs it; a crash after a reversal's split was fixed. After each:
 * every customer holds exactly the francs their fundings' fixed terms credited (less what was
 * taken back), the EUR clearing equals what was paid less fees and reversals, each bridge moved by
 * exactly its side of the conversions, and the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, fxBridgeId, providerClearingId } from '../../ledger/rules/index.js';
import { creditTransfers } from '../../src/modules/payments/card-funding.js';
import type { CardFundingRow } from '../../src/modules/payments/card-funding-repository.js';
import { MAGIC_CARDS, type WebhookMode } from '../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';
import { key, paymentsTestApp, until } from '../integration/payments/helpers.js';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await paymentsTestApp({ FX_SPREAD_BPS: '150' });
}, 60_000);
afterAll(async () => testApp?.close());

const cards = () => testApp.services.payments.cards;
const simulator = () => testApp.services.payments.cardProvider.simulator!;
const ledger = () => testApp.services.ledger;

async function open(customer: CreatedUser, amountMinor: number) {
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency: 'EUR' },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { fundingId: string; txRef: string; checkoutUrl: string };
}

async function pay(checkoutUrl: string, cardNumber: string): Promise<void> {
  await fetch(checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber }),
  });
}

async function row(fundingId: string): Promise<CardFundingRow> {
  return (await testApp.services.runtime.database.db
    .selectFrom('card_fundings' as never)
    .selectAll()
    .where('funding_id' as never, '=', fundingId as never)
    .executeTakeFirstOrThrow()) as CardFundingRow;
}

async function credit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}
async function debit(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.debitsPosted - account.creditsPosted;
}

interface Positions {
  clearing: bigint;
  bridgeEur: bigint;
  bridgeXaf: bigint;
}
async function positions(): Promise<Positions> {
  return {
    clearing: await debit(providerClearingId('flutterwave', 'EUR')),
    bridgeEur: await credit(fxBridgeId('EUR')),
    bridgeXaf: await debit(fxBridgeId('XAF')),
  };
}

/** Each customer holds exactly their credited francs; clearing and bridges moved by exactly the credited rows. */
async function expectSound(before: Positions, credited: { customer: CreatedUser; row: CardFundingRow }[]) {
  for (const { customer } of credited) {
    const expected = credited
      .filter((entry) => entry.customer === customer)
      .reduce((sum, entry) => sum + entry.row.credit_minor!, 0n);
    expect(await credit(customerWalletId(customer.userId, 'XAF'))).toBe(expected);
    expect(await credit(customerWalletId(customer.userId, 'USD'))).toBe(0n);
  }
  const after = await positions();
  const paid = credited.reduce((sum, entry) => sum + entry.row.amount_minor, 0n);
  const fees = credited.reduce((sum, entry) => sum + (entry.row.fee_minor ?? 0n), 0n);
  const bridge = credited.reduce((sum, entry) => sum + entry.row.bridge_minor!, 0n);
  expect(after.clearing - before.clearing).toBe(paid - fees);
  expect(after.bridgeEur - before.bridgeEur).toBe(paid);
  expect(after.bridgeXaf - before.bridgeXaf).toBe(bridge);
  const report = await ledger().verify({ projections: false });
  expect(report.ok).toBe(true);
}

describe('EUR card funding under faults', () => {
  const modes: WebhookMode[] = ['duplicate', 'out_of_order', 'none'];
  for (const mode of modes) {
    it(`webhooks ${mode}, racing the payer's return and two verify reads: each EUR card credited once, in francs`, async () => {
      simulator().setWebhookMode(mode);
      const before = await positions();
      const customers = await Promise.all([0, 1, 2, 3].map(() => createUser(testApp)));
      const opened = [];
      for (const [index, customer] of customers.entries())
        opened.push(await open(customer, 1_000 + index * 137));
      await Promise.all(
        opened.map(async (funding, index) => {
          await pay(funding.checkoutUrl, index === 3 ? MAGIC_CARDS.decline : MAGIC_CARDS.succeed);
          await Promise.all([
            testApp.app.inject({ method: 'GET', url: `/v1/card-fundings/return?tx_ref=${funding.txRef}` }),
            cards().refresh(funding.fundingId),
            cards().refresh(funding.fundingId),
          ]);
        }),
      );
      await simulator().drainWebhooks();
      const rows = await Promise.all(
        opened.map((funding) =>
          until(
            () => row(funding.fundingId),
            (found) => found.status !== 'PENDING',
          ),
        ),
      );
      expect(rows.map((found) => found.status)).toEqual(['CREDITED', 'CREDITED', 'CREDITED', 'FAILED']);
      await expectSound(
        before,
        rows.slice(0, 3).map((found, index) => ({ customer: customers[index]!, row: found })),
      );
      expect(await credit(customerWalletId(customers[3]!.userId, 'XAF'))).toBe(0n);
      simulator().setWebhookMode('normal');
    });
  }

  it('the process died after the ledger credited and before the row said so: the next read books nothing twice', async () => {
    simulator().setWebhookMode('none');
    const before = await positions();
    const customer = await createUser(testApp);
    const funding = await open(customer, 4_321);
    await pay(funding.checkoutUrl, MAGIC_CARDS.succeed);
    const reported = simulator().transaction(funding.txRef)!;
    const feeMinor = BigInt(Math.round(reported.app_fee * 100));
    const pending = await row(funding.fundingId);
    expect(pending.status).toBe('PENDING');
    // What the dead process had submitted: the chain from the terms fixed on the row.
    await ledger().submit(creditTransfers(pending, feeMinor));
    await cards().refresh(funding.fundingId);
    const credited = await row(funding.fundingId);
    expect(credited.status).toBe('CREDITED');
    await expectSound(before, [{ customer, row: credited }]);
    simulator().setWebhookMode('normal');
  });
});

describe('EUR chargebacks under faults', () => {
  it('a dozen chargeback webhooks at once and finance syncing beside them: the francs are taken back once', async () => {
    simulator().setWebhookMode('duplicate');
    const customer = await createUser(testApp);
    const funding = await open(customer, 3_000);
    await pay(funding.checkoutUrl, MAGIC_CARDS.succeed);
    const credited = await until(
      async () => (await cards().refresh(funding.fundingId))!,
      (found) => found.status === 'CREDITED',
      20_000,
    );
    const wallet = customerWalletId(customer.userId, 'XAF');
    expect(await credit(wallet)).toBe(credited.credit_minor);
    const bridgeBefore = await positions();
    const { id } = simulator().raiseChargeback(funding.txRef, { status: 'accepted', amountMinor: 1_000n });
    const reversals = testApp.services.payments.cardReversals;
    await Promise.all([
      simulator().drainWebhooks(),
      ...Array.from({ length: 12 }, () => reversals.syncChargebacks(credited)),
    ]);
    await simulator().drainWebhooks();
    const items = await reversals.list(funding.fundingId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ reversalId: `chargeback:${id}`, status: 'BOOKED' });
    // ⌊credited × 1 000 / 3 000⌋ francs, from the wallet (it holds them all).
    const taken = (credited.credit_minor! * 1_000n) / 3_000n;
    expect(items[0]!.walletAmountMinor).toBe(taken);
    expect(await credit(wallet)).toBe(credited.credit_minor! - taken);
    const after = await positions();
    expect(bridgeBefore.bridgeEur - after.bridgeEur).toBe(1_000n);
    expect(bridgeBefore.bridgeXaf - after.bridgeXaf).toBe(taken);
    expect(after.clearing - bridgeBefore.clearing).toBe(-1_000n);
    expect((await ledger().verify({ projections: false })).ok).toBe(true);
    simulator().setWebhookMode('normal');
  });
});
