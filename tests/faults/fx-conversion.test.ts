/**
 * Fault schedules for the currency conversion money path (issue #28): the process dying after the
 * quote was claimed and before the ledger was asked, or after the ledger booked and before the
 * quote said so; the same quote accepted many times at once; quotes racing for one USD balance;
 * the rate source down. After each schedule: every converted quote booked exactly once, each
 * currency's FX bridge equal to what the converted quotes say, nothing else moved, and the ledger
 * verifies.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, fxBridgeId, worldId } from '../../ledger/rules/index.js';
import {
  conversionTransfers,
  createFxConversion,
  type FxQuoteRow,
} from '../../src/modules/payments/fx-conversion.js';
import { configuredRateSource, flutterwaveRateSource } from '../../src/modules/payments/fx/rates.js';
import { FLUTTERWAVE_SIMULATOR_CREDENTIALS } from '../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';
import { key, paymentsTestApp } from '../integration/payments/helpers.js';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await paymentsTestApp({
    FX_RATE_SOURCE: 'configured',
    FX_USD_XAF_RATE: '601.37',
    FX_SPREAD_BPS: '200',
  });
}, 60_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.runtime.database.db;
const ledger = () => testApp.services.ledger;

async function fundUsd(userId: string, amountMinor: bigint): Promise<void> {
  const [outcome] = await ledger().submit([
    {
      id: `test-fund-usd:${userId}:${randomUUID()}`,
      debitAccountId: worldId('USD'),
      creditAccountId: customerWalletId(userId, 'USD'),
      amountMinor,
      currency: 'USD',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcome!.result).toBe('ok');
}

async function net(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

async function quote(
  customer: CreatedUser,
  amountMinor: number,
): Promise<{ quoteId: string; toMinor: number }> {
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/fx/quotes',
    headers: authHeader(customer.accessToken),
    payload: { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function convert(customer: CreatedUser, quoteId: string, idempotencyKey = key()) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/fx/conversions',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': idempotencyKey },
    payload: { quoteId },
  });
}

async function row(quoteId: string): Promise<FxQuoteRow> {
  return db()
    .selectFrom('fx_quotes' as never)
    .selectAll()
    .where('quote_id' as never, '=', quoteId as never)
    .executeTakeFirstOrThrow() as Promise<FxQuoteRow>;
}

/**
 * The invariants: each customer's USD and XAF wallets hold exactly what their converted quotes
 * say, the bridges moved by exactly the converted quotes' amounts, and the ledger verifies.
 */
async function expectSound(
  customers: { customer: CreatedUser; fundedMinor: bigint; quoteIds: string[] }[],
  bridgesBefore: { usd: bigint; xaf: bigint },
): Promise<void> {
  let usd = 0n;
  let xaf = 0n;
  for (const { customer, fundedMinor, quoteIds } of customers) {
    const rows = await Promise.all(quoteIds.map(row));
    const converted = rows.filter((r) => r.status === 'CONVERTED');
    expect(rows.every((r) => r.status === 'CONVERTED' || r.status === 'FAILED')).toBe(true);
    const fromMinor = converted.reduce((sum, r) => sum + BigInt(r.from_minor), 0n);
    const toMinor = converted.reduce((sum, r) => sum + BigInt(r.to_minor), 0n);
    expect(await net(customerWalletId(customer.userId, 'USD'))).toBe(fundedMinor - fromMinor);
    expect(await net(customerWalletId(customer.userId, 'XAF'))).toBe(toMinor);
    usd += fromMinor;
    xaf += converted.reduce((sum, r) => sum + BigInt(r.bridge_minor), 0n);
  }
  expect(await net(fxBridgeId('USD'))).toBe(bridgesBefore.usd + usd);
  expect(await net(fxBridgeId('XAF'))).toBe(bridgesBefore.xaf - xaf);
  const report = await ledger().verify({ projections: false });
  expect(report.ok).toBe(true);
}

const bridges = async () => ({ usd: await net(fxBridgeId('USD')), xaf: await net(fxBridgeId('XAF')) });

describe('currency conversion under faults', () => {
  it('died after claiming the quote, before asking the ledger: the retry books it, even past the expiry', async () => {
    const before = await bridges();
    const customer = await createUser(testApp);
    await fundUsd(customer.userId, 5_000n);
    const { quoteId } = await quote(customer, 4_321);
    // What the dead process left: the quote claimed, its expiry now passed, nothing booked.
    await db()
      .updateTable('fx_quotes' as never)
      .set({ status: 'CONVERTING', expires_at: new Date(Date.now() - 60_000) } as never)
      .where('quote_id' as never, '=', quoteId as never)
      .execute();
    expect(await net(customerWalletId(customer.userId, 'XAF'))).toBe(0n);
    const retried = await convert(customer, quoteId);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json().status).toBe('CONVERTED');
    await expectSound([{ customer, fundedMinor: 5_000n, quoteIds: [quoteId] }], before);
  });

  it('died after the ledger booked, before the quote said so: the retry books nothing twice', async () => {
    const before = await bridges();
    const customer = await createUser(testApp);
    await fundUsd(customer.userId, 5_000n);
    const { quoteId } = await quote(customer, 3_333);
    await db()
      .updateTable('fx_quotes' as never)
      .set({ status: 'CONVERTING' } as never)
      .where('quote_id' as never, '=', quoteId as never)
      .execute();
    // The chain the dead process had submitted, landed.
    const outcomes = await ledger().submit(conversionTransfers(await row(quoteId)));
    expect(outcomes.every((outcome) => outcome.result === 'ok')).toBe(true);
    const retried = await convert(customer, quoteId);
    expect(retried.statusCode, retried.body).toBe(200);
    await expectSound([{ customer, fundedMinor: 5_000n, quoteIds: [quoteId] }], before);
  });

  it('quotes left CONVERTING with nobody to retry them: the sweep finishes each once (booked, already booked, USD gone), leaves a fresh claim alone', async () => {
    const before = await bridges();
    const customer = await createUser(testApp);
    await fundUsd(customer.userId, 6_000n);
    const beforeLedger = await quote(customer, 1_000);
    const afterLedger = await quote(customer, 2_000);
    const fresh = await quote(customer, 500);
    const claim = async (quoteId: string, expiresAt: Date) =>
      db()
        .updateTable('fx_quotes' as never)
        .set({ status: 'CONVERTING', expires_at: expiresAt } as never)
        .where('quote_id' as never, '=', quoteId as never)
        .execute();
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await claim(beforeLedger.quoteId, longAgo);
    await claim(afterLedger.quoteId, longAgo);
    await claim(fresh.quoteId, new Date(Date.now() + 30_000));
    const landed = await ledger().submit(conversionTransfers(await row(afterLedger.quoteId)));
    expect(landed.every((outcome) => outcome.result === 'ok')).toBe(true);
    // A second customer's claim whose USD was spent meanwhile: the sweep fails it, moves nothing.
    const spender = await createUser(testApp);
    await fundUsd(spender.userId, 1_000n);
    const spent = await quote(spender, 1_000);
    await claim(spent.quoteId, longAgo);
    const [drained] = await ledger().submit([
      {
        id: `test-spend-usd:${spender.userId}`,
        debitAccountId: customerWalletId(spender.userId, 'USD'),
        creditAccountId: worldId('USD'),
        amountMinor: 1_000n,
        currency: 'USD',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(drained!.result).toBe('ok');

    const fx = testApp.services.payments.fx;
    const first = await fx.sweepConverting();
    expect(first.errors).toBe(0);
    expect((await row(beforeLedger.quoteId)).status).toBe('CONVERTED');
    expect((await row(afterLedger.quoteId)).status).toBe('CONVERTED');
    expect((await row(spent.quoteId)).status).toBe('FAILED');
    expect((await row(spent.quoteId)).failure_reason).toBe('insufficient_funds');
    expect((await row(fresh.quoteId)).status).toBe('CONVERTING');
    // Again, and once its claim is old too: nothing twice; the fresh one now finished.
    const later = new Date(Date.now() + 5 * 60_000);
    const second = await fx.sweepConverting(later);
    expect(second).toEqual({ converted: 1, failed: 0, errors: 0 });
    expect(await fx.sweepConverting(later)).toEqual({ converted: 0, failed: 0, errors: 0 });
    await expectSound(
      [
        {
          customer,
          fundedMinor: 6_000n,
          quoteIds: [beforeLedger.quoteId, afterLedger.quoteId, fresh.quoteId],
        },
      ],
      before,
    );
    expect(await net(customerWalletId(spender.userId, 'XAF'))).toBe(0n);
  });

  it('the same quote accepted 12 times at once (same and different keys): booked once, every answer CONVERTED', async () => {
    const before = await bridges();
    const customer = await createUser(testApp);
    await fundUsd(customer.userId, 10_000n);
    const { quoteId } = await quote(customer, 9_999);
    const shared = key();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, index) => convert(customer, quoteId, index % 2 === 0 ? shared : key())),
    );
    for (const answer of answers) {
      // A concurrent replay of the shared key may be told the first request is still running.
      if (answer.statusCode === 409) expect(answer.json().code).toBe('idempotency_in_progress');
      else {
        expect(answer.statusCode, answer.body).toBe(200);
        expect(answer.json().status).toBe('CONVERTED');
      }
    }
    await expectSound([{ customer, fundedMinor: 10_000n, quoteIds: [quoteId] }], before);
  });

  it('ten quotes racing for a USD balance that covers four: exactly four convert, the rest 402, never negative', async () => {
    const before = await bridges();
    const customer = await createUser(testApp);
    await fundUsd(customer.userId, 4_000n);
    const quotes = await Promise.all(Array.from({ length: 10 }, () => quote(customer, 1_000)));
    const answers = await Promise.all(quotes.map(({ quoteId }) => convert(customer, quoteId)));
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(4);
    const refused = answers.filter((answer) => answer.statusCode === 402);
    expect(refused).toHaveLength(6);
    for (const answer of refused) expect(answer.json().code).toBe('insufficient_funds');
    expect(await net(customerWalletId(customer.userId, 'USD'))).toBe(0n);
    await expectSound([{ customer, fundedMinor: 4_000n, quoteIds: quotes.map((q) => q.quoteId) }], before);
  });

  it('the rate source down (503s, garbage): fx_unavailable, no quote recorded; back up, a quote', async () => {
    const simulator = testApp.services.payments.cardProvider.simulator!;
    const fx = createFxConversion({
      db: db() as never,
      ledger: ledger(),
      logger: testApp.services.runtime.logger,
      rates: flutterwaveRateSource({
        baseUrl: simulator.url,
        secretKey: FLUTTERWAVE_SIMULATOR_CREDENTIALS.secretKey,
        timeoutMs: 2_000,
        cacheMs: 0,
      }),
      spreadBps: 150,
      quoteTtlSeconds: 60,
    });
    const userId = randomUUID();
    const count = async () =>
      Number(
        (
          await db()
            .selectFrom('fx_quotes' as never)
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('user_id' as never, '=', userId as never)
            .executeTakeFirstOrThrow()
        ).n,
      );
    for (const mode of ['http_503', 'garbage'] as const) {
      simulator.setOutage(mode);
      await expect(
        fx.quote({ userId, fromCurrency: 'USD', toCurrency: 'XAF', fromMinor: 1_000n }),
      ).rejects.toMatchObject({ code: 'fx_unavailable' });
    }
    simulator.setOutage('none');
    expect(await count()).toBe(0);
    const view = await fx.quote({ userId, fromCurrency: 'USD', toCurrency: 'XAF', fromMinor: 1_000n });
    expect(view.rateSource).toBe('flutterwave');
    expect(await count()).toBe(1);
  });

  it('an amount worth less than a franc after the spread is refused before anything is recorded', async () => {
    const fx = createFxConversion({
      db: db() as never,
      ledger: ledger(),
      logger: testApp.services.runtime.logger,
      rates: configuredRateSource({ usdXaf: '50' }),
      spreadBps: 150,
      quoteTtlSeconds: 60,
    });
    await expect(
      fx.quote({ userId: randomUUID(), fromCurrency: 'USD', toCurrency: 'XAF', fromMinor: 1n }),
    ).rejects.toMatchObject({ code: 'fx_amount_too_small' });
  });
});
