import type { Logger } from 'pino';
import {
  backoffDelayMs,
  checkBulk,
  checkDefinition,
  checkJobId,
  type EnqueueOptions,
  type JobDefinition,
  type JobQueue,
} from './types.js';

/**
 * The in-process queue for the embedded default (no REDIS_URL): the same contract as BullMQ
 * (deduplication by job id, delays, retries with exponential backoff, bounded concurrency), with
 * jobs in memory. A restart forgets waiting jobs: the sweeps that enqueue them run again.
 */
const MAX_QUEUED_PER_QUEUE = 100_000;

interface Entry {
  id: string;
  data: unknown;
  attempt: number;
}

interface QueueState {
  definition: JobDefinition<unknown>;
  limits: ReturnType<typeof checkDefinition>;
  ready: Entry[];
  delayed: Map<string, NodeJS.Timeout>;
  /** Ids waiting, delayed or running: the deduplication set. */
  known: Set<string>;
  active: number;
  failed: number;
  idleWaiters: (() => void)[];
}

let anonymousIds = 0;

export function createInProcessQueue(options: { logger: Logger }): JobQueue {
  const queues = new Map<string, QueueState>();
  const running = new Set<Promise<void>>();
  let started = false;
  let closed = false;

  function stateOf(queue: string): QueueState {
    const state = queues.get(queue);
    if (state === undefined) throw new RangeError(`queue ${queue} is not defined`);
    return state;
  }

  function notifyIdle(state: QueueState): void {
    if (state.ready.length > 0 || state.active > 0) return;
    for (const resolve of state.idleWaiters.splice(0)) resolve();
  }

  function pump(state: QueueState): void {
    if (!started || closed) return;
    while (state.active < state.limits.concurrency && state.ready.length > 0) {
      const entry = state.ready.shift()!;
      state.active += 1;
      const work = runOne(state, entry).finally(() => {
        running.delete(work);
        state.active -= 1;
        pump(state);
        notifyIdle(state);
      });
      running.add(work);
    }
  }

  async function runOne(state: QueueState, entry: Entry): Promise<void> {
    try {
      await state.definition.handler(entry.data, {
        jobId: entry.id,
        attempt: entry.attempt,
        maxAttempts: state.limits.attempts,
      });
      state.known.delete(entry.id);
    } catch (error) {
      if (entry.attempt >= state.limits.attempts || closed) {
        state.known.delete(entry.id);
        state.failed += 1;
        options.logger.error(
          { err: error, queue: state.limits.queue, jobId: entry.id },
          'job failed for good',
        );
        return;
      }
      options.logger.warn(
        { err: error, queue: state.limits.queue, jobId: entry.id, attempt: entry.attempt },
        'job failed; retrying',
      );
      schedule(
        state,
        { ...entry, attempt: entry.attempt + 1 },
        backoffDelayMs(state.limits.backoffMs, entry.attempt),
      );
    }
  }

  function schedule(state: QueueState, entry: Entry, delayMs: number): void {
    if (delayMs <= 0) {
      state.ready.push(entry);
      pump(state);
      return;
    }
    const timer = setTimeout(() => {
      state.delayed.delete(entry.id);
      state.ready.push(entry);
      pump(state);
    }, delayMs);
    timer.unref();
    state.delayed.set(entry.id, timer);
  }

  return {
    kind: 'in-process',
    define<Data>(definition: JobDefinition<Data>) {
      const limits = checkDefinition(definition as JobDefinition<unknown>);
      if (queues.has(limits.queue)) throw new RangeError(`queue ${limits.queue} is defined twice`);
      queues.set(limits.queue, {
        definition: definition as JobDefinition<unknown>,
        limits,
        ready: [],
        delayed: new Map(),
        known: new Set(),
        active: 0,
        failed: 0,
        idleWaiters: [],
      });
    },
    async enqueue<Data>(queue: string, data: Data, enqueueOptions: EnqueueOptions = {}) {
      if (closed) throw new Error('the job queue is closed');
      checkJobId(enqueueOptions.jobId);
      const state = stateOf(queue);
      const id = enqueueOptions.jobId ?? `job-${++anonymousIds}`;
      if (state.known.has(id)) return;
      if (state.known.size >= MAX_QUEUED_PER_QUEUE)
        throw new Error(`queue ${queue} is full (${MAX_QUEUED_PER_QUEUE} jobs)`);
      state.known.add(id);
      schedule(state, { id, data: structuredClone(data), attempt: 1 }, enqueueOptions.delayMs ?? 0);
    },
    async enqueueMany<Data>(queue: string, jobs: readonly ({ data: Data } & EnqueueOptions)[]) {
      checkBulk(jobs);
      for (const { data, ...enqueueOptions } of jobs) await this.enqueue(queue, data, enqueueOptions);
    },
    async start() {
      started = true;
      for (const state of queues.values()) pump(state);
    },
    async counts(queue) {
      const state = stateOf(queue);
      return {
        waiting: state.ready.length,
        delayed: state.delayed.size,
        active: state.active,
        failed: state.failed,
      };
    },
    async drain(queue, timeoutMs = 30_000) {
      const state = stateOf(queue);
      if (state.ready.length === 0 && state.active === 0) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`queue ${queue} did not drain in ${timeoutMs} ms`)),
          timeoutMs,
        );
        state.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      closed = true;
      for (const state of queues.values()) {
        for (const timer of state.delayed.values()) clearTimeout(timer);
        state.delayed.clear();
        state.ready.length = 0;
      }
      await Promise.allSettled([...running]);
    },
  };
}
