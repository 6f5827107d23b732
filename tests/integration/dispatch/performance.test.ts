import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { until } from '../payments/helpers.js';
import { act, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * A driver's acceptance and on-time rates on PostgreSQL and Redis, from what really happened: the
 * offers made to the driver (accepted against accepted, declined and expired) and the deliveries
 * whose acceptance promised an ETA (delivered within the grace after it). The driver and staff see
 * the same figures.
 */
let world: OrderWorld;
let driver: CreatedUser;

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
    DISPATCH_OFFER_TIMEOUT_SECONDS: '30',
    DISPATCH_SWEEP_INTERVAL_MS: '200',
    DISPATCH_OFFERS_PER_ROUND: '1',
    DISPATCH_MAX_ROUNDS: '1',
    DISPATCH_ON_TIME_GRACE_MINUTES: '0',
    DISPATCH_DELIVERY_PHOTO_REQUIRED: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  driver = await approvedDriver(world.testApp);
  expect(
    (await inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: true })).statusCode,
  ).toBe(200);
  const fix = await inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
    latitude: RESTAURANT_AT.latitude + 100 / 111_320,
    longitude: RESTAURANT_AT.longitude,
    accuracyMeters: 10,
    recordedAt: new Date().toISOString(),
  });
  expect(fix.statusCode, fix.body).toBe(200);
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
});

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

async function acceptedOrder() {
  const customer = await createUser(world.testApp);
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const accepted = await act(world, placed.json().id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  expect(accepted.statusCode, accepted.body).toBe(200);
  return {
    customer,
    id: placed.json().id as string,
    deliveryPin: placed.json().deliveryPin as string,
    pickupCode: accepted.json().pickupCode as string,
  };
}

async function offerFor(orderId: string): Promise<string> {
  const offers = await until(
    async () =>
      (await inject('GET', '/v1/drivers/me/offers', driver.accessToken)).json().items as {
        offerId: string;
        orderId: string;
      }[],
    (items) => items.some((item) => item.orderId === orderId),
    30_000,
  );
  return offers.find((item) => item.orderId === orderId)!.offerId;
}

async function deliver(order: {
  id: string;
  deliveryPin: string;
  pickupCode: string;
  customer: CreatedUser;
}) {
  const owner = world.actors.owner.accessToken;
  expect((await act(world, order.id, 'prepare', owner)).statusCode).toBe(200);
  expect((await act(world, order.id, 'ready', owner)).statusCode).toBe(200);
  const picked = await act(world, order.id, 'pickup', driver.accessToken, { pickupCode: order.pickupCode });
  expect(picked.statusCode, picked.body).toBe(200);
  const delivered = await act(world, order.id, 'deliver', driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
}

const promiseOf = (orderId: string) =>
  world.testApp.services.db
    .selectFrom('dispatch_delivery_promises')
    .selectAll()
    .where('order_id', '=', orderId)
    .executeTakeFirst();

describe('acceptance and on-time rates', () => {
  it('counts the offers the driver answered and the promised deliveries kept, for the driver and for staff', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();

    // One offer declined.
    const declined = await acceptedOrder();
    const declinedOffer = await offerFor(declined.id);
    expect(
      (await inject('POST', `/v1/drivers/me/offers/${declinedOffer}/decline`, driver.accessToken, {}))
        .statusCode,
    ).toBe(200);

    // One accepted and delivered well before the ETA promised at acceptance (about 15 minutes).
    const early = await acceptedOrder();
    const earlyOffer = await offerFor(early.id);
    expect(
      (await inject('POST', `/v1/drivers/me/offers/${earlyOffer}/accept`, driver.accessToken, {})).statusCode,
    ).toBe(200);
    const promised = await until(
      () => promiseOf(early.id),
      (row) => row !== undefined,
      20_000,
    );
    expect(promised!.driver_id).toBe(driver.userId);
    expect(promised!.promised_at.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    await deliver(early);
    const kept = await until(
      () => promiseOf(early.id),
      (row) => row?.delivered_at != null,
      20_000,
    );

    // A redelivered OrderDelivered (the reactor is at least once) keeps the first delivery's time.
    await world.testApp.services.dispatch.eta.delivered(
      early.id,
      driver.userId,
      new Date(Date.now() + 3_600_000),
    );
    expect((await promiseOf(early.id))!.delivered_at).toEqual(kept!.delivered_at);

    // One accepted whose promise had passed when it was delivered (the promise moved an hour back
    // stands for a ride that took an hour longer than promised).
    const late = await acceptedOrder();
    const lateOffer = await offerFor(late.id);
    expect(
      (await inject('POST', `/v1/drivers/me/offers/${lateOffer}/accept`, driver.accessToken, {})).statusCode,
    ).toBe(200);
    await until(
      () => promiseOf(late.id),
      (row) => row !== undefined,
      20_000,
    );
    await sql`UPDATE dispatch_delivery_promises SET promised_at = now() - interval '1 hour' WHERE order_id = ${late.id}`.execute(
      world.testApp.services.db,
    );
    await deliver(late);
    await until(
      () => promiseOf(late.id),
      (row) => row?.delivered_at != null,
      20_000,
    );

    // The early order's customer rates the driver 5; one rating of 3 was given in the period of the
    // same length just before (history, written as it stands); the late order's customer complains.
    const rated = await inject('POST', `/v1/drivers/${driver.userId}/ratings`, early.customer.accessToken, {
      orderId: early.id,
      rating: 5,
    });
    expect(rated.statusCode, rated.body).toBe(201);
    await sql`INSERT INTO driver_ratings (driver_id, order_id, customer_id, rating, created_at)
      VALUES (${driver.userId}, gen_random_uuid(), ${early.customer.userId}, 3,
        ${new Date(Date.parse(from) - 30_000)})`.execute(world.testApp.services.db);
    const complaint = await inject('POST', '/v1/support/tickets', late.customer.accessToken, {
      category: 'delivery',
      subject: 'Retard',
      body: 'Une heure de retard, le livreur ne répondait pas.',
      orderId: late.id,
    });
    expect(complaint.statusCode, complaint.body).toBe(201);
    // A second ticket about the same order is still one complained-about delivery.
    expect(
      (
        await inject('POST', '/v1/support/tickets', late.customer.accessToken, {
          category: 'order_problem',
          subject: 'Froid',
          body: 'Et le plat était froid.',
          orderId: late.id,
        })
      ).statusCode,
    ).toBe(201);

    // A complaint about the order the driver declined (someone else's delivery, or none) is not theirs.
    expect(
      (
        await inject('POST', '/v1/support/tickets', declined.customer.accessToken, {
          category: 'delivery',
          subject: 'Pas livré',
          body: 'Personne ne vient.',
          orderId: declined.id,
        })
      ).statusCode,
    ).toBe(201);

    const to = new Date(Date.now() + 60_000).toISOString();
    const url = `performance?from=${from}&to=${to}`;
    const mine = await inject('GET', `/v1/drivers/me/${url}`, driver.accessToken);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toMatchObject({
      acceptanceRate: 0.667,
      offers: { answered: 3, accepted: 2 },
      onTimeRate: 0.5,
      punctuality: { delivered: 2, onTime: 1, graceMinutes: 0 },
    });
    expect(mine.json().ratingTrend).toEqual({
      current: { average: 5, count: 1 },
      previous: { average: 3, count: 1 },
      change: 2,
    });
    expect(mine.json().complaints).toEqual({ orders: 1, rate: 0.5, byCategory: { delivery: 1 } });
    const staff = await inject(
      'GET',
      `/v1/admin/drivers/${driver.userId}/${url}`,
      world.actors.admin.accessToken,
    );
    expect(staff.json()).toEqual(mine.json());

    // A period before any of it has nothing to divide.
    const before = await inject(
      'GET',
      `/v1/drivers/me/performance?from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${from}`,
      driver.accessToken,
    );
    expect(before.json()).toMatchObject({
      acceptanceRate: null,
      onTimeRate: null,
      offers: { answered: 0 },
      ratingTrend: { current: { average: 3, count: 1 }, previous: { average: null, count: 0 }, change: null },
      complaints: { orders: 0, rate: null, byCategory: {} },
    });
  });
});
