/**
 * Daily jobs that catch up (issue #20). The 06:00 reminder round and the nightly incentive
 * settlement each record the Douala days they completed (`dispatch_daily_runs`). A day every
 * instance missed (all down at the hour) is run at the next check: the hourly catch-up tick, the
 * job's own tick, or an instance's first hour after a start. Both jobs are idempotent per day
 * (reminders are named after their fact, incentive transfers after their rule and subject), so
 * running a day twice tells and moves nothing more.
 */
import { addDays, doualaDay } from './onboarding-rules.js';
import type { DispatchDb, DispatchDailyRunsTable } from './tables.js';

export type DailyJob = DispatchDailyRunsTable['job'];
/** A catch-up goes back at most this many days (a longer outage is for staff to look at). */
export const CATCH_UP_DAYS_MAX = 31;
const DOUALA_OFFSET_MS = 3_600_000;

/**
 * The days up to `latestDue` (inclusive, oldest first) that have no completed run: within the
 * last CATCH_UP_DAYS_MAX days and not before the first day ever completed, since nothing says
 * the job was due before it was deployed. No day completed yet: `latestDue` alone. Pure.
 */
export function missedDays(
  completed: readonly string[],
  firstCompleted: string | null,
  latestDue: string,
  maxDays = CATCH_UP_DAYS_MAX,
): string[] {
  if (firstCompleted === null) return [latestDue];
  const windowStart = addDays(latestDue, -(maxDays - 1));
  const start = firstCompleted > windowStart ? firstCompleted : windowStart;
  const done = new Set(completed);
  const days: string[] = [];
  for (let day = start; day <= latestDue; day = addDays(day, 1)) if (!done.has(day)) days.push(day);
  return days;
}

/**
 * The last Douala day whose run is due at `at`: the day the job's hour has passed in (for the
 * reminder round, today from 06:00), shifted by `dayOffset` (the settlement settles the day
 * before: -1). Pure.
 */
export function latestDueDay(at: Date, dueMinuteOfDay: number, dayOffset = 0): string {
  const local = new Date(at.getTime() + DOUALA_OFFSET_MS);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  const today = doualaDay(at.getTime());
  return addDays(today, (minute >= dueMinuteOfDay ? 0 : -1) + dayOffset);
}

export function createDailyRuns(db: DispatchDb) {
  return {
    /** The days of `job` up to `latestDue` still to run (missedDays over the stored runs). */
    async daysToRun(job: DailyJob, latestDue: string): Promise<string[]> {
      const windowStart = addDays(latestDue, -(CATCH_UP_DAYS_MAX - 1));
      const [recent, first] = await Promise.all([
        db
          .selectFrom('dispatch_daily_runs')
          .select('day')
          .where('job', '=', job)
          .where('day', '>=', windowStart)
          .where('day', '<=', latestDue)
          .execute(),
        db
          .selectFrom('dispatch_daily_runs')
          .select((eb) => eb.fn.min('day').as('day'))
          .where('job', '=', job)
          .executeTakeFirst(),
      ]);
      return missedDays(
        recent.map((row) => row.day),
        (first?.day as string | null | undefined) ?? null,
        latestDue,
      );
    },

    /** Marks a day of `job` completed (a second instance's mark changes nothing). */
    async complete(job: DailyJob, day: string): Promise<void> {
      await db
        .insertInto('dispatch_daily_runs')
        .values({ job, day })
        .onConflict((conflict) => conflict.columns(['job', 'day']).doNothing())
        .execute();
    },

    async completed(job: DailyJob, day: string): Promise<boolean> {
      const row = await db
        .selectFrom('dispatch_daily_runs')
        .select('day')
        .where('job', '=', job)
        .where('day', '=', day)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type DailyRuns = ReturnType<typeof createDailyRuns>;
