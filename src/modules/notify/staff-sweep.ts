/**
 * The staff sweep's job and schedule: every minute, each instance's tick enqueues one job per
 * minute slot (its id), so one of them sweeps (docs/architecture.md, decision 16).
 */
import type { JobDefinition, JobQueue, Schedule } from '../../jobs/index.js';
import type { Notify } from './service.js';

export const STAFF_SWEEP_QUEUE = 'notify-staff-alerts';

export function staffSweepJob(notify: Pick<Notify, 'sweepStaffAlerts'>): JobDefinition<never> {
  return {
    queue: STAFF_SWEEP_QUEUE,
    attempts: 3,
    backoffMs: 5_000,
    concurrency: 1,
    handler: async (data: { at: string }) => {
      await notify.sweepStaffAlerts(new Date(data.at));
    },
  } as JobDefinition<{ at: string }> as JobDefinition<never>;
}

export function staffSweepSchedule(queue: Pick<JobQueue, 'enqueue'>): Schedule {
  return {
    name: 'notify-staff-alerts',
    cron: '* * * * *',
    run: (at) =>
      queue.enqueue(
        STAFF_SWEEP_QUEUE,
        { at: at.toISOString() },
        { jobId: `staff-alerts-${Math.floor(at.getTime() / 60_000)}` },
      ),
  };
}
