import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { NEAR, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/** Issue #24: GET /v1/recommendations ranks with the committed ONNX model from the order history. */
let world: OrderWorld;
let juiceLover: CreatedUser;
let ndoleLover: CreatedUser;

async function recommend(query: string, token?: string) {
  return world.testApp.app.inject({
    method: 'GET',
    url: `/v1/recommendations${query}`,
    headers: token === undefined ? {} : authHeader(token),
  });
}

beforeAll(async () => {
  world = await orderWorld();
  [juiceLover, ndoleLover] = await Promise.all([
    createUser(world.testApp, { roles: ['customer'] }),
    createUser(world.testApp, { roles: ['customer'] }),
  ]);
  for (let n = 0; n < 3; n += 1) {
    const juice = await placeOrder(world, juiceLover.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
    });
    expect(juice.statusCode, juice.body).toBe(201);
    const ndole = await placeOrder(world, ndoleLover.accessToken, {
      items: [{ itemId: world.ndoleId, quantity: 1 }],
    });
    expect(ndole.statusCode, ndole.body).toBe(201);
  }
  // The projection keeps the six placed orders, then the service folds them.
  await until(
    () =>
      world.testApp.services.db
        .selectFrom('reco_orders')
        .select('order_id')
        .where('placed_at', 'is not', null)
        .where('customer_id', 'in', [juiceLover.userId, ndoleLover.userId])
        .execute(),
    (rows) => rows.length === 6,
  );
  await world.testApp.services.recommendations.refresh();
});
afterAll(async () => world?.testApp.close());

describe('GET /v1/recommendations', () => {
  it('ranks each customer’s own dish first, from the ONNX model, with the context it used', async () => {
    const forJuice = await recommend('?weather=dry', juiceLover.accessToken);
    expect(forJuice.statusCode, forJuice.body).toBe(200);
    const body = forJuice.json();
    expect(body.source).toBe('model');
    expect(body.modelVersion).toBe('1');
    const ready = await world.testApp.app.inject({ method: 'GET', url: '/health/ready' });
    expect(
      ready.json().checks.find((entry: { name: string }) => entry.name === 'recommendations-model'),
    ).toEqual({ name: 'recommendations-model', ok: true, detail: 'model 1 loaded' });
    expect(body.context.weather).toBe('dry');
    expect(['breakfast', 'lunch', 'dinner', 'late']).toContain(body.context.slot);
    expect(body.items[0].itemId).toBe(world.jusId);
    expect(body.items.map((item: { itemId: string }) => item.itemId)).toContain(world.ndoleId);
    expect(body.restaurants[0].restaurantId).toBe(world.restaurantId);

    const forNdole = await recommend('?weather=dry', ndoleLover.accessToken);
    expect(forNdole.json().items[0].itemId).toBe(world.ndoleId);
    // The scores are the model's: they differ between the two customers for the same dish.
    const juiceScore = (list: { itemId: string; score: number }[]) =>
      list.find((item) => item.itemId === world.jusId)!.score;
    expect(juiceScore(forNdole.json().items)).toBeLessThan(juiceScore(body.items));
  });

  it('answers a guest from place and time (cold start), and refuses a guest with no place', async () => {
    const guest = await recommend(`?lat=${NEAR.latitude}&lng=${NEAR.longitude}&limit=1`);
    expect(guest.statusCode, guest.body).toBe(200);
    expect(guest.json().items).toHaveLength(1);
    expect(guest.json().context.cell).toMatch(/^\d+:\d+$/);
    // Far from every restaurant (Garoua): nothing to recommend, not an error.
    const far = await recommend('?lat=9.3&lng=13.4');
    expect(far.statusCode).toBe(200);
    expect(far.json().items).toEqual([]);

    const nowhere = await recommend('');
    expect(nowhere.statusCode).toBe(400);
    expect(nowhere.headers['content-type']).toContain('application/problem+json');
    expect(nowhere.json().code).toBe('location_required');
  });

  it('refuses bad input with a problem and no answer', async () => {
    for (const query of [
      '?lat=abc&lng=9.7',
      '?lat=91&lng=9.7',
      '?lat=4&lng=181',
      '?limit=0',
      '?limit=51',
      '?limit=null',
      '?weather=snow',
      '?weather=rain%00',
      `?weather=${'r'.repeat(10_000)}`,
      '?customerId=someone-else',
    ]) {
      const response = await recommend(query, juiceLover.accessToken);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers['content-type'], query).toContain('application/problem+json');
    }
  });

  it('keeps only the cell of a delivery, and erases it with the person', async () => {
    const before = await world.testApp.services.db
      .selectFrom('reco_orders')
      .select(['cell'])
      .where('customer_id', '=', juiceLover.userId)
      .execute();
    expect(before.every((row) => row.cell !== null && !row.cell.includes('.'))).toBe(true);
    expect(await world.testApp.services.recommendations.personalData.export(juiceLover.userId)).toEqual({
      ordersKnown: 3,
    });
    await world.testApp.services.recommendations.personalData.erase(juiceLover.userId);
    await world.testApp.services.recommendations.personalData.erase(juiceLover.userId);
    const after = await world.testApp.services.db
      .selectFrom('reco_orders')
      .select(['cell'])
      .where('customer_id', '=', juiceLover.userId)
      .execute();
    expect(after.map((row) => row.cell)).toEqual([null, null, null]);
  });
});

describe('without a model', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ env: { RECOMMENDATIONS_MODEL_PATH: 'ml/model/absent.onnx' } });
  });
  afterAll(async () => app?.close());

  it('serves popularity and says so, never failing the request', async () => {
    const response = await app.app.inject({ method: 'GET', url: '/v1/recommendations?lat=4.05&lng=9.76' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ source: 'popularity', modelVersion: null });
    const status = app.services.recommendations.status();
    expect(status.model.loaded).toBe(false);
    expect(status.model.error).toContain('absent');
    // Readiness says so, and stays ready.
    const ready = await app.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode, ready.body).toBe(200);
    const check = ready
      .json()
      .checks.find((entry: { name: string }) => entry.name === 'recommendations-model');
    expect(check).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^no model: popularity served \(.*absent/),
    });
  });
});
