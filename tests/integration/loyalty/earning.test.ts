import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerPointsId, pointsIssuanceId } from '../../../ledger/rules/index.js';
import { AWARD_REACTOR } from '../../../src/modules/loyalty/index.js';
import { act, getOrder, type OrderWorld } from '../orders/helpers.js';
import { deliveredOrder, fundedCustomer, loyaltyOf, until, loyaltyWorld } from './helpers.js';

let world: OrderWorld;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_SILVER_POINTS: '30',
    LOYALTY_GOLD_POINTS: '1000',
    LOYALTY_MULTIPLIER_SILVER: '1.25',
    LOYALTY_POINTS_EXPIRY_DAYS: '365',
  });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const points = async (userId: string) =>
  (await services().ledger.account(customerPointsId(userId)))?.creditsPosted ?? 0n;
/** Completes every delivered order whose dispute window closed (the orders' own sweep, 25 h on). */
const completeDelivered = () => services().orders.orders.sweep(new Date(Date.now() + 25 * 3_600_000));
/** Sweeps until this order is COMPLETED (the sweep reads the orders' read model, which may lag). */
const complete = (orderId: string) =>
  until(
    async () => {
      await completeDelivered();
      return (await getOrder(world, orderId, world.support.accessToken)).json().status;
    },
    (status) => status === 'COMPLETED',
  );
const awardEntries = async (orderId: string) =>
  (
    await sql<{ count: string }>`SELECT count(*)::text AS count FROM ledger_entries
      WHERE transfer_id = ${`points-award:${orderId}`} AND account_id = ${pointsIssuanceId()}`.execute(
      services().db,
    )
  ).rows[0]!.count;

describe('loyalty: earning on final orders', () => {
  it('a completed order earns 1 point per 100 XAF of food once; the reactor replayed from the start books nothing more', async () => {
    const customer = await fundedCustomer(world);
    const order = await deliveredOrder(world, customer.accessToken);
    expect(await points(customer.userId)).toBe(0n); // delivered is not final: the dispute window is open
    await complete(order.id);
    await until(
      () => points(customer.userId),
      (value) => value === 25n,
    ); // 2 500 XAF of food; the 100 tip and fees earn nothing
    await until(
      () => awardEntries(order.id),
      (count) => count === '1',
    );

    // Handled again directly: the recorded decision is booked again and the ledger answers exists.
    expect(await services().loyalty.awardOrder(order.id, { type: 'OrderCompleted', at: new Date() })).toBe(
      'exists',
    );
    // The reactor replayed from the start: it sees the event again and books nothing.
    const seen = new Promise<string>((resolve) =>
      services().loyalty.onAward((orderId, outcome) => {
        if (orderId === order.id) resolve(outcome);
      }),
    );
    await services().loyalty.stop();
    await services().db.deleteFrom('loyalty_reactor_checkpoints').where('name', '=', AWARD_REACTOR).execute();
    await services().loyalty.start();
    expect(await seen).toBe('exists');
    expect(await points(customer.userId)).toBe(25n);
    expect(await awardEntries(order.id)).toBe('1');
  });

  it('an order refunded in full after a dispute earns nothing; a partial refund earns on the food kept', async () => {
    const customer = await fundedCustomer(world);
    const refunded = await deliveredOrder(world, customer.accessToken);
    const partial = await deliveredOrder(world, customer.accessToken);
    const handled = new Map<string, string>();
    services().loyalty.onAward((orderId, outcome) => handled.set(orderId, outcome));
    for (const [order, refundMinor] of [
      [refunded, refunded.pricing.totalMinor],
      [partial, 1_000],
    ] as const) {
      expect(
        (await act(world, order.id, 'dispute', customer.accessToken, { reason: 'cold' })).statusCode,
      ).toBe(200);
      const resolved = await act(world, order.id, 'resolve', world.support.accessToken, {
        refundMinor,
        note: 'refund',
      });
      expect(resolved.statusCode, resolved.body).toBe(200);
    }
    await until(
      async () => handled,
      (map) => map.has(refunded.id) && map.has(partial.id),
    );
    expect(handled.get(refunded.id)).toBe('nothing');
    expect(await awardEntries(refunded.id)).toBe('0');
    // 2 500 of food − 1 000 refunded = 1 500 kept → 15 points
    expect(await points(customer.userId)).toBe(15n);
    // A disputed order never completes: the sweep leaves it, so it cannot earn a second time.
    await completeDelivered();
    expect(await points(customer.userId)).toBe(15n);
  });

  it('GET /v1/loyalty shows balance, tier with progress and history from the ledger; tiers raise the multiplier', async () => {
    const customer = await fundedCustomer(world);
    const earned: bigint[] = [];
    for (let index = 0; index < 3; index += 1) {
      const before = await points(customer.userId);
      const order = await deliveredOrder(world, customer.accessToken);
      await complete(order.id);
      await until(
        () => points(customer.userId),
        (value) => value > before,
      );
      earned.push((await points(customer.userId)) - before);
      // The tier reads the ledger's read model: wait until it shows this award before the next order.
      await until(
        async () => (await loyaltyOf(world, customer.accessToken)).json(),
        (body) => body.history.items.some((item: { orderId: string }) => item.orderId === order.id),
      );
    }
    // bronze ×1, bronze ×1 (25 < 30), then silver (50 ≥ 30) ×1.25 = 31.25 → 31
    expect(earned).toEqual([25n, 25n, 31n]);
    const response = await loyaltyOf(world, customer.accessToken, '?limit=2');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      balance: 81,
      held: 0,
      tier: 'silver',
      multiplier: '1.25',
      earnedLast12Months: 81,
      nextTier: { tier: 'gold', threshold: 1000, pointsNeeded: 919 },
      nextExpiry: { points: 81 },
    });
    expect(Date.parse(body.nextExpiry.at)).toBeGreaterThan(Date.now() + 364 * DAY_MS);
    expect(body.history.items).toHaveLength(2);
    expect(body.history.items.map((item: { points: number }) => item.points)).toEqual([31, 25]);
    expect(body.history.items[0]).toMatchObject({ kind: 'earned', direction: 'in' });
    const next = await loyaltyOf(world, customer.accessToken, `?limit=2&cursor=${body.history.nextCursor}`);
    expect(next.json().history).toMatchObject({ items: [{ points: 25, kind: 'earned' }], nextCursor: null });

    // Bad input: a forged cursor, a limit out of range, no token, a driver's token.
    expect((await loyaltyOf(world, customer.accessToken, '?cursor=bm9wZQ')).json().code).toBe(
      'invalid_cursor',
    );
    expect((await loyaltyOf(world, customer.accessToken, '?limit=0')).statusCode).toBe(400);
    expect((await loyaltyOf(world, customer.accessToken, '?limit=abc')).statusCode).toBe(400);
    expect((await world.testApp.app.inject({ method: 'GET', url: '/v1/loyalty' })).statusCode).toBe(401);
    expect((await loyaltyOf(world, world.driver.accessToken)).statusCode).toBe(403);
  });

  it('points expire after LOYALTY_POINTS_EXPIRY_DAYS: once per customer and period, back to issuance', async () => {
    const customer = await fundedCustomer(world);
    await complete((await deliveredOrder(world, customer.accessToken)).id);
    await until(
      () => points(customer.userId),
      (value) => value === 25n,
    );
    await until(
      async () => (await loyaltyOf(world, customer.accessToken)).json().history.items.length,
      (count) => count === 1,
    );
    const { loyalty, ledger } = services();
    // Within the period nothing is due.
    expect((await loyalty.expirePoints(new Date(Date.now() + 300 * DAY_MS))).expired).toBe(0);
    const later = new Date(Date.now() + 367 * DAY_MS);
    const first = await loyalty.expirePoints(later);
    expect(first.expired).toBeGreaterThanOrEqual(1);
    const account = await ledger.account(customerPointsId(customer.userId));
    expect(account!.availableMinor).toBe(0n);
    // The same period again, before and after the read model caught up: nothing more.
    await loyalty.expirePoints(later);
    const body = await until(
      async () => (await loyaltyOf(world, customer.accessToken)).json(),
      (view) => view.history.items.length === 2,
    );
    expect(body).toMatchObject({ balance: 0, nextExpiry: null });
    expect(body.history.items[0]).toMatchObject({ kind: 'expired', direction: 'out', points: 25 });
    expect((await loyalty.expirePoints(later)).expired).toBe(0);
    expect((await ledger.account(customerPointsId(customer.userId)))!.debitsPosted).toBe(25n);
    const report = await ledger.verify();
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
