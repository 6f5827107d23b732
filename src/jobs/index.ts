/**
 * Shared job infrastructure (`services.jobs`): the queue port with its BullMQ and in-process
 * implementations, and node-cron schedules. Contexts `define` their queues when they are built,
 * `schedule` their periodic work, and the app starts workers and schedules when it is ready.
 *
 *   services.jobs.queue.define({ queue: 'payments-poll', handler, concurrency: 8, attempts: 10 })
 *   await services.jobs.queue.enqueue('payments-poll', { paymentId }, { jobId: `poll-${id}`, delayMs: 2_000 })
 *   services.jobs.schedule({ name: 'reconciliation-nightly', cron: '30 2 * * *', run })
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { createBullmqQueue } from './bullmq.js';
import { createInProcessQueue } from './in-process.js';
import type { JobQueue } from './types.js';

export * from './types.js';
export { createBullmqQueue } from './bullmq.js';
export { createInProcessQueue } from './in-process.js';

/** Schedules run in Cameroon's time (UTC+1, no daylight saving). */
export const SCHEDULE_TIMEZONE = 'Africa/Douala';

export interface Schedule {
  /** Letters, digits, `-` and `_`. */
  name: string;
  /** A node-cron expression (5 or 6 fields). */
  cron: string;
  /**
   * Runs on every instance at each tick: make it enqueue a job with a job id per time slot
   * (e.g. `recon-2026-11-25`) so that only one instance's tick does the work.
   */
  run(at: Date): Promise<void>;
}

export interface Jobs {
  queue: JobQueue;
  schedule(schedule: Schedule): void;
  /** Starts the workers and the schedules (idempotent; the app calls it when it is ready). */
  start(): Promise<void>;
  schedules(): { name: string; cron: string; nextRunAt: string | null }[];
  close(): Promise<void>;
}

const MAX_SCHEDULES = 64;

/** What the job runner takes from the process's runtime (the runtime fits it). */
export interface JobsHost {
  config: Pick<Config, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'JOB_WORKERS_ENABLED'>;
  logger: Logger;
  closers: { name: string; close(): Promise<void> }[];
}

export function createJobs(runtime: JobsHost): Jobs {
  const { config, logger } = runtime;
  const queue =
    config.REDIS_URL === undefined
      ? createInProcessQueue({ logger })
      : createBullmqQueue({ redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });
  const definitions = new Map<string, Schedule>();
  const tasks: ScheduledTask[] = [];
  let started = false;
  let closed = false;

  function startTask(item: Schedule): void {
    const task = cron.schedule(
      item.cron,
      async (context) => {
        try {
          await item.run(context.date);
        } catch (error) {
          logger.error({ err: error, schedule: item.name }, 'scheduled run failed');
        }
      },
      { name: item.name, timezone: SCHEDULE_TIMEZONE, noOverlap: true },
    );
    task.unref();
    tasks.push(task);
  }

  const jobs: Jobs = {
    queue,
    schedule(item) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(item.name)) throw new RangeError(`bad schedule name ${item.name}`);
      if (!cron.validate(item.cron))
        throw new RangeError(`bad cron expression for ${item.name}: ${item.cron}`);
      if (definitions.has(item.name)) throw new RangeError(`schedule ${item.name} is defined twice`);
      if (definitions.size >= MAX_SCHEDULES) throw new RangeError(`at most ${MAX_SCHEDULES} schedules`);
      definitions.set(item.name, item);
      if (started) startTask(item);
    },
    async start() {
      if (started || closed || !config.JOB_WORKERS_ENABLED) return;
      started = true;
      await queue.start();
      for (const item of definitions.values()) startTask(item);
    },
    schedules() {
      return [...definitions.values()].map((item, index) => ({
        name: item.name,
        cron: item.cron,
        nextRunAt: tasks[index]?.getNextRun()?.toISOString() ?? null,
      }));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled(tasks.map(async (task) => task.destroy()));
      await queue.close();
    },
  };
  runtime.closers.push({ name: 'jobs', close: () => jobs.close() });
  return jobs;
}
