import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/eventstore/index.js';
import { ORDER_STREAM_PREFIX } from '../../../src/modules/orders/index.js';
import { authHeader, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

/**
 * The intents issue #19 named beyond orders and wallets, against PostgreSQL, Redis and BullMQ:
 * staff alerts (a dispute opened; payouts in review and reconciliation exceptions, swept), a
 * restaurant's low stock and sold-out dishes, and the driver offer dispatch will call.
 */
const LOW_STOCK_THRESHOLD = 97; // the world's ndolé starts at 100; an order takes 2
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({ NOTIFY_LOW_STOCK_THRESHOLD: String(LOW_STOCK_THRESHOLD) });
}, 60_000);
afterAll(async () => world?.testApp.close());

const inject = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

type Item = { id: string; kind: string; title: string; body: string; orderId: string | null };
async function centre(token: string): Promise<Item[]> {
  const response = await inject('GET', '/v1/notifications?limit=50', token);
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { items: Item[] }).items;
}
const ofKind = (items: Item[], kind: string) => items.filter((item) => item.kind === kind);

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached: ${JSON.stringify(value).slice(0, 600)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('low stock: the restaurant hears once per dish and level per day', () => {
  it('an order leaving a tracked dish at the threshold tells the owner; the next order the same day does not again', async () => {
    const { owner, customer } = world.actors;
    expect((await placeOrder(world, customer.accessToken)).statusCode).toBe(201); // 100 → 98: not yet
    expect((await placeOrder(world, customer.accessToken)).statusCode).toBe(201); // 98 → 96: low
    const low = await eventually(
      async () => ofKind(await centre(owner.accessToken), 'restaurant.low_stock'),
      (items) => items.length > 0,
    );
    expect(low).toHaveLength(1);
    // French, the owner's default: the count and the dish's name.
    expect(low[0]!.body).toBe('Plus que 96 Ndolé.');

    expect((await placeOrder(world, customer.accessToken)).statusCode).toBe(201); // 96 → 94: still low
    await world.testApp.services.jobs.queue.drain('notify-dispatch', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(ofKind(await centre(owner.accessToken), 'restaurant.low_stock')).toHaveLength(1);
  }, 60_000);

  it('the order that takes the last portions says sold out', async () => {
    const { owner, customer } = world.actors;
    const restock = await inject(
      'PATCH',
      `/v1/restaurants/${world.restaurantId}/menu/items/${world.ndoleId}`,
      owner.accessToken,
      { stock: 2 },
    );
    expect(restock.statusCode, restock.body).toBe(200);
    expect((await placeOrder(world, customer.accessToken)).statusCode).toBe(201); // 2 → 0
    const out = await eventually(
      async () => ofKind(await centre(owner.accessToken), 'restaurant.sold_out'),
      (items) => items.length > 0,
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.title).toBe('Épuisé');
  }, 60_000);
});

describe('staff alerts', () => {
  it('an opened dispute tells support and administrators the order, never the customer’s words; a replay tells nobody twice', async () => {
    const { customer, admin } = world.actors;
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
    });
    expect(placed.statusCode).toBe(201);
    const orderId = placed.json().id as string;
    // The order's dispute event as the reactor receives it from the store.
    const event = {
      id: randomUUID(),
      type: 'OrderDisputeOpened',
      data: {
        by: { role: 'customer', id: customer.userId },
        reason: 'the juice was warm',
        at: new Date().toISOString(),
      },
      metadata: { schemaVersion: 1 },
      stream: `${ORDER_STREAM_PREFIX}${orderId}`,
      revision: 9n,
      position: '0',
      createdAt: new Date(),
    } as unknown as RecordedEvent;
    await world.testApp.services.notify.react(event);
    await world.testApp.services.notify.react(event);

    for (const staff of [world.support, admin]) {
      const alerts = ofKind(await centre(staff.accessToken), 'staff.dispute_opened').filter(
        (item) => item.orderId === orderId,
      );
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.body).toContain(orderId.slice(0, 8));
      expect(alerts[0]!.body).not.toContain('warm');
    }
    // The customer and the restaurant are not staff.
    expect(ofKind(await centre(customer.accessToken), 'staff.dispute_opened')).toHaveLength(0);
  }, 60_000);

  it('payouts stopped for review and reconciliation exceptions reach administrators once, however often the sweep runs', async () => {
    const { db } = world.testApp.services;
    const { admin } = world.actors;
    const payoutId = randomUUID();
    await db
      .insertInto('payouts')
      .values({
        payout_id: payoutId,
        payee_kind: 'restaurant',
        payee_id: world.restaurantId,
        requested_by: admin.userId,
        amount_minor: 42_000n,
        currency: 'XAF',
        phone: 'test-not-a-phone',
        status: 'NEEDS_REVIEW',
        review_reason: 'PROVIDER_CANNOT_CONFIRM: test',
      } as never)
      .execute();
    const runId = randomUUID();
    await db
      .insertInto('reconciliation_runs')
      .values({
        run_id: runId,
        provider: 'campay',
        period_from: new Date(Date.now() - 86_400_000),
        period_to: new Date(),
        status: 'completed',
        counts: JSON.stringify({ MATCHED: 5, AMOUNT_MISMATCH: 2, MISSING_IN_LEDGER: 1 }),
        requested_by: admin.userId,
        completed_at: new Date(),
      } as never)
      .execute();

    const { notify } = world.testApp.services;
    const first = await notify.sweepStaffAlerts();
    expect(first).toBeGreaterThanOrEqual(2);
    expect(await notify.sweepStaffAlerts()).toBe(0);

    const items = await centre(admin.accessToken);
    const review = ofKind(items, 'staff.payout_review');
    expect(review.filter((item) => item.body.includes(payoutId.slice(0, 8)))).toHaveLength(1);
    expect(review[0]!.body).toMatch(/42\s000\sFCFA/u);
    const mismatch = ofKind(items, 'staff.reconciliation_mismatch').filter((item) =>
      item.body.includes(runId.slice(0, 8)),
    );
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]!.body).toContain('3 écarts');
    // Support is not finance.
    expect(ofKind(await centre(world.support.accessToken), 'staff.payout_review')).toHaveLength(0);
  }, 60_000);
});

describe('driver offers (the port dispatch calls)', () => {
  const offer = () => ({
    offerId: randomUUID(),
    driverId: world.driver.userId,
    orderId: randomUUID(),
    restaurantName: 'Chez Mama',
    earningsMinor: 1_200,
    pickupDistanceMetres: 2_400,
    expiresAt: new Date(Date.now() + 60_000),
  });

  it('pushes the offer once to the driver’s device, with its expiry as time to live', async () => {
    const device = await inject('POST', '/v1/me/devices', world.driver.accessToken, {
      token: 'fcm-driver-offer-token-0123456789',
      platform: 'android',
    });
    expect(device.statusCode, device.body).toBe(201);
    const { notify, notifications } = world.testApp.services;
    const given = offer();
    const first = await notify.driverOffer(given);
    expect(first.created).toBe(true);
    expect(await notify.driverOffer(given)).toEqual({ intentId: first.intentId, created: false });

    const pushes = await eventually(
      async () =>
        (
          await notifications.outbox!.list({
            to: 'fcm-driver-offer-token-0123456789',
            channel: 'push',
            limit: 20,
          })
        ).filter((message) => message.metadata.intentId === first.intentId),
      (found) => found.length > 0,
    );
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.subject).toBe('Nouvelle course proposée');
    expect(pushes[0]!.body).toContain('2,4 km');
    const ttl = pushes[0]!.metadata.ttlSeconds as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  }, 60_000);

  it('refuses an offer that has lapsed, lasts over an hour or names no driver, and records nothing', async () => {
    const { notify } = world.testApp.services;
    for (const bad of [
      { ...offer(), expiresAt: new Date(Date.now() - 1_000) },
      { ...offer(), expiresAt: new Date(Date.now() + 2 * 3_600_000) },
      { ...offer(), driverId: 'not-a-uuid' },
      { ...offer(), earningsMinor: -5 },
      { ...offer(), restaurantName: '' },
    ])
      await expect(notify.driverOffer(bad)).rejects.toMatchObject({ code: 'driver_offer_invalid' });
    expect(ofKind(await centre(world.driver.accessToken), 'driver.offer')).toHaveLength(1);
  });
});
