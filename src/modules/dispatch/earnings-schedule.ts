/**
 * Incentives settled on a schedule (issue #20) instead of only by an administrator: every night
 * at 01:30 Douala each instance's tick enqueues one job whose id names the Douala day it settles
 * (`driver-incentives-2026-12-05`), so one instance does the work (docs/architecture.md,
 * decision 16). The job settles that day, and every bonus challenge whose window ended in it, with
 * `earnings.settle`: transfer ids are derived from the rule and the order or driver, so a second
 * run of the same period (a retry, a late duplicate) answers `exists` and moves nothing.
 *
 * A settled day is recorded (`dispatch_daily_runs`, daily-runs.ts). Each tick, the nightly one and
 * the hourly catch-up, enqueues every past day not settled yet (within CATCH_UP_DAYS_MAX, not
 * before the first day ever settled), so a night every instance missed is settled later.
 */
import type { Logger } from 'pino';
import type { JobDefinition, JobQueue, Schedule } from '../../jobs/index.js';
import type { DailyRuns } from './daily-runs.js';
import { latestDueDay } from './daily-runs.js';
import { RULES_PAGE_MAX, type Earnings } from './earnings.js';
import { doualaDay } from './onboarding-rules.js';

export const INCENTIVES_QUEUE = 'dispatch-incentives-settle';
const DOUALA_OFFSET_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The nightly tick's time, minutes after midnight in Douala (cron `30 1 * * *`). */
export const INCENTIVES_DUE_MINUTE = 90;

/** The Douala day before `at`, as [from, to) instants and its name (pure). */
export function previousDoualaDay(at: Date): { day: string; from: Date; to: Date } {
  const today = doualaDay(at.getTime());
  const to = new Date(Date.parse(`${today}T00:00:00Z`) - DOUALA_OFFSET_MS);
  const from = new Date(to.getTime() - DAY_MS);
  return { day: doualaDay(from.getTime()), from, to };
}

/** A Douala day (YYYY-MM-DD) as [from, to) instants (pure). */
export function doualaDayRange(day: string): { from: Date; to: Date } {
  const from = new Date(Date.parse(`${day}T00:00:00Z`) - DOUALA_OFFSET_MS);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

interface SettleJob {
  day: string;
  from: string;
  to: string;
}

export function incentivesJob(
  earnings: Pick<Earnings, 'settle' | 'rules'>,
  logger: Logger,
  runs: Pick<DailyRuns, 'complete'>,
): JobDefinition<never> {
  return {
    queue: INCENTIVES_QUEUE,
    attempts: 5,
    backoffMs: 60_000,
    concurrency: 1,
    handler: async (data: SettleJob) => {
      const actor = { kind: 'system' as const };
      const from = new Date(data.from);
      const to = new Date(data.to);
      const day = await earnings.settle(from, to, actor);
      logger.info(
        { day: data.day, ...day, bookedMinor: Number(day.bookedMinor) },
        'driver incentives settled',
      );
      // A challenge is paid once its whole window is known: those that ended in this day.
      const { items } = await earnings.rules(true, RULES_PAGE_MAX);
      for (const rule of items) {
        if (rule.kind !== 'bonus_challenge') continue;
        const window = rule.params as { from: string; to: string };
        const ends = Date.parse(window.to);
        if (ends <= from.getTime() || ends > to.getTime()) continue;
        const settled = await earnings.settle(new Date(window.from), new Date(window.to), actor);
        logger.info({ ruleId: rule.id, booked: settled.booked }, 'driver challenge settled');
      }
      // Recorded last: a crash before this line leaves the day to a later tick, which books nothing twice.
      await runs.complete('incentives', data.day);
    },
  } as JobDefinition<SettleJob> as JobDefinition<never>;
}

/** Enqueues every unsettled past day up to the one due at `at` (one job per day, by its id). */
export async function enqueueUnsettledDays(
  queue: Pick<JobQueue, 'enqueue'>,
  runs: Pick<DailyRuns, 'daysToRun'>,
  at: Date,
): Promise<string[]> {
  const days = await runs.daysToRun('incentives', latestDueDay(at, INCENTIVES_DUE_MINUTE, -1));
  for (const day of days) {
    const { from, to } = doualaDayRange(day);
    await queue.enqueue(
      INCENTIVES_QUEUE,
      { day, from: from.toISOString(), to: to.toISOString() },
      { jobId: `driver-incentives-${day}` },
    );
  }
  return days;
}

export function incentivesSchedule(
  queue: Pick<JobQueue, 'enqueue'>,
  runs: Pick<DailyRuns, 'daysToRun'>,
): Schedule {
  return {
    name: 'dispatch-incentives-daily',
    cron: '30 1 * * *',
    run: async (at) => {
      await enqueueUnsettledDays(queue, runs, at);
    },
  };
}
