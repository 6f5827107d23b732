/**
 * Priority sync's load shedding (issue #25, docs/api.md "Priority sync"): a 429 (or 5xx) answer to
 * one operation stops the queue; the operations after it come back `{ status: 0, skipped: true }`
 * and did not run, so batching never defeats a limit. The 429 is the real placement limit: a
 * customer may start RATE_LIMIT_PAYMENT_MAX Mobile Money orders per window (2 here), the third is
 * refused.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { orderBody, type OrderWorld } from '../orders/helpers.js';
import { phoneOf, ussdWorld } from '../ussd/helpers.js';

let world: OrderWorld;
let carol: CreatedUser;

beforeAll(async () => {
  // Mobile Money orders (the payment simulators stand in for the operator): their tier is 2 a window.
  world = await ussdWorld({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PAYMENT_MAX: '2' });
  carol = await createUser(world.testApp, { roles: ['customer'] });
}, 120_000);
afterAll(async () => world?.testApp.close());

async function offlineOrder(who: CreatedUser, minutesAgo: number) {
  const body = orderBody(world, {
    tipMinor: 0,
    payment: { kind: 'mobile_money', provider: 'MTN', phone: phoneOf('MTN') },
  }) as Parameters<OrderWorld['testApp']['services']['orders']['orders']['quote']>[0];
  const quote = await world.testApp.services.orders.orders.quote(body, who.userId);
  return {
    ...body,
    clientOrderId: randomUUID(),
    composedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    expectedTotalMinor: quote.totalMinor,
  };
}

async function ordersOf(customerId: string): Promise<number> {
  await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
  const rows = await world.testApp.services.db
    .selectFrom('orders_view')
    .select('order_id')
    .where('customer_id', '=', customerId)
    .execute();
  return rows.length;
}

describe('priority sync: a 429 stops the queue', () => {
  it('answers the refused operation with its problem and skips every later one, which did not run', async () => {
    const orders = [
      await offlineOrder(carol, 30),
      await offlineOrder(carol, 20),
      await offlineOrder(carol, 10),
    ];
    const operations = [
      { id: 'profile', method: 'PATCH', path: '/v1/me', body: { name: 'Carol Plus Tard' } },
      { id: 'menu', method: 'GET', path: `/v1/sync/menus/${world.restaurantId}` },
      ...orders.map((body, index) => ({
        id: `order-${index}`,
        method: 'POST',
        path: '/v1/orders/offline',
        body,
      })),
    ];
    const response = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/sync/queue',
      headers: authHeader(carol.accessToken),
      payload: { operations },
    });
    expect(response.statusCode, response.body).toBe(200);
    const results = response.json().results as {
      id: string;
      status: number;
      skipped?: boolean;
      body?: { code?: string };
    }[];
    expect(results.map((result) => [result.id, result.status, result.skipped ?? false])).toEqual([
      ['order-0', 201, false],
      ['order-1', 201, false],
      ['order-2', 429, false],
      ['profile', 0, true],
      ['menu', 0, true],
    ]);
    expect(results[2]!.body?.code).toBe('rate_limited');
    expect(results[3]!.body).toBeUndefined();
    // The skipped operations did not run: the name is unchanged; two orders only.
    const me = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(carol.accessToken),
    });
    expect(me.json().name).not.toBe('Carol Plus Tard');
    expect(await ordersOf(carol.userId)).toBe(2);
  });
});
