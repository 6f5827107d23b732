import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEAR, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/** Issue #24: "popular now", the dishes most ordered around a place in the last hours. */
let world: OrderWorld;
const popular = (query: string) =>
  world.testApp.app.inject({ method: 'GET', url: `/v1/recommendations/popular-now${query}` });

beforeAll(async () => {
  world = await orderWorld();
  const ids: string[] = [];
  for (const [itemId, quantity] of [
    [world.ndoleId, 2],
    [world.ndoleId, 1],
    [world.jusId, 1],
  ] as const) {
    const placed = await placeOrder(world, world.actors.customer.accessToken, {
      items: [{ itemId, quantity }],
    });
    expect(placed.statusCode, placed.body).toBe(201);
    ids.push(placed.json().id);
  }
  await until(
    () =>
      world.testApp.services.db
        .selectFrom('reco_orders')
        .select('order_id')
        .where('order_id', 'in', ids)
        .where('placed_at', 'is not', null)
        .execute(),
    (rows) => rows.length === 3,
  );
  await world.testApp.services.recommendations.refresh();
});
afterAll(async () => world?.testApp.close());

describe('GET /v1/recommendations/popular-now', () => {
  it('ranks the dishes delivered around the place by portions ordered, cacheable a minute', async () => {
    const response = await popular(`?lat=${NEAR.latitude}&lng=${NEAR.longitude}&hours=1`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=60');
    const body = response.json();
    expect(body.hours).toBe(1);
    expect(body.orders).toBeGreaterThanOrEqual(3);
    expect(body.items[0]).toMatchObject({ itemId: world.ndoleId, restaurantId: world.restaurantId });
    expect(body.items[0].ordered).toBeGreaterThanOrEqual(3);
    const jus = body.items.find((item: { itemId: string }) => item.itemId === world.jusId);
    expect(jus.ordered).toBeGreaterThanOrEqual(1);
    expect(jus.ordered).toBeLessThan(body.items[0].ordered);
    // Far from these deliveries (Garoua): nothing popular there.
    const far = await popular('?lat=9.3&lng=13.4');
    expect(far.statusCode).toBe(200);
    expect(far.json()).toMatchObject({ orders: 0, items: [] });
  });

  it('refuses bad input with a problem', async () => {
    for (const query of [
      '',
      '?lat=4.06',
      '?lat=abc&lng=9.7',
      '?lat=91&lng=9.7',
      '?lat=4&lng=9.7&hours=0',
      '?lat=4&lng=9.7&hours=7',
      '?lat=4&lng=9.7&limit=51',
      '?lat=4&lng=9.7&limit=null',
      '?lat=4%00&lng=9.7',
      `?lat=4&lng=9.7&hours=${'1'.repeat(10_000)}`,
      '?lat=4&lng=9.7&city=douala',
    ]) {
      const response = await popular(query);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers['content-type'], query).toContain('application/problem+json');
    }
  });
});
