/**
 * Incentives settled on a schedule (issue #20) instead of only by an administrator: every night
 * at 01:30 Douala each instance's tick enqueues one job whose id names the Douala day it settles
 * (`driver-incentives-2026-12-05`), so one instance does the work (docs/architecture.md,
 * decision 16). The job settles that day, and every bonus challenge whose window ended in it, with
 * `earnings.settle`: transfer ids are derived from the rule and the order or driver, so a second
 * run of the same period (a retry, a late duplicate) answers `exists` and moves nothing.
 */
import type { Logger } from 'pino';
import type { JobDefinition, JobQueue, Schedule } from '../../jobs/index.js';
import { RULES_PAGE_MAX, type Earnings } from './earnings.js';
import { doualaDay } from './onboarding-rules.js';

export const INCENTIVES_QUEUE = 'dispatch-incentives-settle';
const DOUALA_OFFSET_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The Douala day before `at`, as [from, to) instants and its name (pure). */
export function previousDoualaDay(at: Date): { day: string; from: Date; to: Date } {
  const today = doualaDay(at.getTime());
  const to = new Date(Date.parse(`${today}T00:00:00Z`) - DOUALA_OFFSET_MS);
  const from = new Date(to.getTime() - DAY_MS);
  return { day: doualaDay(from.getTime()), from, to };
}

interface SettleJob {
  day: string;
  from: string;
  to: string;
}

export function incentivesJob(
  earnings: Pick<Earnings, 'settle' | 'rules'>,
  logger: Logger,
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
    },
  } as JobDefinition<SettleJob> as JobDefinition<never>;
}

export function incentivesSchedule(queue: Pick<JobQueue, 'enqueue'>): Schedule {
  return {
    name: 'dispatch-incentives-daily',
    cron: '30 1 * * *',
    run: async (at) => {
      const { day, from, to } = previousDoualaDay(at);
      await queue.enqueue(
        INCENTIVES_QUEUE,
        { day, from: from.toISOString(), to: to.toISOString() },
        { jobId: `driver-incentives-${day}` },
      );
    },
  };
}
