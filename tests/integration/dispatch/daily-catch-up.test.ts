import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_TEST_ENV, type CreatedUser } from '../../helpers/auth.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { doualaDayRange, INCENTIVES_QUEUE } from '../../../src/modules/dispatch/earnings-schedule.js';

/**
 * Daily runs every instance missed, on PostgreSQL and Redis (BullMQ): the 06:00 reminder round
 * tells the thresholds crossed on the missed days (once, though two instances catch up at once),
 * the nightly settlement settles every unsettled past day (one job and one audit per day, a
 * second tick nothing), and the geofence clean-up forgets old arrivals only.
 */
let testApp: TestApp;

beforeAll(async () => {
  testApp = await createTestApp({
    env: { ...AUTH_TEST_ENV, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
  });
}, 120_000);
afterAll(async () => {
  await testApp?.close();
});

const DAY_MS = 86_400_000;
/** The Douala day `days` from now. */
const doualaDay = (days: number) =>
  new Date(Date.now() + 3_600_000 + days * DAY_MS).toISOString().slice(0, 10);
const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
/** Noon in Douala on a day: past both the 01:30 settlement and the 06:00 round. */
const noonOf = (day: string) => new Date(Date.parse(`${day}T11:00:00Z`));

const completedDays = async (job: 'reminders' | 'incentives') =>
  (
    await testApp.services.db
      .selectFrom('dispatch_daily_runs')
      .select('day')
      .where('job', '=', job)
      .orderBy('day')
      .execute()
  ).map((row) => row.day);

describe('a reminder round every instance missed', () => {
  it('is caught up at the next check: thresholds crossed on the missed days, told once across instances', async () => {
    const { db, dispatch } = testApp.services;
    const today = doualaDay(0);
    // The round last completed four days ago; the three days after it were missed (every instance down).
    await db
      .insertInto('dispatch_daily_runs')
      .values({ job: 'reminders', day: addDays(today, -4) })
      .execute();
    const month = await approvedDriver(testApp); // 30 days before expiry fell three days ago
    const week = await approvedDriver(testApp); // 7 days before expiry fell two days ago
    const quiet = await approvedDriver(testApp); // no threshold on any day checked
    const lapsed = await approvedDriver(testApp); // a threshold on a missed day, but expired since
    const set = (driver: CreatedUser, column: 'licence_expires_on' | 'insurance_expires_on', day: string) =>
      sql`UPDATE driver_applications SET ${sql.ref(column)} = ${day}::date WHERE user_id = ${driver.userId}`.execute(
        db,
      );
    await set(month, 'licence_expires_on', addDays(today, -3 + 30));
    await set(week, 'insurance_expires_on', addDays(today, -2 + 7));
    await set(quiet, 'licence_expires_on', addDays(today, 20));
    await set(lapsed, 'insurance_expires_on', addDays(today, -1));

    const at = noonOf(today);
    const [first, second] = await Promise.all([dispatch.catchUp(at), dispatch.catchUp(at)]);
    expect(first.reminders?.days ?? second.reminders?.days).toEqual([
      addDays(today, -3),
      addDays(today, -2),
      addDays(today, -1),
      today,
    ]);
    expect(await completedDays('reminders')).toEqual([
      addDays(today, -4),
      addDays(today, -3),
      addDays(today, -2),
      addDays(today, -1),
      today,
    ]);
    // Caught up: the next check has nothing to do.
    expect((await dispatch.catchUp(at)).reminders).toBeUndefined();

    const drivers = [month, week, quiet, lapsed].map((driver) => driver.userId);
    const intents = await db
      .selectFrom('notification_intents')
      .select(['recipient_id', 'kind'])
      .where('recipient_id', 'in', drivers)
      .orderBy('kind')
      .execute();
    expect(intents).toEqual([
      { recipient_id: week.userId, kind: 'driver.insurance_expiring' },
      { recipient_id: month.userId, kind: 'driver.licence_expiring' },
    ]);
    const events = await testApp.services.eventStore.readStream(`driver-documents-${month.userId}`);
    expect(events.map((event) => event.data)).toEqual([
      expect.objectContaining({ document: 'licence', daysLeft: 30, expiresOn: addDays(today, 27) }),
    ]);
  });

  it('a round never run before runs today only', async () => {
    const { db, dispatch } = testApp.services;
    await db.deleteFrom('dispatch_daily_runs').where('job', '=', 'reminders').execute();
    const result = await dispatch.documentsRound();
    expect(result.days).toEqual([doualaDay(0)]);
  });
});

describe('a nightly settlement every instance missed', () => {
  it('every unsettled past day is settled at the next tick: one job and one audit per day, then nothing', async () => {
    const { db, dispatch, jobs } = testApp.services;
    // The clock of this test is ten days ahead (the days it settles are fresh, whatever the first
    // test's catch-up settled): settled up to day +6, then the nights of days +7 to +9 were missed.
    const today = doualaDay(0);
    await jobs.queue.drain(INCENTIVES_QUEUE, 60_000);
    const settled = Array.from({ length: 8 }, (_, index) => addDays(today, index - 1));
    await db
      .insertInto('dispatch_daily_runs')
      .values(settled.map((day) => ({ job: 'incentives' as const, day })))
      .onConflict((conflict) => conflict.columns(['job', 'day']).doNothing())
      .execute();
    // Two instances' hourly catch-up at once, at noon on day +10.
    const at = noonOf(addDays(today, 10));
    const [one, two] = await Promise.all([dispatch.catchUp(at), dispatch.catchUp(at)]);
    const missed = [addDays(today, 7), addDays(today, 8), addDays(today, 9)];
    expect(one.incentiveDays).toEqual(missed);
    expect(two.incentiveDays).toEqual(missed);
    await jobs.queue.drain(INCENTIVES_QUEUE, 60_000);
    expect((await completedDays('incentives')).slice(-4)).toEqual([addDays(today, 6), ...missed]);
    const audits = await db
      .selectFrom('audit_logs')
      .select(['resource'])
      .where('action', '=', 'driver_incentives.settled')
      .execute();
    for (const day of missed) {
      const { from, to } = doualaDayRange(day);
      const resource = `driver_incentives:${from.toISOString()}/${to.toISOString()}`;
      expect(audits.filter((row) => row.resource === resource)).toHaveLength(1);
    }
    // The nightly tick of day +10 and the next catch-up find nothing left.
    await dispatch.incentivesSchedule.run(new Date(Date.parse(`${addDays(today, 10)}T00:30:00Z`)));
    expect((await dispatch.catchUp(at)).incentiveDays).toEqual([]);
  });
});

describe('the geofence clean-up', () => {
  it('forgets arrivals older than the cut-off only, and a second run forgets nothing', async () => {
    const { db, dispatch } = testApp.services;
    const old = crypto.randomUUID();
    const recent = crypto.randomUUID();
    const now = Date.now();
    await db
      .insertInto('dispatch_geofence_arrivals')
      .values([
        { order_id: old, kind: 'restaurant', at: new Date(now - 3 * DAY_MS) },
        { order_id: old, kind: 'customer', at: new Date(now - 3 * DAY_MS + 600_000) },
        { order_id: recent, kind: 'restaurant', at: new Date(now - 3_600_000) },
      ])
      .execute();
    const before = new Date(now - 2 * DAY_MS);
    expect(await dispatch.geofences.purge(before)).toBe(2);
    expect(await dispatch.geofences.purge(before)).toBe(0);
    expect((await dispatch.geofences.arrivals(old)).length).toBe(0);
    expect((await dispatch.geofences.arrivals(recent)).map((row) => row.kind)).toEqual(['restaurant']);
  });
});
