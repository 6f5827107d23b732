/**
 * The job queue port (docs/architecture.md: "jobs (BullMQ on Redis): payment polling, payouts,
 * notifications, reconciliation; node-cron schedules them"). Two implementations behind it:
 * BullMQ when REDIS_URL is set, an in-process queue otherwise (docs/architecture.md, decision 10). Handlers must be
 * idempotent: both implementations deliver at least once (a retry after a crash or a timeout).
 */

export interface JobContext {
  /** The job's id (the deduplication key when the caller chose one). */
  jobId: string;
  /** 1 for the first try. */
  attempt: number;
  /** Attempts allowed in all. */
  maxAttempts: number;
}

export interface JobDefinition<Data> {
  /** Letters, digits, `-` and `_`; one queue per definition. */
  queue: string;
  handler(data: Data, context: JobContext): Promise<void>;
  /** Jobs of this queue run at most this many at once per process (default 4, at most 64). */
  concurrency?: number;
  /** Tries in all before the job is given up (default 5, at most 25). */
  attempts?: number;
  /** First retry delay; doubles each time (default 1,000 ms). */
  backoffMs?: number;
}

export interface EnqueueOptions {
  /**
   * Deduplication: while a job with this id is waiting, delayed or running, adding it again does
   * nothing. Letters, digits, `-` and `_` only (BullMQ forbids `:`).
   */
  jobId?: string;
  delayMs?: number;
}

export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  define<Data>(definition: JobDefinition<Data>): void;
  enqueue<Data>(queue: string, data: Data, options?: EnqueueOptions): Promise<void>;
  /**
   * Adds many jobs to one queue in one round trip (BullMQ's `addBulk`), each deduplicated by its
   * id as `enqueue` does. At most MAX_BULK_JOBS per call.
   */
  enqueueMany<Data>(queue: string, jobs: readonly ({ data: Data } & EnqueueOptions)[]): Promise<void>;
  /** Starts the workers of every defined queue (idempotent). Producers work before it. */
  start(): Promise<void>;
  /** Jobs waiting, delayed or running in a queue (for tests, metrics and readiness). */
  counts(queue: string): Promise<{ waiting: number; delayed: number; active: number; failed: number }>;
  /** Resolves when the queue has no waiting or running job (delayed ones are left alone). */
  drain(queue: string, timeoutMs?: number): Promise<void>;
  /** Stops taking jobs, waits for running ones (bounded), closes connections. */
  close(): Promise<void>;
}

export const JOB_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;
export const MAX_CONCURRENCY = 64;
export const MAX_ATTEMPTS = 25;
/** Jobs one `enqueueMany` adds (one Redis pipeline). */
export const MAX_BULK_JOBS = 1_000;
/** The longest wait between two tries, whatever the backoff says. */
export const MAX_BACKOFF_MS = 15 * 60_000;

export function backoffDelayMs(backoffMs: number, attempt: number): number {
  return Math.min(backoffMs * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
}

export function checkDefinition(
  definition: JobDefinition<unknown>,
): Required<Omit<JobDefinition<unknown>, 'handler'>> {
  if (!JOB_NAME_PATTERN.test(definition.queue)) throw new RangeError(`bad queue name ${definition.queue}`);
  const concurrency = definition.concurrency ?? 4;
  const attempts = definition.attempts ?? 5;
  const backoffMs = definition.backoffMs ?? 1_000;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    throw new RangeError(`concurrency must be 1-${MAX_CONCURRENCY}`);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS)
    throw new RangeError(`attempts must be 1-${MAX_ATTEMPTS}`);
  if (!Number.isInteger(backoffMs) || backoffMs < 1)
    throw new RangeError('backoffMs must be a positive integer');
  return { queue: definition.queue, concurrency, attempts, backoffMs };
}

export function checkBulk(jobs: readonly EnqueueOptions[]): void {
  if (jobs.length > MAX_BULK_JOBS) throw new RangeError(`at most ${MAX_BULK_JOBS} jobs per enqueueMany`);
  for (const job of jobs) checkJobId(job.jobId);
}

export function checkJobId(jobId: string | undefined): void {
  if (jobId !== undefined && !JOB_ID_PATTERN.test(jobId)) throw new RangeError(`bad job id ${jobId}`);
}
