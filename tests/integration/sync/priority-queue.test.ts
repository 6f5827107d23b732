/**
 * Priority sync on the server (issue #25, docs/api.md "Priority sync"): an app back online sends
 * its queue in one `POST /v1/sync/queue`; the server runs orders first (oldest queued first), then
 * payments' state, then menus and the profile, each as the caller through its own route. Proven by
 * effect: an orders sync queued before the offline orders already sees them. A retried queue
 * places nothing twice; a queue with one operation that may not be queued runs nothing; another
 * customer's order stays refused inside a queue.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { orderBody, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

let world: OrderWorld;
let alice: CreatedUser;
let bob: CreatedUser;

beforeAll(async () => {
  world = await orderWorld();
  [alice, bob] = await Promise.all([
    createUser(world.testApp, { roles: ['customer'] }),
    createUser(world.testApp, { roles: ['customer'] }),
  ]);
}, 120_000);
afterAll(async () => world?.testApp.close());

const caughtUp = () => world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);

async function offlineOrder(who: CreatedUser, minutesAgo: number) {
  const body = orderBody(world, { tipMinor: 0 }) as Parameters<
    OrderWorld['testApp']['services']['orders']['orders']['quote']
  >[0];
  const quote = await world.testApp.services.orders.orders.quote(body, who.userId);
  return {
    ...body,
    clientOrderId: randomUUID(),
    composedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    expectedTotalMinor: quote.totalMinor,
  };
}

const queue = (token: string | undefined, operations: unknown[]) =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/sync/queue',
    headers: token === undefined ? {} : authHeader(token),
    payload: { operations },
  });

async function orderCount(customerId: string): Promise<number> {
  await caughtUp();
  const rows = await world.testApp.services.db
    .selectFrom('orders_view')
    .select('order_id')
    .where('customer_id', '=', customerId)
    .execute();
  return rows.length;
}

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

describe('priority sync', () => {
  it('runs orders first (oldest first), then payments, then menus and profile; a retried queue places nothing twice', async () => {
    const earlier = await placeOrder(world, alice.accessToken);
    expect(earlier.statusCode, earlier.body).toBe(201);
    const earlierId = earlier.json().id as string;
    const [first, second] = [await offlineOrder(alice, 30), await offlineOrder(alice, 10)];
    const operations = [
      {
        id: 'profile',
        method: 'PATCH',
        path: '/v1/me',
        body: { name: 'Alice Hors-Ligne' },
        queuedAt: at(40),
      },
      { id: 'menu', method: 'GET', path: `/v1/sync/menus/${world.restaurantId}`, queuedAt: at(40) },
      { id: 'history', method: 'GET', path: '/v1/sync/orders?fields=status', queuedAt: at(40) },
      { id: 'payment', method: 'GET', path: `/v1/orders/${earlierId}`, queuedAt: at(35) },
      { id: 'order-late', method: 'POST', path: '/v1/orders/offline', body: second, queuedAt: at(10) },
      { id: 'order-early', method: 'POST', path: '/v1/orders/offline', body: first, queuedAt: at(30) },
    ];
    const before = await orderCount(alice.userId);
    const response = await queue(alice.accessToken, operations);
    expect(response.statusCode, response.body).toBe(200);
    const results = response.json().results as {
      id: string;
      status: number;
      priority: number;
      body: { id: string; name?: string; items?: { id: string }[] };
    }[];
    expect(results.map((result) => [result.id, result.priority, result.status])).toEqual([
      ['order-early', 0, 201],
      ['order-late', 0, 201],
      ['payment', 1, 200],
      ['profile', 2, 200],
      ['menu', 2, 200],
      ['history', 2, 200],
    ]);
    const placed = [results[0]!.body.id, results[1]!.body.id];
    // The orders sync queued first ran after the orders: it already lists them.
    const synced = results[5]!.body.items!.map((item) => item.id);
    expect(synced).toEqual(expect.arrayContaining([...placed, earlierId]));
    expect(results[3]!.body.name).toBe('Alice Hors-Ligne');
    expect(await orderCount(alice.userId)).toBe(before + 2);

    // The answer was lost: the app sends the same queue again. Nothing is placed twice.
    const again = await queue(alice.accessToken, operations);
    const replayed = again.json().results as { id: string; status: number; body: { id: string } }[];
    expect(replayed.slice(0, 2).map((result) => [result.status, result.body.id])).toEqual([
      [200, placed[0]],
      [200, placed[1]],
    ]);
    expect(await orderCount(alice.userId)).toBe(before + 2);
  });

  it('runs nothing when one operation may not be queued, or the queue is malformed', async () => {
    const before = await orderCount(alice.userId);
    const order = { id: 'o', method: 'POST', path: '/v1/orders/offline', body: await offlineOrder(alice, 5) };
    for (const [operations, code] of [
      [[order, { id: 'x', method: 'POST', path: '/v1/admin/users/1/roles' }], 'sync_operation_refused'],
      [
        [order, { id: 'x', method: 'POST', path: '/v1/sync/queue', body: { operations: [] } }],
        'sync_operation_refused',
      ],
      [[order, { id: 'x', method: 'DELETE', path: '/v1/me' }], 'sync_operation_refused'],
      [[order, { id: 'x', method: 'GET', path: '/v1/orders/../admin/orders' }], 'sync_operation_refused'],
      [[order, { ...order }], 'sync_operation_refused'],
      [[order, { id: 'x', method: 'GET', path: '/v1/me', body: null }], 'validation_failed'],
      [[order, { id: 'x', method: 'TRACE', path: '/v1/me' }], 'validation_failed'],
      [[order, { id: 'x', method: 'GET', path: 'http://elsewhere/v1/me' }], 'validation_failed'],
      [
        Array.from({ length: 21 }, (_, index) => ({ id: `g${index}`, method: 'GET', path: '/v1/me' })),
        'validation_failed',
      ],
      [[], 'validation_failed'],
    ] as const) {
      const response = await queue(alice.accessToken, operations as unknown[]);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().code).toBe(code);
    }
    const nul = await queue(alice.accessToken, [{ id: 'n', method: 'GET', path: '/v1/me\u0000' }]);
    expect(nul.statusCode).toBe(400);
    expect(await orderCount(alice.userId)).toBe(before);
    expect((await queue(undefined, [{ id: 'a', method: 'GET', path: '/v1/me' }])).statusCode).toBe(401);
  });

  it("runs each operation as the caller: another customer's order stays refused", async () => {
    const alices = await placeOrder(world, alice.accessToken);
    const response = await queue(bob.accessToken, [
      { id: 'peek', method: 'GET', path: `/v1/orders/${alices.json().id}` },
      { id: 'me', method: 'GET', path: '/v1/me' },
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const [peek, me] = response.json().results as { id: string; status: number; body: { id?: string } }[];
    expect(peek!.id).toBe('peek');
    expect([403, 404]).toContain(peek!.status);
    expect(JSON.stringify(peek!.body)).not.toContain('Ndolé');
    expect(me!.body.id).toBe(bob.userId);
  });
});
