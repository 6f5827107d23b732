import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createBullmqQueue, createInProcessQueue, type JobQueue } from '../../src/jobs/index.js';
import { TEST_REDIS_URL } from '../helpers/database.js';

const logger = pino({ level: 'silent' });
const implementations: [string, () => JobQueue][] = [
  ['in-process', () => createInProcessQueue({ logger })],
  [
    'bullmq',
    () =>
      createBullmqQueue({
        redisUrl: TEST_REDIS_URL,
        keyPrefix: `t${randomBytes(4).toString('hex')}:`,
        logger,
      }),
  ],
];

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(implementations)('job queue contract (%s)', (_name, create) => {
  let queue: JobQueue;
  afterEach(async () => queue.close());

  it('retries a failing job with backoff until it succeeds, and gives the attempt number', async () => {
    queue = create();
    const attempts: number[] = [];
    queue.define<{ n: number }>({
      queue: 'flaky',
      attempts: 4,
      backoffMs: 5,
      handler: async (data, context) => {
        attempts.push(context.attempt);
        if (context.attempt < 3) throw new Error(`fail ${data.n}`);
      },
    });
    await queue.start();
    await queue.enqueue('flaky', { n: 1 });
    await until(() => attempts.length === 3);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('gives up after the allowed attempts', async () => {
    queue = create();
    let calls = 0;
    queue.define({
      queue: 'doomed',
      attempts: 2,
      backoffMs: 5,
      handler: async () =>
        void (
          (calls += 1),
          (() => {
            throw new Error('no');
          })()
        ),
    });
    await queue.start();
    await queue.enqueue('doomed', {});
    await until(() => calls === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(2);
  });

  it('runs a job id once while it is pending (deduplication) and honours the delay', async () => {
    queue = create();
    const seen: string[] = [];
    queue.define<{ tag: string }>({ queue: 'dedupe', handler: async (data) => void seen.push(data.tag) });
    await queue.start();
    const started = Date.now();
    await queue.enqueue('dedupe', { tag: 'first' }, { jobId: 'same-id', delayMs: 150 });
    await queue.enqueue('dedupe', { tag: 'second' }, { jobId: 'same-id', delayMs: 150 });
    await until(() => seen.length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual(['first']);
  });

  it('never runs more jobs at once than the concurrency allows', async () => {
    queue = create();
    let running = 0;
    let peak = 0;
    let done = 0;
    queue.define({
      queue: 'bounded',
      concurrency: 3,
      handler: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        done += 1;
      },
    });
    await queue.start();
    await Promise.all(Array.from({ length: 12 }, (_, index) => queue.enqueue('bounded', { index })));
    await until(() => done === 12);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it('refuses queue names and job ids it cannot store', async () => {
    queue = create();
    expect(() => queue.define({ queue: 'bad:name', handler: async () => undefined })).toThrow(RangeError);
    queue.define({ queue: 'ok', handler: async () => undefined });
    await expect(queue.enqueue('ok', {}, { jobId: 'has:colon' })).rejects.toThrow(RangeError);
  });
});
