import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeMessage } from '../../../src/realtime/index.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { act, NEAR, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Geofences on PostgreSQL and Redis: a carrying driver's position at the restaurant tells the
 * order's customer and restaurant `DriverArrivedAtRestaurant`, and near the customer after pickup
 * `DriverArriving`, each once per order however many fixes follow; a position outside the fence
 * tells nothing.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
    DISPATCH_OFFER_TIMEOUT_SECONDS: '30',
    DISPATCH_SWEEP_INTERVAL_MS: '200',
    DISPATCH_GEOFENCE_RESTAURANT_METERS: '100',
    DISPATCH_GEOFENCE_CUSTOMER_METERS: '200',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const fixAt = (
  token: string,
  point: { latitude: number; longitude: number },
  agoMs: number,
  accuracyMeters = 10,
) =>
  inject('PUT', '/v1/drivers/me/location', token, {
    latitude: point.latitude,
    longitude: point.longitude,
    accuracyMeters,
    recordedAt: new Date(Date.now() - agoMs).toISOString(),
  });
const north = (metres: number) => ({
  latitude: RESTAURANT_AT.latitude + metres / 111_320,
  longitude: RESTAURANT_AT.longitude,
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('geofences', () => {
  it('tells the customer and the restaurant once: at the restaurant, then arriving at the customer', async () => {
    const driver = await approvedDriver(world.testApp);
    expect(
      (await inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: true })).statusCode,
    ).toBe(200);
    // Positions are recorded in the past so that the later ride is at a believable speed.
    expect((await fixAt(driver.accessToken, north(350), 112_000)).statusCode).toBe(200);

    const customer = await createUser(world.testApp);
    const heard: RealtimeMessage[] = [];
    const stops = await Promise.all(
      [`user:${customer.userId}`, `owner:${world.actors.owner.userId}`].map((audience) =>
        world.testApp.services.realtime.bus.subscribe(audience, (message) => heard.push(message)),
      ),
    );
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const orderId: string = placed.json().id;
    const accepted = await act(world, orderId, 'accept', world.actors.owner.accessToken, {
      preparationMinutes: 10,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const pickupCode: string = accepted.json().pickupCode;
    const offer = await until(
      async () =>
        (
          (await inject('GET', '/v1/drivers/me/offers', driver.accessToken)).json().items as {
            offerId: string;
            orderId: string;
          }[]
        ).find((item) => item.orderId === orderId),
      (found) => found !== undefined,
      'the offer',
    );
    expect(
      (await inject('POST', `/v1/drivers/me/offers/${offer!.offerId}/accept`, driver.accessToken, {}))
        .statusCode,
    ).toBe(200);
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
    const geofences = world.testApp.services.dispatch.geofences;
    const of = (type: string) =>
      heard.filter((message) => message.type === type && message.orderId === orderId);

    // 300 m away: outside the 100 m fence, nothing.
    expect((await fixAt(driver.accessToken, north(300), 105_000)).statusCode).toBe(200);
    // Inside the fence, but 80 m of accuracy (over DISPATCH_LOCATION_USABLE_ACCURACY_METERS, 50):
    // accepted and stored, not used to mark the arrival.
    const coarse = await fixAt(driver.accessToken, north(30), 97_000, 80);
    expect(coarse.statusCode, coarse.body).toBe(200);
    expect(coarse.json()).toMatchObject({ status: 'accepted', usable: false });
    await sleep(300);
    expect(await geofences.arrivals(orderId)).toEqual([]);
    // At the restaurant: told once to each audience, then never again.
    expect((await fixAt(driver.accessToken, north(20), 95_000)).statusCode).toBe(200);
    await until(
      () => geofences.arrivals(orderId),
      (rows) => rows.length === 1,
      'the arrival at the restaurant',
    );
    expect((await geofences.arrivals(orderId)).map((row) => row.kind)).toEqual(['restaurant']);
    expect((await fixAt(driver.accessToken, north(10), 90_000)).statusCode).toBe(200);
    await until(
      async () => of('DriverArrivedAtRestaurant'),
      (found) => found.length >= 2,
      'both audiences told',
    );
    expect(of('DriverArrivedAtRestaurant')[0]).toMatchObject({
      channel: 'order-updates',
      data: { orderId, driverId: driver.userId },
    });

    const owner = world.actors.owner.accessToken;
    expect((await act(world, orderId, 'prepare', owner)).statusCode).toBe(200);
    expect((await act(world, orderId, 'ready', owner)).statusCode).toBe(200);
    expect((await act(world, orderId, 'pickup', driver.accessToken, { pickupCode })).statusCode).toBe(200);
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
    // Still at the restaurant after pickup: the customer's fence is far, nothing.
    expect((await fixAt(driver.accessToken, north(5), 85_000)).statusCode).toBe(200);
    await sleep(300);
    expect((await geofences.arrivals(orderId)).map((row) => row.kind)).toEqual(['restaurant']);
    // At the customer's door (about 1.2 km in a minute and a half): arriving, once.
    expect((await fixAt(driver.accessToken, NEAR, 10_000)).statusCode).toBe(200);
    await until(
      () => geofences.arrivals(orderId),
      (rows) => rows.length === 2,
      'the arrival at the customer',
    );
    expect((await fixAt(driver.accessToken, NEAR, 5_000)).statusCode).toBe(200);
    await until(
      async () => of('DriverArriving'),
      (found) => found.length >= 2,
      'both audiences told',
    );
    // Give a duplicate every chance to show up before counting.
    await sleep(500);
    expect(of('DriverArrivedAtRestaurant')).toHaveLength(2);
    expect(of('DriverArriving')).toHaveLength(2);
    expect((await geofences.arrivals(orderId)).map((row) => row.kind)).toEqual(['restaurant', 'customer']);

    // Each arrival was also pushed through notify, once: to the restaurant at the restaurant, to
    // the customer near the drop point (for a phone that is not on the socket).
    const intents = await world.testApp.services.db
      .selectFrom('notification_intents')
      .select(['recipient_id', 'kind'])
      .where('order_id', '=', orderId)
      .where('kind', 'in', ['restaurant.driver_arrived', 'order.driver_arriving'])
      .orderBy('kind')
      .execute();
    expect(intents).toEqual([
      { recipient_id: customer.userId, kind: 'order.driver_arriving' },
      { recipient_id: world.actors.owner.userId, kind: 'restaurant.driver_arrived' },
    ]);
    // Another instance (or a restart) that sees the driver inside the fence asks notify again:
    // the intent is named after the order and the kind, nothing new is recorded.
    const again = await world.testApp.services.notify.driverArrival({
      orderId,
      kind: 'customer',
      customerId: customer.userId,
      ownerId: world.actors.owner.userId,
    });
    expect(again.created).toBe(false);
    await Promise.all(stops.map((stop) => stop()));
    await inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: false });
  });
});
