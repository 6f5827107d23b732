import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../helpers/auth.js';
import { act, authHeader, orderWorld, placeOrder, type OrderWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
});
afterAll(async () => world?.testApp.close());

const caughtUp = () => world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
const get = (url: string, token: string) =>
  world.testApp.app.inject({ method: 'GET', url, headers: authHeader(token) });

async function deliveredOrder(): Promise<string> {
  const { customer, owner } = world.actors;
  const order = (await placeOrder(world, customer.accessToken)).json();
  const accepted = (
    await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 15 })
  ).json();
  await act(world, order.id, 'prepare', owner.accessToken);
  await act(world, order.id, 'ready', owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.json().status).toBe('DELIVERED');
  return order.id;
}

describe('orders projections: history, live queue, admin list, figures, completed-order lookup', () => {
  it("serves the customer history newest first in cursor pages, only the caller's own", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1)
      ids.push((await placeOrder(world, world.actors.customer.accessToken)).json().id);
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    await placeOrder(world, stranger.accessToken);
    await caughtUp();
    const first = await get('/v1/orders?limit=2', world.actors.customer.accessToken);
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((item: { id: string }) => item.id)).toEqual([ids[2], ids[1]]);
    const second = await get(
      `/v1/orders?limit=2&cursor=${first.json().nextCursor}`,
      world.actors.customer.accessToken,
    );
    expect(second.json().items[0].id).toBe(ids[0]);
    const theirs = await get('/v1/orders', stranger.accessToken);
    expect(theirs.json().items).toHaveLength(1);
    expect((await get('/v1/orders?cursor=not-a-cursor', stranger.accessToken)).json().code).toBe(
      'invalid_cursor',
    );
  });

  it('the restaurant queue holds its paid, unfinished orders; the admin list the live ones; drivers the claimable ones', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    await caughtUp();
    const queue = await get('/v1/restaurant/orders?limit=50', world.actors.owner.accessToken);
    expect(queue.statusCode).toBe(200);
    expect(queue.json().items.map((item: { id: string }) => item.id)).toContain(order.id);
    const otherOwner = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    expect((await get('/v1/restaurant/orders', otherOwner.accessToken)).json().items).toEqual([]);
    const admin = await get('/v1/admin/orders?limit=50', world.actors.admin.accessToken);
    expect(admin.json().items.map((item: { id: string }) => item.id)).toContain(order.id);
    expect((await get('/v1/admin/orders', world.actors.customer.accessToken)).statusCode).toBe(403);
    await act(world, order.id, 'accept', world.actors.owner.accessToken, { preparationMinutes: 15 });
    await caughtUp();
    const available = await get('/v1/driver/orders/available?limit=50', world.driver.accessToken);
    expect(available.json().items.map((item: { id: string }) => item.id)).toContain(order.id);
  });

  it('figures count paid orders per day and hour, revenue and best sellers at delivery; the catalog finds completed orders', async () => {
    const orderId = await deliveredOrder();
    await caughtUp();
    const figures = await get(
      `/v1/restaurants/${world.restaurantId}/order-figures`,
      world.actors.owner.accessToken,
    );
    expect(figures.statusCode, figures.body).toBe(200);
    const body = figures.json();
    expect(body.delivered).toBeGreaterThanOrEqual(1);
    expect(body.revenueMinor).toBeGreaterThanOrEqual(6_500);
    expect(body.orders).toBeGreaterThanOrEqual(body.delivered);
    expect(body.peakHours[0].orders).toBeGreaterThanOrEqual(1);
    expect(body.bestSellers[0]).toMatchObject({ itemId: world.ndoleId, name: 'Ndolé' });
    const otherOwner = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    expect(
      (await get(`/v1/restaurants/${world.restaurantId}/order-figures`, otherOwner.accessToken)).statusCode,
    ).toBe(404);

    const lookup = world.testApp.services.orders.completedOrders;
    expect(await lookup.findCompletedOrder(orderId)).toMatchObject({
      orderId,
      customerId: world.actors.customer.userId,
      restaurantId: world.restaurantId,
      driverId: world.driver.userId,
    });
    const undelivered = (await placeOrder(world, world.actors.customer.accessToken)).json().id;
    await caughtUp();
    expect(await lookup.findCompletedOrder(undelivered)).toBeUndefined();
  });

  it('figures count refunds decided in disputes on the day of the decision: net revenue is what was kept', async () => {
    const figuresNow = async () => {
      await caughtUp();
      const response = await get(
        `/v1/restaurants/${world.restaurantId}/order-figures`,
        world.actors.owner.accessToken,
      );
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    const before = await figuresNow();
    const orderId = await deliveredOrder();
    const delivered = await figuresNow();
    const food = delivered.revenueMinor - before.revenueMinor;
    expect(food).toBeGreaterThan(0);
    expect(delivered.refundedMinor).toBe(before.refundedMinor);

    const disputed = await act(world, orderId, 'dispute', world.actors.customer.accessToken, {
      reason: 'cold food',
    });
    expect(disputed.statusCode, disputed.body).toBe(200);
    const resolved = await act(world, orderId, 'resolve', world.support.accessToken, {
      refundMinor: 1_500,
      note: 'half the dish',
    });
    expect(resolved.json().status).toBe('RESOLVED');
    const after = await figuresNow();
    expect(after.revenueMinor).toBe(delivered.revenueMinor); // revenue is the food delivered
    expect(after.refundedMinor).toBe(delivered.refundedMinor + 1_500);
    expect(after.netRevenueMinor).toBe(after.revenueMinor - after.refundedMinor);
    // The figures' days are Douala's (UTC+1 all year).
    const resolvedAt = Date.parse(resolved.json().timeline.at(-1).at);
    const localDay = new Date(resolvedAt + 3_600_000).toISOString().slice(0, 10);
    const today = after.days.find((day: { day: string }) => day.day === localDay);
    expect(today?.refundedMinor ?? 0).toBeGreaterThanOrEqual(1_500);
    expect(
      after.days.reduce((sum: number, day: { refundedMinor: number }) => sum + day.refundedMinor, 0),
    ).toBe(after.refundedMinor);
  });

  it('the sweeper rejects unanswered orders, expires unpaid ones and completes delivered ones once their time has come', async () => {
    const { orders } = world.testApp.services.orders;
    const unanswered = (await placeOrder(world, world.actors.customer.accessToken)).json().id;
    const unpaid = (
      await placeOrder(world, world.actors.customer.accessToken, {
        payment: { kind: 'mobile_money', provider: 'MTN', phone: '+237671111111' },
      })
    ).json();
    expect(unpaid.status).toBe('PENDING_PAYMENT');
    const delivered = await deliveredOrder();
    await caughtUp();
    // Now: nothing is due.
    await orders.sweep(new Date());
    expect((await orders.load(unanswered)).state.status).toBe('PLACED');
    // 11 minutes later: the unanswered order is rejected and refunded; 16: the unpaid one expires.
    await orders.sweep(new Date(Date.now() + 16 * 60_000));
    const rejected = await orders.load(unanswered);
    expect(rejected.state.status).toBe('REJECTED');
    expect(rejected.state.reason).toContain('no answer');
    expect((await orders.load(unpaid.id)).state.status).toBe('PAYMENT_EXPIRED');
    expect((await orders.load(delivered)).state.status).toBe('DELIVERED');
    await caughtUp();
    await orders.sweep(new Date(Date.now() + 25 * 60 * 60_000));
    expect((await orders.load(delivered)).state.status).toBe('COMPLETED');
  });
});
