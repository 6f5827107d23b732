/**
 * The offline order queue (issue #25, docs/orders.md "Offline orders"), against PostgreSQL, Redis
 * and the ledger: an order composed offline carries the app's id and the total the customer
 * agreed to; sent twice, or twice at once, it is placed and paid once; re-priced on arrival, it
 * is refused with the new figures (nothing placed) when the total changed, and placed when the
 * customer confirms the new total; a dish gone is refused with the orders' own problem.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { patch } from '../catalog/helpers.js';
import { wallet } from '../payments/helpers.js';
import { fund, until, ussdWorld } from '../ussd/helpers.js';
import { orderBody, type OrderWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await ussdWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

async function customer(): Promise<CreatedUser> {
  const created = await createUser(world.testApp, { roles: ['customer'] });
  await fund(world, created.userId);
  return created;
}

const submit = (token: string, body: Record<string, unknown>) =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/orders/offline',
    headers: authHeader(token),
    payload: body,
  });

async function offline(who: CreatedUser, overrides: Record<string, unknown> = {}) {
  const body = orderBody(world, { tipMinor: 0 }) as Parameters<
    OrderWorld['testApp']['services']['orders']['orders']['quote']
  >[0];
  const quote = await world.testApp.services.orders.orders.quote(body, who.userId);
  return {
    ...body,
    clientOrderId: randomUUID(),
    composedAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
    expectedTotalMinor: quote.totalMinor,
    ...overrides,
  } as Record<string, unknown>;
}

async function ordersOf(customerId: string) {
  return world.testApp.services.db
    .selectFrom('orders_view')
    .select(['order_id', 'status'])
    .where('customer_id', '=', customerId)
    .execute();
}

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/problem+json');
  return JSON.parse(response.body) as Record<string, unknown> & { code: string };
}

describe('offline order queue', () => {
  it('places an order composed offline once, whether sent twice in a row or twice at once, and pays once', async () => {
    const who = await customer();
    const before = await wallet(world.testApp, who.accessToken);
    const body = await offline(who);
    const first = await submit(who.accessToken, body);
    expect(first.statusCode, first.body).toBe(201);
    const order = first.json() as { id: string; status: string; pricing: { totalMinor: number } };
    expect(order.pricing.totalMinor).toBe(body.expectedTotalMinor);
    expect(order.status).toBe('PLACED');
    const again = await submit(who.accessToken, body);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(order.id);

    const twin = await offline(who);
    const [a, b] = await Promise.all([submit(who.accessToken, twin), submit(who.accessToken, twin)]);
    // One places it (201); the other waits for it and finds it (200).
    expect([a.statusCode, b.statusCode].sort(), `${a.body} ${b.body}`).toEqual([200, 201]);
    expect(a.json().id).toBe(b.json().id);

    await until(
      () => ordersOf(who.userId),
      (rows) => rows.length >= 2,
    );
    expect(await ordersOf(who.userId)).toHaveLength(2);
    const after = await wallet(world.testApp, who.accessToken);
    expect(before.balanceMinor - after.balanceMinor).toBe(2 * (body.expectedTotalMinor as number));
    // Another customer's queue with the same client id is another order.
    const other = await customer();
    const theirs = await submit(other.accessToken, {
      ...(await offline(other)),
      clientOrderId: body.clientOrderId,
    });
    expect(theirs.statusCode, theirs.body).toBe(201);
    expect(theirs.json().id).not.toBe(order.id);
  }, 90_000);

  it('answers 409 with the new figures when a price changed, places nothing, and places when the new total is confirmed', async () => {
    const who = await customer();
    const body = await offline(who);
    const owner = world.actors.owner.accessToken;
    const item = `/v1/restaurants/${world.restaurantId}/menu/items/${world.jusId}`;
    expect((await patch(world.testApp, item, owner, { price: 900 })).statusCode).toBe(200);
    try {
      const refused = expectProblem(await submit(who.accessToken, body), 409);
      expect(refused.code).toBe('offline_order_repriced');
      const quote = refused.quote as { totalMinor: number };
      expect(refused).toMatchObject({
        clientOrderId: body.clientOrderId,
        expectedTotalMinor: body.expectedTotalMinor,
      });
      expect(quote.totalMinor).toBe((body.expectedTotalMinor as number) + 400);
      expect(await ordersOf(who.userId)).toHaveLength(0);
      const confirmed = await submit(who.accessToken, { ...body, expectedTotalMinor: quote.totalMinor });
      expect(confirmed.statusCode, confirmed.body).toBe(201);
      expect(confirmed.json().pricing.totalMinor).toBe(quote.totalMinor);
      await until(
        () => ordersOf(who.userId),
        (rows) => rows.length === 1,
      );
    } finally {
      await patch(world.testApp, item, owner, { price: 500 });
    }
  }, 90_000);

  it('the placement itself checks the agreed total (priced once): another total refuses before any reservation or charge', async () => {
    const who = await customer();
    const before = await wallet(world.testApp, who.accessToken);
    const body = orderBody(world, { tipMinor: 0 }) as Parameters<
      OrderWorld['testApp']['services']['orders']['orders']['place']
    >[0];
    const { orders } = world.testApp.services.orders;
    const quote = await orders.quote(body, who.userId);
    // The total the app showed is 1 XAF off what the placement prices now (a price changed in between).
    const orderId = randomUUID();
    const refused = await orders
      .place(body, { kind: 'user', id: who.userId }, undefined, {
        orderId,
        expectedTotalMinor: quote.totalMinor - 1,
      })
      .then(
        () => undefined,
        (error: unknown) => error as { code?: string; details?: { quote?: { totalMinor: number } } },
      );
    expect(refused?.code).toBe('order_repriced');
    expect(refused?.details?.quote?.totalMinor).toBe(quote.totalMinor);
    expect(await orders.find(orderId)).toBeUndefined();
    expect((await wallet(world.testApp, who.accessToken)).balanceMinor).toBe(before.balanceMinor);
    // The agreed total: placed and charged exactly that.
    const placed = await orders.place(body, { kind: 'user', id: who.userId }, undefined, {
      orderId,
      expectedTotalMinor: quote.totalMinor,
    });
    expect(Number(placed.state.order!.pricing.totalMinor)).toBe(quote.totalMinor);
    expect(before.balanceMinor - (await wallet(world.testApp, who.accessToken)).balanceMinor).toBe(
      quote.totalMinor,
    );
  }, 90_000);

  it('refuses a dish no longer available with the orders’ problem, and stale, future or malformed submissions; nothing placed', async () => {
    const who = await customer();
    const body = await offline(who);
    const owner = world.actors.owner.accessToken;
    const item = `/v1/restaurants/${world.restaurantId}/menu/items/${world.jusId}`;
    expect((await patch(world.testApp, item, owner, { isAvailable: false })).statusCode).toBe(200);
    try {
      const gone = await submit(who.accessToken, body);
      expect(gone.statusCode, gone.body).toBeGreaterThanOrEqual(400);
      expect(gone.statusCode).toBeLessThan(500);
      expect(String(gone.headers['content-type'])).toContain('application/problem+json');
    } finally {
      await patch(world.testApp, item, owner, { isAvailable: true });
    }
    const old = new Date(Date.now() - 8 * 24 * 3_600_000).toISOString();
    expect(expectProblem(await submit(who.accessToken, { ...body, composedAt: old }), 422).code).toBe(
      'offline_order_stale',
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(expectProblem(await submit(who.accessToken, { ...body, composedAt: future }), 400).code).toBe(
      'offline_order_composed_in_future',
    );
    expectProblem(await submit(who.accessToken, { ...body, clientOrderId: 'not-a-uuid' }), 400);
    expectProblem(await submit(who.accessToken, { ...body, expectedTotalMinor: -1 }), 400);
    const { expectedTotalMinor: _dropped, ...missing } = body;
    expectProblem(await submit(who.accessToken, missing), 400);
    expect(await ordersOf(who.userId)).toHaveLength(0);
    // Without a token: 401.
    const anonymous = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/orders/offline',
      payload: body,
    });
    expect(anonymous.statusCode).toBe(401);
  }, 90_000);
});
