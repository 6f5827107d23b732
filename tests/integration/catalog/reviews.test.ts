import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/database.js';
import type { CompletedOrder, CompletedOrderLookup } from '../../../src/modules/catalog/index.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { activeRestaurant, createActors, post, type Actors, catalogTestApp } from './helpers.js';

/**
 * A CompletedOrderLookup backed by a small table, standing in for the orders context until it
 * exists: tests record completed orders through `record`, the catalog reads them through the
 * interface it will use in production.
 */
async function tableLookup(db: Db): Promise<
  CompletedOrderLookup & {
    record(order: Omit<CompletedOrder, 'orderId' | 'completedAt'> & { completedAt?: Date }): Promise<string>;
  }
> {
  await sql`CREATE TABLE IF NOT EXISTS test_completed_orders (order_id uuid PRIMARY KEY, customer_id uuid NOT NULL, restaurant_id uuid NOT NULL, driver_id uuid, completed_at timestamptz NOT NULL)`.execute(
    db,
  );
  return {
    async record(order) {
      const orderId = randomUUID();
      await sql`INSERT INTO test_completed_orders VALUES (${orderId}, ${order.customerId}, ${order.restaurantId}, ${order.driverId}, ${order.completedAt ?? new Date()})`.execute(
        db,
      );
      return orderId;
    },
    async findCompletedOrder(orderId) {
      const result = await sql<{
        order_id: string;
        customer_id: string;
        restaurant_id: string;
        driver_id: string | null;
        completed_at: Date;
      }>`SELECT * FROM test_completed_orders WHERE order_id = ${orderId}`.execute(db);
      const row = result.rows[0];
      return row === undefined
        ? undefined
        : {
            orderId: row.order_id,
            customerId: row.customer_id,
            restaurantId: row.restaurant_id,
            driverId: row.driver_id,
            completedAt: row.completed_at,
          };
    },
  };
}

let testApp: TestApp;
let actors: Actors;
let restaurantId: string;
let lookup: Awaited<ReturnType<typeof tableLookup>>;
const driverId = randomUUID();

beforeAll(async () => {
  testApp = await catalogTestApp();
  actors = await createActors(testApp);
  restaurantId = await activeRestaurant(testApp, actors);
  lookup = await tableLookup(testApp.services.runtime.database.db);
  testApp.services.catalog.useCompletedOrderLookup(lookup);
});
afterAll(async () => testApp?.close());

const profile = async () =>
  (await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${restaurantId}` })).json();

describe('reviews and ratings', () => {
  it('only the customer of a completed order from that restaurant may review, once per order; the average follows', async () => {
    const orderId = await lookup.record({ customerId: actors.customer.userId, restaurantId, driverId });
    const stranger = await post(
      testApp,
      `/v1/restaurants/${restaurantId}/reviews`,
      actors.owner.accessToken,
      { orderId, rating: 5 },
    );
    expect(stranger.statusCode).toBe(403);
    const unknownOrder = await post(
      testApp,
      `/v1/restaurants/${restaurantId}/reviews`,
      actors.customer.accessToken,
      { orderId: randomUUID(), rating: 5 },
    );
    expect(unknownOrder.json().code).toBe('order_not_reviewable');
    const first = await post(
      testApp,
      `/v1/restaurants/${restaurantId}/reviews`,
      actors.customer.accessToken,
      { orderId, rating: 4, comment: 'Le ndolè était parfait' },
    );
    expect(first.statusCode).toBe(201);
    const twice = await post(
      testApp,
      `/v1/restaurants/${restaurantId}/reviews`,
      actors.customer.accessToken,
      { orderId, rating: 1 },
    );
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('already_reviewed');
    const second = await lookup.record({ customerId: actors.customer.userId, restaurantId, driverId });
    await post(testApp, `/v1/restaurants/${restaurantId}/reviews`, actors.customer.accessToken, {
      orderId: second,
      rating: 5,
    });
    expect((await profile()).rating).toEqual({ average: 4.5, count: 2 });
  });

  it('refuses an order from another restaurant and an order past the review window', async () => {
    const other = await activeRestaurant(testApp, actors);
    const orderId = await lookup.record({
      customerId: actors.customer.userId,
      restaurantId: other,
      driverId: null,
    });
    expect(
      (
        await post(testApp, `/v1/restaurants/${restaurantId}/reviews`, actors.customer.accessToken, {
          orderId,
          rating: 3,
        })
      ).statusCode,
    ).toBe(403);
    const old = await lookup.record({
      customerId: actors.customer.userId,
      restaurantId,
      driverId: null,
      completedAt: new Date(Date.now() - 40 * 86_400_000),
    });
    const late = await post(testApp, `/v1/restaurants/${restaurantId}/reviews`, actors.customer.accessToken, {
      orderId: old,
      rating: 3,
    });
    expect(late.statusCode).toBe(422);
  });

  it('counts helpful votes once per user, never your own', async () => {
    const orderId = await lookup.record({ customerId: actors.customer.userId, restaurantId, driverId: null });
    const review = (
      await post(testApp, `/v1/restaurants/${restaurantId}/reviews`, actors.customer.accessToken, {
        orderId,
        rating: 5,
      })
    ).json();
    const voter = await createUser(testApp, { roles: ['customer'] });
    const vote = () => post(testApp, `/v1/reviews/${review.id}/helpful`, voter.accessToken, {});
    expect((await vote()).json()).toMatchObject({ helpful: 1, counted: true });
    expect((await vote()).json()).toMatchObject({ helpful: 1, counted: false });
    expect(
      (await post(testApp, `/v1/reviews/${review.id}/helpful`, actors.customer.accessToken, {})).statusCode,
    ).toBe(422);
  });

  it('the owner replies once; nobody else may', async () => {
    const orderId = await lookup.record({ customerId: actors.customer.userId, restaurantId, driverId: null });
    const review = (
      await post(testApp, `/v1/restaurants/${restaurantId}/reviews`, actors.customer.accessToken, {
        orderId,
        rating: 2,
        comment: 'Froid',
      })
    ).json();
    const intruder = await createUser(testApp, { roles: ['restaurant_owner'] });
    expect(
      (await post(testApp, `/v1/reviews/${review.id}/reply`, intruder.accessToken, { reply: 'Non' }))
        .statusCode,
    ).toBe(403);
    const reply = await post(testApp, `/v1/reviews/${review.id}/reply`, actors.owner.accessToken, {
      reply: 'Désolés, la prochaine fois sera meilleure',
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.json().reply).toMatch(/Désolés/);
    expect(
      (
        await post(testApp, `/v1/reviews/${review.id}/reply`, actors.owner.accessToken, { reply: 'Encore' })
      ).json().code,
    ).toBe('already_replied');
  });

  it('lists reviews newest first across cursor pages', async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const response = await testApp.app.inject({
        method: 'GET',
        url: `/v1/restaurants/${restaurantId}/reviews?limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      });
      const body = response.json();
      all.push(...body.items.map((item: { id: string }) => item.id));
      cursor = body.nextCursor;
      if (cursor === undefined) break;
    }
    const count = await testApp.services.db
      .selectFrom('restaurant_reviews')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('restaurant_id', '=', restaurantId)
      .executeTakeFirstOrThrow();
    expect(all.length).toBe(Number(count.n));
    expect(new Set(all).size).toBe(all.length);
  });

  it('rates the driver of a completed order once; the average is kept', async () => {
    const orderId = await lookup.record({ customerId: actors.customer.userId, restaurantId, driverId });
    const wrongDriver = await post(
      testApp,
      `/v1/drivers/${randomUUID()}/ratings`,
      actors.customer.accessToken,
      { orderId, rating: 5 },
    );
    expect(wrongDriver.statusCode).toBe(403);
    const rated = await post(testApp, `/v1/drivers/${driverId}/ratings`, actors.customer.accessToken, {
      orderId,
      rating: 4,
    });
    expect(rated.statusCode).toBe(201);
    expect(rated.json()).toMatchObject({ average: 4, count: 1 });
    expect(
      (
        await post(testApp, `/v1/drivers/${driverId}/ratings`, actors.customer.accessToken, {
          orderId,
          rating: 1,
        })
      ).statusCode,
    ).toBe(409);
    const other = await lookup.record({ customerId: actors.customer.userId, restaurantId, driverId });
    await post(testApp, `/v1/drivers/${driverId}/ratings`, actors.customer.accessToken, {
      orderId: other,
      rating: 5,
    });
    const summary = await testApp.app.inject({
      method: 'GET',
      url: `/v1/drivers/${driverId}/rating`,
      headers: authHeader(actors.customer.accessToken),
    });
    expect(summary.json()).toMatchObject({ average: 4.5, count: 2 });
  });
});
