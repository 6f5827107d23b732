/**
 * Currency conversion (issue #28) end to end against the Flutterwave simulator: a card funds a
 * USD wallet, a quote at the provider's transfer rate converts part of it to XAF, and an XAF order
 * is paid from it; the split is booked exactly (spread to revenue, rounding to its account, each
 * currency balanced through its FX bridge) and the ledger verifies.
 */
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  fxBridgeId,
  fxRoundingId,
  fxSpreadRevenueId,
} from '../../../ledger/rules/index.js';
import { conversionTerms } from '../../../src/modules/payments/fx/rates.js';
import { MAGIC_CARDS } from '../../../src/modules/payments/simulators/flutterwave.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, until } from './helpers.js';

let world: OrderWorld;
const RATE = '605.25';

beforeAll(async () => {
  world = await listeningPaymentsWorld({ FX_RATE_SOURCE: 'flutterwave', FX_SPREAD_BPS: '150' });
  world.testApp.services.payments.cardProvider.simulator!.setRate('USD', RATE);
}, 60_000);
afterAll(async () => world?.testApp.close());

const app = () => world.testApp.app;
const ledger = () => world.testApp.services.ledger;

/** Funds the customer's USD wallet by card through the simulator's hosted page. */
async function fundByCard(customer: CreatedUser, amountMinor: number): Promise<void> {
  const opened = await app().inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency: 'USD' },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const funding = opened.json() as { fundingId: string; checkoutUrl: string };
  await fetch(funding.checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
  });
  await until(
    async () => (await world.testApp.services.payments.cards.refresh(funding.fundingId))!.status,
    (status) => status !== 'PENDING',
  );
}

async function quote(customer: CreatedUser, payload: unknown, headers: Record<string, string> = {}) {
  return app().inject({
    method: 'POST',
    url: '/v1/wallet/fx/quotes',
    headers: { ...authHeader(customer.accessToken), ...headers },
    payload: payload as Record<string, unknown>,
  });
}

async function convert(customer: CreatedUser, quoteId: unknown, idempotencyKey = key()) {
  return app().inject({
    method: 'POST',
    url: '/v1/wallet/fx/conversions',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': idempotencyKey },
    payload: { quoteId } as Record<string, unknown>,
  });
}

async function net(accountId: string): Promise<bigint> {
  const account = await ledger().account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

describe('currency conversion USD → XAF', () => {
  it('a card funds the USD wallet, a quote converts $25 at the provider rate exactly, and an XAF order is paid from it', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fundByCard(customer, 3_000);
    expect(await net(customerWalletId(customer.userId, 'USD'))).toBe(3_000n);

    const before = {
      bridgeUsd: await net(fxBridgeId('USD')),
      bridgeXaf: await net(fxBridgeId('XAF')),
      spread: await net(fxSpreadRevenueId('XAF')),
      rounding: await net(fxRoundingId('XAF')),
    };
    const quoted = await quote(customer, { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 2_500 });
    expect(quoted.statusCode, quoted.body).toBe(201);
    const terms = conversionTerms(2_500n, 'USD', 'XAF', new Decimal(RATE), 150);
    const view = quoted.json();
    expect(view).toMatchObject({
      status: 'OPEN',
      rate: RATE,
      rateSource: 'flutterwave',
      fromMinor: 2_500,
      toMinor: Number(terms.toMinor),
      spreadMinor: Number(terms.spreadMinor),
      roundingMinor: Number(terms.roundingMinor),
      spreadBps: 150,
    });
    expect(quoted.headers.location).toBe(`/v1/wallet/fx/quotes/${view.quoteId}`);
    expect(Date.parse(view.expiresAt)).toBeGreaterThan(Date.now());

    const converted = await convert(customer, view.quoteId);
    expect(converted.statusCode, converted.body).toBe(200);
    expect(converted.json().status).toBe('CONVERTED');
    // Accepting the same quote again, with another key: booked once.
    const again = await convert(customer, view.quoteId);
    expect(again.json().status).toBe('CONVERTED');

    expect(await net(customerWalletId(customer.userId, 'USD'))).toBe(500n);
    expect(await net(customerWalletId(customer.userId, 'XAF'))).toBe(terms.toMinor);
    expect(await net(fxBridgeId('USD'))).toBe(before.bridgeUsd + 2_500n);
    expect(await net(fxBridgeId('XAF'))).toBe(before.bridgeXaf - terms.bridgeMinor);
    expect(await net(fxSpreadRevenueId('XAF'))).toBe(before.spread + terms.spreadMinor);
    expect(await net(fxRoundingId('XAF'))).toBe(before.rounding + terms.roundingMinor);

    // The statement files the conversion under transfers, in both currencies.
    await world.testApp.services.projections.waitUntilCaughtUp('ledger', 10_000);
    for (const currency of ['USD', 'XAF']) {
      const statement = await app().inject({
        method: 'GET',
        url: `/v1/wallet/transactions?currency=${currency}&category=transfers`,
        headers: authHeader(customer.accessToken),
      });
      expect(statement.statusCode, statement.body).toBe(200);
      expect((statement.json() as { items: unknown[] }).items.length).toBe(1);
    }

    // An XAF order paid from what the conversion brought.
    const order = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
    });
    expect(order.statusCode, order.body).toBe(201);
    expect(order.json().status).toBe('PLACED');
    expect(await net(customerWalletId(customer.userId, 'XAF'))).toBeLessThan(terms.toMinor);

    const report = await ledger().verify({ projections: false });
    expect(report.ok).toBe(true);
  });

  it('the quote keeps the rate it was given: a rate moving afterwards changes nothing booked', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fundByCard(customer, 1_000);
    const view = (
      await quote(customer, { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 1_000 })
    ).json();
    world.testApp.services.payments.cardProvider.simulator!.setRate('USD', '650');
    try {
      expect((await convert(customer, view.quoteId)).statusCode).toBe(200);
      expect(await net(customerWalletId(customer.userId, 'XAF'))).toBe(BigInt(view.toMinor));
    } finally {
      world.testApp.services.payments.cardProvider.simulator!.setRate('USD', RATE);
    }
  });

  it('more than the USD wallet holds: 402 insufficient_funds and nothing moves; the quote stays failed', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fundByCard(customer, 1_000);
    const view = (
      await quote(customer, { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 1_001 })
    ).json();
    const refused = await convert(customer, view.quoteId);
    expect(refused.statusCode).toBe(402);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    expect(refused.json().code).toBe('insufficient_funds');
    expect(await net(customerWalletId(customer.userId, 'USD'))).toBe(1_000n);
    expect(await net(customerWalletId(customer.userId, 'XAF'))).toBe(0n);
    expect((await convert(customer, view.quoteId)).statusCode).toBe(402);
  });

  it('an expired quote is 422 fx_quote_expired and converts nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fundByCard(customer, 1_000);
    const view = (await quote(customer, { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 500 })).json();
    await world.testApp.services.runtime.database.db
      .updateTable('fx_quotes' as never)
      .set({ expires_at: new Date(Date.now() - 1_000) } as never)
      .where('quote_id' as never, '=', view.quoteId as never)
      .execute();
    const expired = await convert(customer, view.quoteId);
    expect(expired.statusCode).toBe(422);
    expect(expired.json().code).toBe('fx_quote_expired');
    expect(await net(customerWalletId(customer.userId, 'USD'))).toBe(1_000n);
  });

  it("another customer's quote is 404 for both reading and accepting; nothing moves", async () => {
    const owner = await createUser(world.testApp, { roles: ['customer'] });
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    await fundByCard(owner, 1_000);
    const view = (await quote(owner, { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 500 })).json();
    expect((await convert(stranger, view.quoteId)).statusCode).toBe(404);
    const read = await app().inject({
      method: 'GET',
      url: `/v1/wallet/fx/quotes/${view.quoteId}`,
      headers: authHeader(stranger.accessToken),
    });
    expect(read.statusCode).toBe(404);
    expect(await net(customerWalletId(owner.userId, 'USD'))).toBe(1_000n);
    const mine = await app().inject({
      method: 'GET',
      url: `/v1/wallet/fx/quotes/${view.quoteId}`,
      headers: authHeader(owner.accessToken),
    });
    expect(mine.json().status).toBe('OPEN');
  });

  it('a quote asked again with the same Idempotency-Key is the same quote', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const idempotencyKey = key();
    const payload = { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 700 };
    const first = await quote(customer, payload, { 'idempotency-key': idempotencyKey });
    const second = await quote(customer, payload, { 'idempotency-key': idempotencyKey });
    expect(second.statusCode).toBe(201);
    expect(second.json().quoteId).toBe(first.json().quoteId);
  });

  it('bad input is 400 problem+json and records nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const count = async () =>
      (
        await world.testApp.services.runtime.database.db
          .selectFrom('fx_quotes' as never)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('user_id' as never, '=', customer.userId as never)
          .executeTakeFirstOrThrow()
      ).n;
    const bodies: unknown[] = [
      null,
      {},
      { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 0 },
      { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: -5 },
      { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: '100' },
      { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 1.5 },
      { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 10 ** 12 },
      { fromCurrency: 'EUR', toCurrency: 'XAF', amountMinor: 100 },
      { fromCurrency: 'XAF', toCurrency: 'USD', amountMinor: 100 },
      { fromCurrency: 'USD\u0000', toCurrency: 'XAF', amountMinor: 100 },
      { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 100, rate: '1000' },
    ];
    for (const body of bodies) {
      const response = await quote(customer, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    for (const quoteId of [null, 'not-a-uuid', 'a'.repeat(10_000), 42]) {
      const response = await convert(customer, quoteId);
      expect(response.statusCode, String(quoteId).slice(0, 20)).toBe(400);
    }
    const noKey = await app().inject({
      method: 'POST',
      url: '/v1/wallet/fx/conversions',
      headers: authHeader(customer.accessToken),
      payload: { quoteId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().code).toBe('idempotency_key_required');
    const anonymous = await app().inject({
      method: 'POST',
      url: '/v1/wallet/fx/quotes',
      payload: { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 100 },
    });
    expect(anonymous.statusCode).toBe(401);
    expect(Number(await count())).toBe(0);
    // One cent at 605.25 less the spread is 5 francs: a quote (too small to give a franc: the fault test).
    expect(
      (await quote(customer, { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 1 })).statusCode,
    ).toBe(201);
  });
});
