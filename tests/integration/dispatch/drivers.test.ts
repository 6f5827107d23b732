import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeMessage } from '../../../src/realtime/index.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { act, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Drivers' shifts and positions over HTTP, on PostgreSQL and Redis (the Redis location index):
 * availability, each bad fix refused with nothing indexed, the rate and speed rules, the
 * throttled driver-location fan-out to the carried order's customer and restaurant only, and the
 * driver's position on public tracking at PICKED_UP only.
 */
const MIN_INTERVAL_MS = 1_000;
const FANOUT_INTERVAL_MS = 2_500;
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: String(MIN_INTERVAL_MS),
    DISPATCH_FANOUT_INTERVAL_MS: String(FANOUT_INTERVAL_MS),
  });
});
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const put = (token: string, url: string, payload: unknown) =>
  world.testApp.app.inject({ method: 'PUT', url, headers: authHeader(token), payload: payload as object });
const goOnline = (driver: CreatedUser, online = true, vehicle?: string) =>
  put(driver.accessToken, '/v1/drivers/me/availability', { online, ...(vehicle ? { vehicle } : {}) });
const sendFix = (driver: CreatedUser, fix: Record<string, unknown>) =>
  put(driver.accessToken, '/v1/drivers/me/location', fix);
const fixAt = (
  point: { latitude: number; longitude: number },
  agoMs = 0,
  extra: Record<string, unknown> = {},
) => ({
  latitude: point.latitude,
  longitude: point.longitude,
  accuracyMeters: 12,
  recordedAt: new Date(Date.now() - agoMs).toISOString(),
  ...extra,
});
async function nearbyIds(point = RESTAURANT_AT, radiusKm = 5): Promise<string[]> {
  const response = await world.testApp.app.inject({
    method: 'GET',
    url: `/v1/admin/drivers/nearby?latitude=${point.latitude}&longitude=${point.longitude}&radiusKm=${radiusKm}`,
    headers: authHeader(world.actors.admin.accessToken),
  });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json().items as { driverId: string }[]).map((item) => item.driverId);
}
const me = async (driver: CreatedUser) =>
  (
    await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/drivers/me',
      headers: authHeader(driver.accessToken),
    })
  ).json();

describe('availability', () => {
  it('goes online and offline: one shift event per change, offline leaves the index and refuses positions', async () => {
    const driver = await approvedDriver(world.testApp, { vehicle: 'car' });
    expect(await me(driver)).toMatchObject({ online: false, since: null, lastPosition: null });

    const online = await goOnline(driver, true, 'car');
    expect(online.statusCode, online.body).toBe(200);
    expect(online.json()).toMatchObject({ online: true, vehicle: 'car' });
    expect((await goOnline(driver)).json()).toMatchObject({ online: true, vehicle: 'car' }); // a retry changes nothing
    expect(await nearbyIds()).not.toContain(driver.userId); // online, but no position yet

    const accepted = await sendFix(driver, fixAt(RESTAURANT_AT));
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'accepted', toldOrders: [] });
    expect(await nearbyIds()).toContain(driver.userId);
    expect((await me(driver)).lastPosition).toMatchObject({
      latitude: RESTAURANT_AT.latitude,
      accuracyMeters: 12,
    });

    expect((await goOnline(driver, false)).json()).toMatchObject({ online: false, vehicle: 'car' });
    expect(await nearbyIds()).not.toContain(driver.userId);
    await sleep(MIN_INTERVAL_MS + 100);
    const offline = await sendFix(driver, fixAt(RESTAURANT_AT));
    expect(offline.statusCode).toBe(409);
    expect(offline.json().code).toBe('driver_offline');
    expect(await nearbyIds()).not.toContain(driver.userId);

    const shifts = await world.testApp.services.dispatch.repository.shiftsOf(driver.userId);
    expect(shifts.map((shift) => shift.online)).toEqual([false, true]); // newest first: on, then off
  });

  it('is for drivers only: a customer is refused by permission, an administrator has no shift', async () => {
    const customer = await put(world.actors.customer.accessToken, '/v1/drivers/me/availability', {
      online: true,
    });
    expect(customer.statusCode).toBe(403);
    expect(customer.headers['content-type']).toMatch(/problem\+json/);
    const customerFix = await sendFix(world.actors.customer, fixAt(RESTAURANT_AT));
    expect(customerFix.statusCode).toBe(403);
    const admin = await sendFix(world.actors.admin, fixAt(RESTAURANT_AT));
    expect(admin.statusCode).toBe(403);
    expect(admin.json().code).toBe('not_a_driver');
    expect(await nearbyIds()).not.toContain(world.actors.admin.userId);
    expect(await nearbyIds()).not.toContain(world.actors.customer.userId);
  });
});

describe('position fixes', () => {
  it('refuses each bad fix with a 4xx problem and indexes nothing', async () => {
    const driver = await approvedDriver(world.testApp);
    await goOnline(driver);
    const bad: [string, Record<string, unknown>, number, string][] = [
      ['latitude out of range', fixAt({ latitude: 91, longitude: 9.7 }), 400, 'validation_failed'],
      ['longitude out of range', fixAt({ latitude: 4, longitude: 181 }), 400, 'validation_failed'],
      ['a string for a number', { ...fixAt(RESTAURANT_AT), latitude: '4.05' }, 400, 'validation_failed'],
      ['null for a number', { ...fixAt(RESTAURANT_AT), longitude: null }, 400, 'validation_failed'],
      ['no timestamp', { latitude: 4.05, longitude: 9.76, accuracyMeters: 5 }, 400, 'validation_failed'],
      [
        'a timestamp that is no date',
        { ...fixAt(RESTAURANT_AT), recordedAt: 'yesterday' },
        400,
        'validation_failed',
      ],
      ['an unknown field', { ...fixAt(RESTAURANT_AT), altitude: 12 }, 400, 'validation_failed'],
      [
        'beyond the latitudes the index covers',
        fixAt({ latitude: 86, longitude: 9.7 }),
        400,
        'location_invalid',
      ],
      ['accuracy too coarse', fixAt(RESTAURANT_AT, 0, { accuracyMeters: 500 }), 400, 'location_invalid'],
      ['a fix from the future', fixAt(RESTAURANT_AT, -60_000), 400, 'location_in_future'],
      ['a fix too old', fixAt(RESTAURANT_AT, 10 * 60_000), 400, 'location_too_old'],
    ];
    for (const [name, payload, status, code] of bad) {
      const response = await sendFix(driver, payload);
      expect(response.statusCode, name).toBe(status);
      expect(response.headers['content-type'], name).toMatch(/application\/problem\+json/);
      expect(response.json().code, name).toBe(code);
    }
    const nan = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/drivers/me/location',
      headers: { ...authHeader(driver.accessToken), 'content-type': 'application/json' },
      payload:
        '{"latitude": NaN, "longitude": 9.7, "accuracyMeters": 5, "recordedAt": "2026-12-05T12:00:00Z"}',
    });
    expect(nan.statusCode).toBe(400);
    const polar = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/drivers/nearby?latitude=89&longitude=9.7',
      headers: authHeader(world.actors.admin.accessToken),
    });
    expect(polar.statusCode).toBe(400); // not a 500 from Redis GEO
    expect(await nearbyIds()).not.toContain(driver.userId);
    expect((await me(driver)).lastPosition).toBeNull();
  });

  it('accepts at most one fix per interval (429 with Retry-After), refuses one out of order', async () => {
    const driver = await approvedDriver(world.testApp);
    await goOnline(driver);
    expect((await sendFix(driver, fixAt(RESTAURANT_AT, 2_000))).statusCode).toBe(200);
    const sooner = await sendFix(driver, fixAt({ latitude: 4.0521, longitude: 9.7679 }));
    expect(sooner.statusCode).toBe(429);
    expect(sooner.json().code).toBe('location_too_frequent');
    expect(Number(sooner.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await sleep(MIN_INTERVAL_MS + 100);
    const older = await sendFix(driver, fixAt({ latitude: 4.0521, longitude: 9.7679 }, 5_000));
    expect(older.statusCode).toBe(409);
    expect(older.json().code).toBe('location_out_of_order');
    expect((await me(driver)).lastPosition.latitude).toBe(RESTAURANT_AT.latitude);
  });

  it('flags an impossible speed (stored for review, counted) and does not use the fix', async () => {
    const driver = await approvedDriver(world.testApp, { vehicle: 'bicycle' });
    await goOnline(driver, true, 'bicycle');
    expect((await sendFix(driver, fixAt(RESTAURANT_AT, 5_000))).statusCode).toBe(200);
    await sleep(MIN_INTERVAL_MS + 100);
    // ~28 km north in about six seconds
    const teleport = await sendFix(driver, fixAt({ latitude: 4.3011, longitude: 9.7679 }));
    expect(teleport.statusCode).toBe(422);
    expect(teleport.json()).toMatchObject({ code: 'location_impossible_speed', limitKmh: 60 });
    const flags = await world.testApp.services.dispatch.repository.flagsOf(driver.userId);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ reason: 'impossible_speed', vehicle: 'bicycle', latitude: 4.3011 });
    expect(flags[0]!.speed_kmh).toBeGreaterThan(1_000);
    expect((await me(driver)).lastPosition.latitude).toBe(RESTAURANT_AT.latitude);
    expect(await nearbyIds({ latitude: 4.3011, longitude: 9.7679 }, 2)).not.toContain(driver.userId);
    expect(await nearbyIds()).toContain(driver.userId);
    const metrics = (await world.testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/dispatch_location_flagged_total\{reason="impossible_speed"\} [1-9]/);
  });

  it('fixes of many drivers at once are each stored and indexed (the batched path); two of one driver at once: one wins', async () => {
    const drivers = await Promise.all(Array.from({ length: 12 }, () => approvedDriver(world.testApp)));
    for (const driver of drivers) expect((await goOnline(driver)).statusCode).toBe(200);
    const points = drivers.map((_, index) => ({
      latitude: RESTAURANT_AT.latitude + index * 0.001,
      longitude: RESTAURANT_AT.longitude,
    }));
    const answers = await Promise.all(
      drivers.map((driver, index) => sendFix(driver, fixAt(points[index]!, 2_000))),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(drivers.map(() => 200));
    const found = await nearbyIds(RESTAURANT_AT, 5);
    for (const [index, driver] of drivers.entries()) {
      expect(found).toContain(driver.userId);
      expect((await me(driver)).lastPosition.latitude).toBeCloseTo(points[index]!.latitude, 9);
    }
    // One driver, two fixes in the same instant: the compare-and-set lets one through.
    await sleep(MIN_INTERVAL_MS + 100);
    const racing = await Promise.all([
      sendFix(drivers[0]!, fixAt(RESTAURANT_AT, 1_000)),
      sendFix(drivers[0]!, fixAt(RESTAURANT_AT, 500)),
    ]);
    expect(racing.map((answer) => answer.statusCode).sort()).toEqual([200, 429]);
    expect(racing.find((answer) => answer.statusCode === 429)!.json().code).toBe('location_too_frequent');
  });

  it('accepts a coarse fix (stored and shown) but keeps it out of the index used for matching', async () => {
    const driver = await approvedDriver(world.testApp);
    await goOnline(driver);
    // 80 m of accuracy: within DISPATCH_LOCATION_MAX_ACCURACY_METERS (100), coarser than the
    // DISPATCH_LOCATION_USABLE_ACCURACY_METERS (50) that matching and geofences decide on.
    const coarse = await sendFix(driver, fixAt(RESTAURANT_AT, 5_000, { accuracyMeters: 80 }));
    expect(coarse.statusCode, coarse.body).toBe(200);
    expect(coarse.json()).toMatchObject({ status: 'accepted', usable: false });
    expect((await me(driver)).lastPosition).toMatchObject({
      latitude: RESTAURANT_AT.latitude,
      accuracyMeters: 80,
    });
    expect(await nearbyIds()).not.toContain(driver.userId);
    await sleep(MIN_INTERVAL_MS + 100);
    const precise = await sendFix(driver, fixAt(RESTAURANT_AT, 0, { accuracyMeters: 50 }));
    expect(precise.json()).toMatchObject({ status: 'accepted', usable: true });
    expect(await nearbyIds()).toContain(driver.userId);
    const metrics = (await world.testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/dispatch_location_coarse_total [1-9]/);
  });
});

describe('driver-location fan-out and public tracking', () => {
  it("tells the carried order's customer and restaurant, throttled, and nobody else; tracking shows the position at PICKED_UP only", async () => {
    const { customer, owner } = world.actors;
    const driver = world.driver;
    const otherCustomer = await createUser(world.testApp, { roles: ['customer'] });
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    const accepted = await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
    const pickupCode = accepted.json().pickupCode as string;
    expect((await act(world, order.id, 'claim', driver.accessToken)).statusCode).toBe(200);
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);

    const heard = new Map<string, RealtimeMessage[]>();
    const bus = world.testApp.services.realtime.bus;
    const unsubscribers = await Promise.all(
      [
        `user:${customer.userId}`,
        `user:${otherCustomer.userId}`,
        `owner:${owner.userId}`,
        `order:${order.id}`,
      ].map((audience) => {
        heard.set(audience, []);
        return bus.subscribe(audience, (message) => {
          if (message.channel === 'driver-location') heard.get(audience)!.push(message);
        });
      }),
    );
    const token = (order.trackingUrl as string).split('/track/')[1]!;
    const tracking = async () =>
      (await world.testApp.app.inject({ method: 'GET', url: `/v1/track/${token}` })).json();

    await goOnline(driver);
    const first = await sendFix(driver, fixAt({ latitude: 4.0521, longitude: 9.7689 }));
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().toldOrders).toEqual([order.id]);
    await sleep(MIN_INTERVAL_MS + 100);
    const second = await sendFix(driver, fixAt({ latitude: 4.0523, longitude: 9.7689 }));
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().toldOrders).toEqual([]); // within the fan-out interval
    await sleep(300);
    expect(heard.get(`user:${customer.userId}`)!.map((message) => message.orderId)).toEqual([order.id]);
    expect(heard.get(`user:${customer.userId}`)![0]!.data).toMatchObject({
      status: 'ACCEPTED',
      latitude: 4.0521,
      longitude: 9.7689,
    });
    expect(heard.get(`owner:${owner.userId}`)).toHaveLength(1);
    expect(heard.get(`user:${otherCustomer.userId}`)).toHaveLength(0);
    expect((await tracking()).driverPosition).toBeNull(); // not picked up: no position in public
    expect(heard.get(`order:${order.id}`)).toHaveLength(0); // nor on /ws/track

    expect((await act(world, order.id, 'prepare', owner.accessToken)).json().status).toBe('PREPARING');
    expect((await act(world, order.id, 'ready', owner.accessToken)).json().status).toBe('READY_FOR_PICKUP');
    expect((await act(world, order.id, 'pickup', driver.accessToken, { pickupCode })).json().status).toBe(
      'PICKED_UP',
    );
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
    await sleep(FANOUT_INTERVAL_MS);
    const third = await sendFix(driver, fixAt({ latitude: 4.0527, longitude: 9.7691 }, 0, { heading: 45 }));
    expect(third.json().toldOrders).toEqual([order.id]);
    expect((await tracking()).driverPosition).toMatchObject({
      latitude: 4.0527,
      longitude: 9.7691,
      heading: 45,
    });
    await sleep(300);
    expect(heard.get(`user:${customer.userId}`)).toHaveLength(2);
    expect(heard.get(`user:${otherCustomer.userId}`)).toHaveLength(0);
    expect(heard.get(`order:${order.id}`)!.map((message) => message.data.latitude)).toEqual([4.0527]);
    const trail = await world.testApp.services.dispatch.repository.trailOf(order.id);
    expect(trail.map((point) => point.latitude)).toEqual([4.0527]); // only while carried (PICKED_UP)

    const delivered = await act(world, order.id, 'deliver', driver.accessToken, {
      deliveryPin: order.deliveryPin,
    });
    expect(delivered.json().status, delivered.body).toBe('DELIVERED');
    expect((await tracking()).driverPosition).toBeNull();
    for (const unsubscribe of unsubscribers) await unsubscribe();
  });
});

describe('positions over /ws/driver', () => {
  it('takes the same message as the REST route, answers an ack or the same error codes, and indexes only good fixes', async () => {
    const driver = await approvedDriver(world.testApp);
    await goOnline(driver);
    const address = await world.testApp.app.listen({ host: '127.0.0.1', port: 0 });
    const socket = new WebSocket(
      `${address.replace('http', 'ws')}/ws/driver?access_token=${driver.accessToken}`,
    );
    const replies: Record<string, unknown>[] = [];
    socket.on('message', (raw) => replies.push(JSON.parse(raw.toString()) as Record<string, unknown>));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const reply = async (id: string) => {
      for (let waited = 0; waited < 5_000; waited += 20) {
        const found = replies.find((message) => message.id === id);
        if (found !== undefined) return found;
        await sleep(20);
      }
      throw new Error(`no reply to ${id}: ${JSON.stringify(replies)}`);
    };
    const send = (id: string, data: unknown, type = 'driver-location') =>
      socket.send(JSON.stringify({ type, id, data }));

    send('bad-1', { ...fixAt(RESTAURANT_AT), latitude: '4.05' });
    expect(await reply('bad-1')).toMatchObject({ type: 'error', code: 'validation_failed' });
    send('bad-2', fixAt({ latitude: 95, longitude: 9.7 }));
    expect(await reply('bad-2')).toMatchObject({ type: 'error', code: 'location_invalid' });
    send('bad-3', fixAt(RESTAURANT_AT, -60_000));
    expect(await reply('bad-3')).toMatchObject({ type: 'error', code: 'location_in_future' });
    send('bad-4', fixAt(RESTAURANT_AT), 'teleport');
    expect(await reply('bad-4')).toMatchObject({ type: 'error', code: 'unknown_message_type' });
    expect(await nearbyIds()).not.toContain(driver.userId);

    send('good', fixAt(RESTAURANT_AT));
    expect(await reply('good')).toMatchObject({ type: 'driver-location-ack', status: 'accepted' });
    expect(await nearbyIds()).toContain(driver.userId);
    send('sooner', fixAt(RESTAURANT_AT));
    expect(await reply('sooner')).toMatchObject({ type: 'error', code: 'location_too_frequent' });
    socket.close();
  });
});

describe('personal data', () => {
  it("exports a driver's shift, history and flags, and erasure deletes them and leaves the index (twice: idempotent)", async () => {
    const driver = await approvedDriver(world.testApp);
    await goOnline(driver);
    expect((await sendFix(driver, fixAt(RESTAURANT_AT))).statusCode).toBe(200);
    const hook = world.testApp.services.platform.personalData.get('dispatch')!;
    const contacts = { phone: driver.phone, email: null };
    const exported = (await hook.export!(driver.userId, contacts)) as Record<string, unknown>;
    expect(exported.availability).toMatchObject({ online: true, last_latitude: RESTAURANT_AT.latitude });
    expect(exported.shifts).toHaveLength(1);
    expect(await nearbyIds()).toContain(driver.userId);

    expect(await hook.erase(driver.userId, contacts)).toMatchObject({ shiftEventsDeleted: 1 });
    expect(await hook.erase(driver.userId, contacts)).toMatchObject({ shiftEventsDeleted: 0 });
    expect(await nearbyIds()).not.toContain(driver.userId);
    expect(await me(driver)).toMatchObject({ online: false, lastPosition: null });
  });
});
