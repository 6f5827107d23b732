import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { orderWorld, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Impossible driver movement (docs/admin.md "Impossible driver movement"): dispatch's flags of
 * position fixes faster than the vehicle allows reach the fraud rules through admin's port; three
 * within the window open a case on the driver, two do not; a flag reported twice counts once.
 */
const MIN_INTERVAL_MS = 1_000;
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: String(MIN_INTERVAL_MS),
    FRAUD_IMPOSSIBLE_MOVES_PER_DRIVER: '3',
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

const db = () => world.testApp.services.db;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sendFix = (driver: CreatedUser, point: { latitude: number; longitude: number }, agoMs = 0) =>
  world.testApp.app.inject({
    method: 'PUT',
    url: '/v1/drivers/me/location',
    headers: authHeader(driver.accessToken),
    payload: {
      latitude: point.latitude,
      longitude: point.longitude,
      accuracyMeters: 12,
      recordedAt: new Date(Date.now() - agoMs).toISOString(),
    },
  });

/** A bicycle driver at the restaurant, then `teleports` fixes some 28 km away, each refused. */
async function teleporting(teleports: number): Promise<CreatedUser> {
  const driver = await approvedDriver(world.testApp, { vehicle: 'bicycle' });
  const online = await world.testApp.app.inject({
    method: 'PUT',
    url: '/v1/drivers/me/availability',
    headers: authHeader(driver.accessToken),
    payload: { online: true, vehicle: 'bicycle' },
  });
  expect(online.statusCode, online.body).toBe(200);
  expect((await sendFix(driver, RESTAURANT_AT, 5_000)).statusCode).toBe(200);
  for (let index = 0; index < teleports; index += 1) {
    await sleep(MIN_INTERVAL_MS + 100);
    const refused = await sendFix(driver, { latitude: 4.3011 + index * 0.01, longitude: 9.7679 });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().code).toBe('location_impossible_speed');
  }
  return driver;
}

const movementSignals = async (driverId: string) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*) AS n FROM admin_fraud_signals
        WHERE 'impossible_movement' = ANY(rules) AND user_id = ${driverId}::uuid`.execute(db())
    ).rows[0]!.n,
  );

const movementCases = (driverId: string) =>
  db()
    .selectFrom('admin_fraud_cases')
    .select(['subject', 'user_id', 'signals', 'score', 'reason'])
    .where('rule', '=', 'impossible_movement')
    .where('user_id', '=', driverId)
    .execute();

describe('impossible driver movement', () => {
  it('three flagged fixes within the window open a case on the driver; a flag reported again counts once', async () => {
    const driver = await teleporting(3);
    const flags = await world.testApp.services.dispatch.repository.flagsOf(driver.userId);
    expect(flags).toHaveLength(3);
    expect(await movementSignals(driver.userId)).toBe(3);
    const cases = await movementCases(driver.userId);
    expect(cases).toEqual([
      {
        subject: `user:${driver.userId}`,
        user_id: driver.userId,
        signals: 3,
        score: 50,
        reason:
          '3 impossible moves (position fixes faster than the vehicle allows) by one driver within 60 minutes (threshold 3)',
      },
    ]);
    // Dispatch retrying its report of a flag already counted: the same signal, the same case.
    await world.testApp.services.admin.fraud.driverMovementFlagged({
      flagId: String(flags[0]!.id),
      driverId: driver.userId,
      at: flags[0]!.recorded_at,
    });
    expect(await movementSignals(driver.userId)).toBe(3);
    expect((await movementCases(driver.userId))[0]!.signals).toBe(3);
  });

  it('two flagged fixes open none', async () => {
    const driver = await teleporting(2);
    expect(await movementSignals(driver.userId)).toBe(2);
    expect(await movementCases(driver.userId)).toEqual([]);
  });
});
