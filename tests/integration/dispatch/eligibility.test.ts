import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { act, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Onboarding's word in matching and on shift, on PostgreSQL and Redis: a driver whose licence
 * expired while on shift (before the daily round) is not offered, the next one is; going online
 * with another vehicle than the approved one is 422 and changes nothing; a shift without a
 * declared vehicle takes the approved one.
 */
let world: OrderWorld;
const online: CreatedUser[] = [];

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
    DISPATCH_OFFER_TIMEOUT_SECONDS: '30',
    DISPATCH_SWEEP_INTERVAL_MS: '200',
    DISPATCH_RADIUS_KM: '3',
    // Half the mean speed at every hour: the travel time in each offer doubles.
    ROUTING_SPEED_FACTORS_BY_HOUR: '0-24:0.5',
    ROUTING_SPEED_KMH_MOTORBIKE: '22',
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
const inject = (method: 'GET' | 'PUT', url: string, token: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const goOnline = (driver: CreatedUser, isOnline = true, vehicle?: string) =>
  inject('PUT', '/v1/drivers/me/availability', driver.accessToken, {
    online: isOnline,
    ...(vehicle === undefined ? {} : { vehicle }),
  });

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

async function untilOffered(orderId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const read = () => inject('GET', `/v1/admin/dispatch/${orderId}`, world.actors.admin.accessToken);
  while (Date.now() < deadline) {
    const response = await read();
    if (response.statusCode === 200 && response.json().status === 'offered') return response.json();
    await sleep(150);
  }
  throw new Error(`dispatch of ${orderId} never made an offer: ${(await read()).body}`);
}

describe('matching asks onboarding for each candidate', () => {
  it('a driver whose licence expired while on shift is not offered; the next driver is', async () => {
    const expired = await driverAt(80);
    const valid = await driverAt(900);
    await sql`UPDATE driver_applications SET licence_expires_on = current_date - 2 WHERE user_id = ${expired.userId}`.execute(
      world.testApp.services.db,
    );
    // Still on shift and in the index: only matching's question keeps the offer away.
    const nearby = await world.testApp.services.dispatch.index.nearby(RESTAURANT_AT, 3, 50);
    expect(nearby.map((driver) => driver.driverId)).toContain(expired.userId);
    expect(
      await world.testApp.services.dispatch.onboarding.eligibleAmong([expired.userId, valid.userId]),
    ).toEqual(new Set([valid.userId]));

    const buyer = await createUser(world.testApp);
    const placed = await placeOrder(world, buyer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const orderId = placed.json().id;
    const accepted = await act(world, orderId, 'accept', world.actors.owner.accessToken, {
      preparationMinutes: 10,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);

    const audit = await untilOffered(orderId);
    const offered = audit.events.filter((event: { type: string }) => event.type === 'DriverOffered');
    expect(offered.map((event: { data: { driverId: string } }) => event.data.driverId)).toEqual([
      valid.userId,
    ]);
    // The travel time comes from the routing port at the hour's speed (22 km/h × 0.5).
    const { travelMeters, travelSeconds } = offered[0].data as {
      travelMeters: number;
      travelSeconds: number;
    };
    expect(travelMeters).toBeGreaterThan(900);
    expect(Math.abs(travelSeconds - travelMeters / ((22_000 * 0.5) / 3_600))).toBeLessThanOrEqual(2);
  });
});

describe('the vehicle on going online', () => {
  it('another vehicle than the approved one is 422 and changes nothing; none declared takes the approved one', async () => {
    const cyclist = await approvedDriver(world.testApp, { vehicle: 'bicycle' });
    const refused = await goOnline(cyclist, true, 'motorbike');
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'vehicle_not_approved', approvedVehicle: 'bicycle' });
    expect((await inject('GET', '/v1/drivers/me', cyclist.accessToken)).json()).toMatchObject({
      online: false,
    });
    const shifts = await world.testApp.services.db
      .selectFrom('driver_shift_events')
      .select('vehicle')
      .where('driver_id', '=', cyclist.userId)
      .execute();
    expect(shifts).toEqual([]);

    const undeclared = await goOnline(cyclist);
    expect(undeclared.statusCode, undeclared.body).toBe(200);
    online.push(cyclist);
    expect(undeclared.json()).toMatchObject({ online: true, vehicle: 'bicycle' });
    expect((await goOnline(cyclist, true, 'bicycle')).json()).toMatchObject({
      online: true,
      vehicle: 'bicycle',
    });

    // A shift row left with another vehicle (before this check existed): the next shift corrects it.
    const rider = await approvedDriver(world.testApp);
    await world.testApp.services.db
      .insertInto('driver_availability')
      .values({ driver_id: rider.userId, online: false, vehicle: 'car', since: new Date() })
      .execute();
    const corrected = await goOnline(rider);
    online.push(rider);
    expect(corrected.json()).toMatchObject({ online: true, vehicle: 'motorbike' });
    // Going offline never asks onboarding.
    expect((await goOnline(rider, false, 'car')).statusCode).toBe(200);
  });
});
