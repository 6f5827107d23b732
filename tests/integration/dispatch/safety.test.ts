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

  it('texts every staff member with a phone in every case: besides an acknowledged push, once per SOS', async () => {
    const { notifications, notify, jobs } = world.testApp.services;
    const driver = await approvedDriver(world.testApp);
    // The support agent has the app on a phone (a push device): the SMS goes all the same.
    const token = `fcm-sos-support-${driver.userId}`;
    expect(
      (await inject('POST', '/v1/me/devices', world.support.accessToken, { token, platform: 'android' }))
        .statusCode,
    ).toBeLessThan(300);
    const key = { 'idempotency-key': `sos-sms-${driver.userId}` };
    const pressed = await inject('POST', '/v1/drivers/me/emergency', driver.accessToken, {}, key);
    expect(pressed.statusCode, pressed.body).toBe(201);
    const reportId = pressed.json().id as string;
    const intentOf = async (staffId: string) =>
      world.testApp.services.db
        .selectFrom('notification_intents')
        .select(['id'])
        .where('kind', '=', 'staff.driver_emergency')
        .where('recipient_id', '=', staffId)
        .where('source_event_id', '=', `emergency:${reportId}`)
        .executeTakeFirstOrThrow();
    const supportIntent = await intentOf(world.support.userId);
    // The agent acknowledges the push at once: no SMS would follow for any other critical message.
    expect(
      (await inject('POST', `/v1/notifications/${supportIntent.id}/ack`, world.support.accessToken))
        .statusCode,
    ).toBe(200);
    // A retried press, and another instance asking notify again: the same intents.
    expect((await inject('POST', '/v1/drivers/me/emergency', driver.accessToken, {}, key)).json().id).toBe(
      reportId,
    );
    expect(
      await notify.driverEmergency({ reportId, driverId: driver.userId, at: new Date(), position: null }),
    ).toEqual({ created: 0 });
    const sent = async (to: string, channel: 'sms' | 'push', intentId: string) =>
      (await notifications.outbox!.list({ to, channel, limit: 50 })).filter(
        (message) => message.metadata.intentId === intentId,
      );
    await until(
      async () => (await sent(world.support.phone, 'sms', supportIntent.id)).length,
      (count) => count >= 1,
      20_000,
    );
    await until(
      async () => (await sent(token, 'push', supportIntent.id)).length,
      (count) => count >= 1,
      20_000,
    );
    const adminIntent = await intentOf(world.actors.admin.userId);
    await until(
      async () => (await sent(world.actors.admin.phone, 'sms', adminIntent.id)).length,
      (count) => count >= 1,
      20_000,
    );
    await jobs.queue.drain('notify-sms', 10_000);
    await jobs.queue.drain('notify-push', 10_000);
    const sms = await sent(world.support.phone, 'sms', supportIntent.id);
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toContain(reportId.slice(0, 8));
    expect(await sent(token, 'push', supportIntent.id)).toHaveLength(1);
    expect(await sent(world.actors.admin.phone, 'sms', adminIntent.id)).toHaveLength(1);
  }, 60_000);

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
    // Stored once: one row for the 120 km/h leg. The same fix checked again (another instance,
    // a retry) stores nothing more and tells nobody again.
    const { db, dispatch } = world.testApp.services;
    const rows = () =>
      db.selectFrom('dispatch_speed_alerts').selectAll().where('driver_id', '=', driver.userId).execute();
    expect(await rows()).toHaveLength(1);
    const again = await dispatch.safety.speedCheck(driver.userId, 'motorbike', order.id, {
      latitude: 4.0725,
      longitude: 9.7679,
      recordedAt: new Date(points[2]!.at),
    });
    expect(again).toBeUndefined();
    expect(await rows()).toHaveLength(1);
    // The driver's phone is told through notify, once, named after the stored alert.
    const warnings = await db
      .selectFrom('notification_intents')
      .select(['kind', 'order_id', 'source_event_id'])
      .where('recipient_id', '=', driver.userId)
      .where('kind', '=', 'driver.speed_warning')
      .execute();
    expect(warnings).toEqual([
      {
        kind: 'driver.speed_warning',
        order_id: order.id,
        source_event_id: `speed-alert:${(await rows())[0]!.id}`,
      },
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
    expect(alerts.json().items[0]).toMatchObject({ id: (await rows())[0]!.id, driverId: driver.userId });
    expect(alerts.json().nextCursor).toBeNull();
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

  it('the stored alerts are read page by page, newest first; bad queries are refused', async () => {
    const { dispatch } = world.testApp.services;
    const driverId = crypto.randomUUID();
    const orderId = crypto.randomUUID();
    const base = Date.parse('2026-11-01T10:00:00Z');
    for (let index = 0; index < 5; index += 1)
      await dispatch.speedAlerts.store(driverId, 'car', {
        orderId,
        speedKmh: 100 + index,
        limitKmh: 90,
        from: { latitude: 4.05, longitude: 9.76, recordedAt: new Date(base + index * 60_000).toISOString() },
        to: {
          latitude: 4.06,
          longitude: 9.76,
          recordedAt: new Date(base + index * 60_000 + 20_000).toISOString(),
        },
      });
    const url = `/v1/admin/drivers/${driverId}/speed-alerts`;
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const response = await inject(
        'GET',
        `${url}?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        world.support.accessToken,
      );
      expect(response.statusCode, response.body).toBe(200);
      seen.push(...response.json().items.map((item: { speedKmh: number }) => item.speedKmh));
      cursor = response.json().nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([104, 103, 102, 101, 100]);
    const window = await inject(
      'GET',
      `${url}?from=${new Date(base + 60_000).toISOString()}&to=${new Date(base + 180_000).toISOString()}`,
      world.support.accessToken,
    );
    expect(window.json().items.map((item: { speedKmh: number }) => item.speedKmh)).toEqual([102, 101]);
    const refusals: [string, number, string][] = [
      [`${url}?cursor=nonsense`, 400, 'invalid_cursor'],
      [`${url}?cursor=${'x'.repeat(300)}`, 400, 'validation_failed'],
      [`${url}?limit=0`, 400, 'validation_failed'],
      [`${url}?limit=101`, 400, 'validation_failed'],
      [`${url}?from=yesterday`, 400, 'validation_failed'],
      [`${url}?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, 422, 'invalid_period'],
      [`/v1/admin/drivers/not-a-uuid/speed-alerts`, 400, 'validation_failed'],
    ];
    for (const [target, status, code] of refusals) {
      const refused = await inject('GET', target, world.support.accessToken);
      expect(refused.statusCode, `${target} ${refused.body}`).toBe(status);
      expect(refused.json().code).toBe(code);
    }
    // The same leg stored again (a second instance): still five rows.
    expect(
      (
        await dispatch.speedAlerts.store(driverId, 'car', {
          orderId,
          speedKmh: 100,
          limitKmh: 90,
          from: { latitude: 4.05, longitude: 9.76, recordedAt: new Date(base).toISOString() },
          to: { latitude: 4.06, longitude: 9.76, recordedAt: new Date(base + 20_000).toISOString() },
        })
      ).stored,
    ).toBe(false);
    expect((await dispatch.speedAlerts.exportOf(driverId)).length).toBe(5);
    expect(await dispatch.speedAlerts.erase(driverId)).toBe(5);
  });
});
