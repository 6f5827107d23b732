import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { act, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * A city's matching radii (issue #26), on PostgreSQL and Redis: dispatch reads them through the
 * catalog's delivery terms when it opens (not from its own config), keeps them in
 * `DispatchOpened`, widens by them, and a staff retry restarts from the city's first radius. The
 * configured radius here is 3 km, one round, no widening.
 */
let world: OrderWorld;
const online: CreatedUser[] = [];

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
    DISPATCH_SWEEP_INTERVAL_MS: '200',
    DISPATCH_MAX_ROUNDS: '1',
    DISPATCH_EMPTY_ROUND_WAIT_SECONDS: '0',
    DISPATCH_RADIUS_KM: '3',
    DISPATCH_MAX_RADIUS_KM: '3',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
}, 120_000);
afterEach(async () => {
  await Promise.all(online.splice(0).map((driver) => goOnline(driver, false)));
});
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, token: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const goOnline = (driver: CreatedUser, isOnline = true) =>
  inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: isOnline });
const setDoualaRules = (rules: Record<string, unknown>) =>
  inject('PATCH', '/v1/admin/cities/douala', world.actors.admin.accessToken, { rules });

async function driverAt(metresNorth: number): Promise<CreatedUser> {
  const driver = await approvedDriver(world.testApp);
  expect((await goOnline(driver)).statusCode).toBe(200);
  online.push(driver);
  const fix = await inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
    latitude: RESTAURANT_AT.latitude + metresNorth / 111_320,
    longitude: RESTAURANT_AT.longitude,
    accuracyMeters: 10,
    recordedAt: new Date().toISOString(),
  });
  expect(fix.statusCode, fix.body).toBe(200);
  return driver;
}

async function acceptedOrder(): Promise<string> {
  const buyer = await createUser(world.testApp);
  const placed = await placeOrder(world, buyer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const accepted = await act(world, placed.json().id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  expect(accepted.statusCode, accepted.body).toBe(200);
  return placed.json().id as string;
}

async function untilDispatch(orderId: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const read = () => inject('GET', `/v1/admin/dispatch/${orderId}`, world.actors.admin.accessToken);
  while (Date.now() < deadline) {
    const response = await read();
    if (response.statusCode === 200 && response.json().status === status) return response.json();
    await sleep(150);
  }
  throw new Error(`dispatch of ${orderId} never reached ${status}: ${(await read()).body}`);
}

describe("dispatch reads the city's matching radii", () => {
  it('a city radius wider than the configured one reaches a driver 5 km away', async () => {
    const rules = await setDoualaRules({ dispatchRadiusKm: 6, dispatchMaxRadiusKm: 8 });
    expect(rules.statusCode, rules.body).toBe(200);
    expect(rules.json().rules).toEqual({ dispatchRadiusKm: 6, dispatchMaxRadiusKm: 8 });
    const far = await driverAt(5_000);
    const orderId = await acceptedOrder();
    const dispatch = await untilDispatch(orderId, 'offered');
    expect(dispatch.radiusKm).toBe(6);
    expect(dispatch.events[0]).toMatchObject({
      type: 'DispatchOpened',
      data: {
        radiusKm: 6,
        city: { cityId: 'douala', firstRadiusKm: 6, radiusStepKm: 3, maxRadiusKm: 8 },
      },
    });
    expect(dispatch.events[1]).toMatchObject({
      type: 'DriverOffered',
      data: { driverId: far.userId, radiusKm: 6 },
    });
  });

  it('a city radius narrower than the configured one leaves a driver 2 km away out, retry included', async () => {
    expect((await setDoualaRules({ dispatchRadiusKm: 1, dispatchMaxRadiusKm: 1 })).statusCode).toBe(200);
    await driverAt(2_000);
    const orderId = await acceptedOrder();
    const failed = await untilDispatch(orderId, 'failed');
    expect(failed.events[0].data.city).toEqual({
      cityId: 'douala',
      firstRadiusKm: 1,
      radiusStepKm: 3,
      maxRadiusKm: 1,
    });
    expect(failed.events.map((event: { type: string }) => event.type)).toEqual([
      'DispatchOpened',
      'DispatchFailed',
    ]);

    // The city widens its radius: a retry keeps the rules the dispatch opened with (1 km), as
    // the stream says; a new order takes the new ones.
    expect((await setDoualaRules({ dispatchRadiusKm: 3 })).statusCode).toBe(200);
    const retried = await inject(
      'POST',
      `/v1/admin/dispatch/${orderId}/retry`,
      world.support.accessToken,
      {},
    );
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ attempt: 1, status: 'failed' });
    const after = await untilDispatch(orderId, 'failed');
    expect(
      after.events.find((event: { type: string }) => event.type === 'DispatchRetried').data,
    ).toMatchObject({
      radiusKm: 1,
    });
    const next = await acceptedOrder();
    const offered = await untilDispatch(next, 'offered');
    expect(offered.events[0].data.city).toMatchObject({ firstRadiusKm: 3, maxRadiusKm: 3 });
  });

  it('refuses radii a city cannot have, changing nothing', async () => {
    expect((await setDoualaRules({ dispatchRadiusKm: 2 })).statusCode).toBe(200);
    const narrower = await setDoualaRules({ dispatchRadiusKm: 4, dispatchMaxRadiusKm: 2 });
    expect(narrower.statusCode).toBe(400);
    expect(narrower.json()).toMatchObject({
      code: 'invalid_city',
      errors: [{ path: 'rules.dispatchMaxRadiusKm' }],
    });
    for (const bad of [0, 0.3, 1.25, 51, -1, '3', null])
      expect((await setDoualaRules({ dispatchRadiusKm: bad })).statusCode, String(bad)).toBe(400);
    const city = await inject('GET', '/v1/admin/cities', world.actors.admin.accessToken);
    const douala = (city.json().items ?? city.json()).find((each: { id: string }) => each.id === 'douala');
    expect(douala.rules).toEqual({ dispatchRadiusKm: 2 });
  });
});
