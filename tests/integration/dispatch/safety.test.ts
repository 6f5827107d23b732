import { until } from '../payments/helpers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeMessage } from '../../../src/realtime/index.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { solidPng, upload } from '../files/helpers.js';
import { act, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Safety over HTTP on PostgreSQL and Redis: the emergency button alerts support and admins over
 * the real-time bus with the last position and appends the event notify can consume (once per
 * Idempotency-Key), incident reports with the driver's own photos, staff resolve reports
 * (audited), and speed alerts come from the trail of a carried order.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '1',
    DISPATCH_SPEED_ALERT_KMH_MOTORBIKE: '80',
  });
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inject = (method: 'GET' | 'PUT' | 'POST', url: string, token: string, payload?: object, headers = {}) =>
  world.testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });

describe('emergency button', () => {
  it('alerts support and admins once with the last position, and records the event for notify', async () => {
    const driver = await approvedDriver(world.testApp);
    expect(
      (await inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: true })).statusCode,
    ).toBe(200);
    const fix = await inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
      ...RESTAURANT_AT,
      accuracyMeters: 8,
      recordedAt: new Date().toISOString(),
    });
    expect(fix.statusCode, fix.body).toBe(200);

    const heard: Record<string, RealtimeMessage[]> = { admin: [], support: [], drivers: [] };
    const stops = await Promise.all(
      Object.keys(heard).map((audience) =>
        world.testApp.services.realtime.bus.subscribe(audience, (message) => {
          if (message.type === 'DriverEmergency') heard[audience]!.push(message);
        }),
      ),
    );
    const key = { 'idempotency-key': `sos-${driver.userId}` };
    const pressed = await inject(
      'POST',
      '/v1/drivers/me/emergency',
      driver.accessToken,
      { note: 'Accident à Akwa' },
      key,
    );
    expect(pressed.statusCode, pressed.body).toBe(201);
    expect(pressed.json()).toMatchObject({
      kind: 'emergency',
      driverId: driver.userId,
      status: 'open',
      position: { latitude: RESTAURANT_AT.latitude, longitude: RESTAURANT_AT.longitude },
    });
    expect(pressed.headers.location).toBe(`/v1/drivers/me/safety-reports/${pressed.json().id}`);
    expect((await inject('GET', pressed.headers.location as string, driver.accessToken)).json().id).toBe(
      pressed.json().id,
    );
    expect(
      (await inject('GET', pressed.headers.location as string, world.driver.accessToken)).statusCode,
    ).toBe(404);
    // A retried press (flaky network) is the same report and no second alert.
    const again = await inject(
      'POST',
      '/v1/drivers/me/emergency',
      driver.accessToken,
      { note: 'Accident à Akwa' },
      key,
    );
    expect(again.json().id).toBe(pressed.json().id);
    await sleep(300);
    for (const stop of stops) await stop();
    expect(heard.admin).toHaveLength(1);
    expect(heard.support).toHaveLength(1);
    expect(heard.drivers).toHaveLength(0);
    expect(heard.admin![0]).toMatchObject({
      channel: 'system-alerts',
      data: { id: pressed.json().id, position: { latitude: RESTAURANT_AT.latitude } },
    });
    const events = await world.testApp.services.eventStore.readStream(`driver-safety-${pressed.json().id}`);
    expect(events.map((event) => event.type)).toEqual(['DriverEmergencyRaised']);
    // Every support agent and administrator is also told through notify, critical (push, and SMS
    // when there is no device or the push is not acknowledged): once each, though pressed twice.
    const staffIntents = await world.testApp.services.db
      .selectFrom('notification_intents')
      .select(['recipient_id', 'priority', 'requires_ack'])
      .where('kind', '=', 'staff.driver_emergency')
      .execute();
    const staffIds = [world.support.userId, world.actors.admin.userId];
    for (const staffId of staffIds)
      expect(staffIntents.filter((intent) => intent.recipient_id === staffId)).toEqual([
        { recipient_id: staffId, priority: 'critical', requires_ack: true },
      ]);
    expect(staffIntents.some((intent) => intent.recipient_id === driver.userId)).toBe(false);

    // Staff see it in the queue and resolve it (audited); the driver sees their reports.
    const queue = (
      await inject('GET', '/v1/admin/drivers/safety-reports?status=open', world.support.accessToken)
    ).json();
    expect(queue.items.map((item: { id: string }) => item.id)).toContain(pressed.json().id);
    expect((await inject('GET', '/v1/admin/drivers/safety-reports', driver.accessToken)).statusCode).toBe(
      403,
    );
    const resolved = await inject(
      'POST',
      `/v1/admin/drivers/safety-reports/${pressed.json().id}/resolve`,
      world.support.accessToken,
      {
        note: 'Called back, safe',
      },
    );
    expect(resolved.json().status).toBe('resolved');
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', '=', `driver_safety_report:${pressed.json().id}`)
      .execute();
    expect(audit).toEqual([{ action: 'driver_safety_report.resolved', actor_id: world.support.userId }]);
    expect(
      (await inject('GET', '/v1/drivers/me/safety-reports', driver.accessToken)).json().items,
    ).toHaveLength(1);
  });

  it('only drivers press it; a customer and an anonymous caller are refused', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    expect((await inject('POST', '/v1/drivers/me/emergency', customer.accessToken, {})).statusCode).toBe(403);
    expect(
      (await world.testApp.app.inject({ method: 'POST', url: '/v1/drivers/me/emergency', payload: {} }))
        .statusCode,
    ).toBe(401);
    expect(
      (await inject('POST', '/v1/drivers/me/emergency', world.actors.admin.accessToken, {})).json().code,
    ).toBe('not_a_driver');
  });
});

describe('incident reports', () => {
  it('takes photos the driver uploaded; refuses another user’s file and bad input, storing nothing', async () => {
    const driver = await approvedDriver(world.testApp);
    const own = await upload(
      world.testApp,
      driver.accessToken,
      { purpose: 'driver_document', documentKind: 'photo' },
      { body: await solidPng(32, 32) },
    );
    const theirs = await upload(
      world.testApp,
      world.driver.accessToken,
      { purpose: 'driver_document', documentKind: 'photo' },
      { body: await solidPng(32, 32) },
    );
    expect(own.statusCode, own.body).toBe(201);
    const body = { category: 'theft', description: 'Sac volé au feu rouge', photos: [own.json().id] };
    const refusals: [object, number, string][] = [
      [{ ...body, photos: [theirs.json().id] }, 422, 'incident_photo_invalid'],
      [{ ...body, photos: [crypto.randomUUID()] }, 422, 'incident_photo_invalid'],
      [{ ...body, category: 'alien' }, 400, 'validation_failed'],
      [{ ...body, description: 'a\u0000b' }, 400, 'invalid_characters'],
      [{ ...body, description: 'x'.repeat(3_000) }, 400, 'validation_failed'],
      [{ ...body, photos: null }, 400, 'validation_failed'],
      [{ ...body, photos: Array.from({ length: 6 }, () => own.json().id) }, 400, 'validation_failed'],
    ];
    for (const [payload, status, code] of refusals) {
      const refused = await inject('POST', '/v1/drivers/me/incidents', driver.accessToken, payload);
      expect(refused.statusCode, refused.body).toBe(status);
      expect(refused.json().code).toBe(code);
    }
    expect(
      (await inject('GET', '/v1/drivers/me/safety-reports', driver.accessToken)).json().items,
    ).toHaveLength(0);
    const reported = await inject('POST', '/v1/drivers/me/incidents', driver.accessToken, body);
    expect(reported.statusCode, reported.body).toBe(201);
    expect(reported.json()).toMatchObject({
      kind: 'incident',
      category: 'theft',
      photos: [own.json().id],
      position: null,
    });
  });
});

describe('speed alerts', () => {
  it('come from the trail of a carried order, against the vehicle threshold', async () => {
    const driver = world.otherDriver;
    const placed = await placeOrder(world, world.actors.customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
      preparationMinutes: 10,
    });
    await act(world, order.id, 'prepare', world.actors.owner.accessToken);
    expect((await act(world, order.id, 'claim', driver.accessToken)).statusCode).toBe(200);
    await act(world, order.id, 'ready', world.actors.owner.accessToken);
    expect(
      (await act(world, order.id, 'pickup', driver.accessToken, { pickupCode: accepted.json().pickupCode }))
        .statusCode,
    ).toBe(200);
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
    expect(
      (
        await inject('PUT', '/v1/drivers/me/availability', driver.accessToken, {
          online: true,
          vehicle: 'motorbike',
        })
      ).statusCode,
    ).toBe(200);
    const pushed: Record<string, RealtimeMessage[]> = { admin: [], [`driver:${driver.userId}`]: [] };
    const stops = await Promise.all(
      Object.keys(pushed).map((audience) =>
        world.testApp.services.realtime.bus.subscribe(audience, (message) => {
          if (message.type === 'DriverSpeeding' || message.type === 'SpeedWarning')
            pushed[audience]!.push(message);
        }),
      ),
    );
    // 0.009° of latitude is about 1 km: 1 km in 60 s (60 km/h), then 1.5 km in 45 s (120 km/h).
    const start = Date.now() - 110_000;
    const points = [
      { latitude: 4.05, at: start },
      { latitude: 4.059, at: start + 60_000 },
      { latitude: 4.0725, at: start + 105_000 },
    ];
    for (const point of points) {
      const fix = await inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
        latitude: point.latitude,
        longitude: 9.7679,
        accuracyMeters: 10,
        recordedAt: new Date(point.at).toISOString(),
      });
      expect(fix.statusCode, fix.body).toBe(200);
      await sleep(5);
    }
    // Pushed live while driving: staff hear DriverSpeeding, the driver SpeedWarning, once (the
    // 60 km/h leg is under the motorbike's 80 km/h).
    await until(
      async () => pushed[`driver:${driver.userId}`]!.length,
      (count) => count >= 1,
      20_000,
    );
    await sleep(300);
    for (const stop of stops) await stop();
    expect(pushed.admin).toHaveLength(1);
    expect(pushed.admin![0]).toMatchObject({
      type: 'DriverSpeeding',
      channel: 'system-alerts',
      data: { driverId: driver.userId, orderId: order.id, limitKmh: 80 },
    });
    expect((pushed.admin![0]!.data as { speedKmh: number }).speedKmh).toBeGreaterThan(80);
    expect(pushed[`driver:${driver.userId}`]).toEqual([
      expect.objectContaining({
        type: 'SpeedWarning',
        channel: 'safety',
        data: expect.objectContaining({ orderId: order.id, limitKmh: 80 }),
      }),
    ]);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const alerts = await inject(
      'GET',
      `/v1/admin/drivers/${driver.userId}/speed-alerts?from=${from}&to=${to}`,
      world.support.accessToken,
    );
    expect(alerts.statusCode, alerts.body).toBe(200);
    expect(alerts.json()).toMatchObject({ vehicle: 'motorbike', limitKmh: 80 });
    expect(alerts.json().items).toHaveLength(1);
    expect(
      alerts
        .json()
        .items.every(
          (alert: { orderId: string; speedKmh: number }) => alert.orderId === order.id && alert.speedKmh > 80,
        ),
    ).toBe(true);
    expect(
      (
        await inject(
          'GET',
          `/v1/admin/drivers/${driver.userId}/speed-alerts?from=${from}&to=${to}`,
          driver.accessToken,
        )
      ).statusCode,
    ).toBe(403);
  });
});
