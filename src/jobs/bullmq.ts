import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeRedis } from '../platform/redis-close.js';
import {
  checkBulk,
  checkDefinition,
  checkJobId,
  type EnqueueOptions,
  type JobDefinition,
  type JobQueue,
} from './types.js';

/**
 * BullMQ on Redis. Its own ioredis connection with `maxRetriesPerRequest: null` (BullMQ's
 * blocking commands must wait through a Redis blip, unlike the API's fail-fast connection), keys
 * under `${REDIS_KEY_PREFIX}bull`. Finished jobs are kept briefly (bounded) for inspection.
 */
const KEEP_COMPLETED = { age: 3_600, count: 1_000 };
const KEEP_FAILED = { age: 7 * 86_400, count: 5_000 };
/** How long close() lets running jobs finish before it gives up on them. */
const CLOSE_TIMEOUT_MS = 10_000;

interface Registered {
  definition: JobDefinition<unknown>;
  limits: ReturnType<typeof checkDefinition>;
  queue: Queue;
  worker?: Worker;
}

export function createBullmqQueue(options: {
  redisUrl: string;
  keyPrefix: string;
  logger: Logger;
}): JobQueue {
  const connection = new Redis(options.redisUrl, {
    connectionName: 'jobs',
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  connection.on('error', () => undefined);
  const prefix = `${options.keyPrefix}bull`;
  const registered = new Map<string, Registered>();
  let started = false;

  function entry(queue: string): Registered {
    const found = registered.get(queue);
    if (found === undefined) throw new RangeError(`queue ${queue} is not defined`);
    return found;
  }

  function startWorker(item: Registered): void {
    const worker = new Worker(
      item.limits.queue,
      async (job: Job) => {
        await item.definition.handler(job.data, {
          jobId: job.id ?? '',
          attempt: job.attemptsMade + 1,
          maxAttempts: item.limits.attempts,
        });
      },
      { connection, prefix, concurrency: item.limits.concurrency, autorun: true },
    );
    worker.on('failed', (job, error) => {
      const final = job !== undefined && job.attemptsMade >= item.limits.attempts;
      options.logger[final ? 'error' : 'warn'](
        { err: error, queue: item.limits.queue, jobId: job?.id, attempt: job?.attemptsMade },
        final ? 'job failed for good' : 'job failed; retrying',
      );
    });
    worker.on('error', (error) =>
      options.logger.warn({ err: error, queue: item.limits.queue }, 'job worker error'),
    );
    item.worker = worker;
  }

  function jobOptions(item: Registered, enqueueOptions: EnqueueOptions) {
    return {
      ...(enqueueOptions.jobId === undefined ? {} : { jobId: enqueueOptions.jobId }),
      ...(enqueueOptions.delayMs === undefined ? {} : { delay: enqueueOptions.delayMs }),
      attempts: item.limits.attempts,
      backoff: { type: 'exponential', delay: item.limits.backoffMs },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    };
  }

  return {
    kind: 'bullmq',
    define<Data>(definition: JobDefinition<Data>) {
      const limits = checkDefinition(definition as JobDefinition<unknown>);
      if (registered.has(limits.queue)) throw new RangeError(`queue ${limits.queue} is defined twice`);
      const queue = new Queue(limits.queue, { connection, prefix });
      queue.on('error', () => undefined);
      const item: Registered = { definition: definition as JobDefinition<unknown>, limits, queue };
      registered.set(limits.queue, item);
      if (started) startWorker(item);
    },
    async enqueue<Data>(queue: string, data: Data, enqueueOptions: EnqueueOptions = {}) {
      checkJobId(enqueueOptions.jobId);
      const item = entry(queue);
      await item.queue.add(queue, data, jobOptions(item, enqueueOptions));
    },
    async enqueueMany<Data>(queue: string, jobs: readonly ({ data: Data } & EnqueueOptions)[]) {
      checkBulk(jobs);
      if (jobs.length === 0) return;
      const item = entry(queue);
      // One MULTI for all of them: the per-job round trip is what a burst of jobs costs.
      await item.queue.addBulk(
        jobs.map((job) => ({ name: queue, data: job.data, opts: jobOptions(item, job) })),
      );
    },
    async start() {
      if (started) return;
      started = true;
      for (const item of registered.values()) startWorker(item);
    },
    async counts(queue) {
      const counts = await entry(queue).queue.getJobCounts(
        'waiting',
        'delayed',
        'active',
        'failed',
        'prioritized',
        'paused',
      );
      return {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0),
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
        failed: counts.failed ?? 0,
      };
    },
    async drain(queue, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const counts = await this.counts(queue);
        if (counts.waiting === 0 && counts.active === 0) return;
        if (Date.now() > deadline) throw new Error(`queue ${queue} did not drain in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      const workers = [...registered.values()].flatMap((item) =>
        item.worker === undefined ? [] : [item.worker],
      );
      const closing = Promise.allSettled(workers.map((worker) => worker.close()));
      const timeout = new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref());
      await Promise.race([closing, timeout]);
      await Promise.allSettled([...registered.values()].map((item) => item.queue.close()));
      await closeRedis(connection);
    },
  };
}
