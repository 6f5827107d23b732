import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_TEST_ENV, authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { approvedDriver } from '../../helpers/drivers.js';

/**
 * Vehicle maintenance plans over HTTP on PostgreSQL: the driver sets theirs, an administrator sets
 * a driver's (audited), bad plans are refused and change nothing, and the daily round reminds the
 * driver through notify 7 days before the due date and once the due mileage is reached, once
 * across instances.
 */
let testApp: TestApp;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp({
    env: { ...AUTH_TEST_ENV, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
  });
  admin = await createUser(testApp, { roles: ['admin'] });
}, 120_000);
afterAll(async () => {
  await testApp?.close();
});

const inject = (method: 'GET' | 'PUT', url: string, token: string, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const doualaDay = (days: number) =>
  new Date(Date.now() + 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
const ME = '/v1/drivers/me/vehicle/maintenance';
const empty = { dueOn: null, intervalKm: null, lastServiceKm: null, odometerKm: null };

describe('a vehicle maintenance plan', () => {
  it('the driver sets theirs; a PUT again changes nothing; bad plans are refused and change nothing', async () => {
    const driver = await approvedDriver(testApp);
    const before = await inject('GET', ME, driver.accessToken);
    expect(before.statusCode, before.body).toBe(200);
    expect(before.json()).toMatchObject({
      ...empty,
      vehicle: 'motorbike',
      nextServiceKm: null,
      updatedAt: null,
    });

    const plan = { dueOn: doualaDay(40), intervalKm: 5000, lastServiceKm: 12_000, odometerKm: 13_100 };
    const set = await inject('PUT', ME, driver.accessToken, plan);
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ ...plan, nextServiceKm: 17_000, driverId: driver.userId });
    const again = await inject('PUT', ME, driver.accessToken, plan);
    expect(again.json().updatedAt).toBe(set.json().updatedAt);

    const refusals: [object, number, string][] = [
      [{ ...plan, dueOn: doualaDay(-1) }, 422, 'maintenance_plan_invalid'],
      [{ ...plan, lastServiceKm: null }, 422, 'maintenance_plan_invalid'],
      [{ ...plan, odometerKm: 11_000 }, 422, 'maintenance_plan_invalid'],
      [{ ...plan, intervalKm: 10 }, 400, 'validation_failed'],
      [{ ...plan, odometerKm: '13100' }, 400, 'validation_failed'],
      [{ ...plan, odometerKm: -1 }, 400, 'validation_failed'],
      [{ ...plan, colour: 'red' }, 400, 'validation_failed'],
      [{ dueOn: plan.dueOn }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of refusals) {
      const refused = await inject('PUT', ME, driver.accessToken, body);
      expect(refused.statusCode, JSON.stringify(body)).toBe(status);
      expect(refused.json().code).toBe(code);
    }
    expect((await inject('GET', ME, driver.accessToken)).json()).toEqual(set.json());
  });

  it('only an approved driver has one; only drivers and administrators see it', async () => {
    const customer = await createUser(testApp);
    expect((await inject('GET', ME, customer.accessToken)).statusCode).toBe(403);
    const unapproved = await createUser(testApp, { roles: ['driver'] });
    const refused = await inject('PUT', ME, unapproved.accessToken, empty);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('driver_not_approved');
    const driver = await approvedDriver(testApp);
    const other = await approvedDriver(testApp);
    expect(
      (await inject('GET', `/v1/admin/drivers/${other.userId}/vehicle/maintenance`, driver.accessToken))
        .statusCode,
    ).toBe(403);
  });

  it('an administrator sets a driver’s plan, audited', async () => {
    const driver = await approvedDriver(testApp);
    const url = `/v1/admin/drivers/${driver.userId}/vehicle/maintenance`;
    const plan = { ...empty, dueOn: doualaDay(10) };
    const set = await inject('PUT', url, admin.accessToken, plan);
    expect(set.statusCode, set.body).toBe(200);
    expect((await inject('GET', ME, driver.accessToken)).json().dueOn).toBe(plan.dueOn);
    const audits = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'resource'])
      .where('resource', '=', `driver_vehicle:${driver.userId}`)
      .execute();
    expect(audits).toEqual([
      { action: 'driver_vehicle.maintenance_plan', resource: `driver_vehicle:${driver.userId}` },
    ]);
  });

  it('the daily round reminds 7 days before the date and past the due mileage, once across instances', async () => {
    const { db, dispatch } = testApp.services;
    const byDate = await approvedDriver(testApp);
    const byMileage = await approvedDriver(testApp);
    const notYet = await approvedDriver(testApp);
    const onTheDay = await approvedDriver(testApp);
    const put = (driver: CreatedUser, plan: object) =>
      inject('PUT', ME, driver.accessToken, { ...empty, ...plan });
    expect((await put(byDate, { dueOn: doualaDay(7) })).statusCode).toBe(200);
    expect(
      (await put(byMileage, { intervalKm: 3000, lastServiceKm: 10_000, odometerKm: 13_050 })).statusCode,
    ).toBe(200);
    expect(
      (
        await put(notYet, {
          dueOn: doualaDay(8),
          intervalKm: 3000,
          lastServiceKm: 10_000,
          odometerKm: 12_999,
        })
      ).statusCode,
    ).toBe(200);
    expect((await put(onTheDay, { dueOn: doualaDay(0) })).statusCode).toBe(200);

    const [first, second] = await Promise.all([dispatch.documentsRound(), dispatch.documentsRound()]);
    expect(first.maintenance.failed + second.maintenance.failed).toBe(0);
    await dispatch.documentsRound();
    const drivers = [byDate, byMileage, notYet, onTheDay].map((driver) => driver.userId);
    const intents = await db
      .selectFrom('notification_intents')
      .select(['recipient_id', 'kind'])
      .where('recipient_id', 'in', drivers)
      .execute();
    expect(intents.sort((a, b) => drivers.indexOf(a.recipient_id) - drivers.indexOf(b.recipient_id))).toEqual(
      [
        { recipient_id: byDate.userId, kind: 'driver.maintenance_due' },
        { recipient_id: byMileage.userId, kind: 'driver.maintenance_mileage' },
        { recipient_id: onTheDay.userId, kind: 'driver.maintenance_due' },
      ],
    );

    // A service recorded moves the due mileage: the next reminder is a new one, at the new mileage.
    expect(
      (await put(byMileage, { intervalKm: 3000, lastServiceKm: 13_050, odometerKm: 16_100 })).statusCode,
    ).toBe(200);
    await dispatch.documentsRound();
    const mileage = await db
      .selectFrom('notification_intents')
      .select(['kind'])
      .where('recipient_id', '=', byMileage.userId)
      .execute();
    expect(mileage).toHaveLength(2);
  });
});
