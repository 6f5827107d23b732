import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { NEAR } from '../orders/helpers.js';
import { activeRestaurant, createActors, patch, post, type Actors } from './helpers.js';

let database: TestDatabase;
let first: TestApp;
let second: TestApp;
let actors: Actors;

beforeAll(async () => {
  database = await createTestDatabase();
  // Two API instances on one database and one Redis key prefix, as in a scaled-out deployment.
  // Same secrets too, as instances of one deployment have (orders seal personal data with the master key).
  const env = {
    MAX_EVENT_LOOP_DELAY_MS: '0',
    REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
  };
  first = await createTestApp({ database, env, keepDatabase: true });
  second = await createTestApp({ database, env, keepDatabase: true });
  actors = await createActors(first);
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await database?.drop();
});

async function until(condition: () => Promise<boolean>, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('cache invalidation across instances', () => {
  it("a menu write on one instance drops the other instance's cached menu at once (not after the TTL)", async () => {
    const id = await activeRestaurant(first, actors);
    const category = (
      await post(first, `/v1/restaurants/${id}/menu/categories`, actors.owner.accessToken, {
        name: { fr: 'Plats' },
      })
    ).json();
    const item = (
      await post(first, `/v1/restaurants/${id}/menu/items`, actors.owner.accessToken, {
        categoryId: category.id,
        name: { fr: 'Kondrè' },
        price: 4000,
      })
    ).json();
    const priceOnSecond = async () =>
      (await second.app.inject({ method: 'GET', url: `/v1/restaurants/${id}/menu` })).json().categories[0]
        .items[0].price as number;
    expect(await priceOnSecond()).toBe(4000); // now cached on the second instance
    await patch(first, `/v1/restaurants/${id}/menu/items/${item.id}`, actors.owner.accessToken, {
      price: 4500,
    });
    // Well inside the 5 s TTL: only the Redis message can explain the fresh price.
    expect(await until(async () => (await priceOnSecond()) === 4500, 2_000)).toBe(true);
  });

  it('order placement on another instance prices from the catalog as it is now: a price change or an archived dish applies at once', async () => {
    const id = await activeRestaurant(first, actors);
    const category = (
      await post(first, `/v1/restaurants/${id}/menu/categories`, actors.owner.accessToken, {
        name: { fr: 'Plats' },
      })
    ).json();
    const item = (
      await post(first, `/v1/restaurants/${id}/menu/items`, actors.owner.accessToken, {
        categoryId: category.id,
        name: { fr: 'Eru' },
        price: 3000,
      })
    ).json();
    const customer = await createUser(second, { roles: ['customer'] });
    let keys = 0;
    const order = () =>
      second.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': `inv-${id}-${(keys += 1)}` },
        payload: {
          restaurantId: id,
          items: [{ itemId: item.id, quantity: 1 }],
          delivery: NEAR,
          payment: { kind: 'wallet' },
        },
      });
    const before = await order();
    expect(before.statusCode, before.body).toBe(201);
    expect(before.json().pricing.subtotalMinor).toBe(3000); // the second instance now holds this restaurant's catalog

    await patch(first, `/v1/restaurants/${id}/menu/items/${item.id}`, actors.owner.accessToken, {
      price: 3500,
    });
    // Inside the order catalog's 10 s TTL: only the invalidation can explain the new price.
    expect(await until(async () => (await order()).json().pricing?.subtotalMinor === 3500, 2_000)).toBe(true);

    await patch(first, `/v1/restaurants/${id}/menu/items/${item.id}`, actors.owner.accessToken, {
      isAvailable: false,
    });
    expect(await until(async () => (await order()).json().code === 'items_unavailable', 2_000)).toBe(true);
  });
});
