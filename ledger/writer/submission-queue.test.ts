import { describe, expect, it } from 'vitest';
import { transfer } from '../rules/testing/fixtures.js';
import { createSubmissionQueue, type Submission } from './submission-queue.js';

const submission = (name: string, transfers: number, estimatedBytes = 100): Submission => ({
  transfers: Array.from({ length: transfers }, (_, index) => transfer({ id: `${name}-${index}` })),
  estimatedBytes,
  enqueuedAtMs: 0,
  resolve: () => undefined,
  reject: () => undefined,
});

describe('the submission queue', () => {
  it('takes first in, first out, counting submissions and transfers', () => {
    const queue = createSubmissionQueue();
    queue.push(submission('a', 2));
    queue.push(submission('b', 3));
    expect([queue.size(), queue.transfers()]).toEqual([2, 5]);
    expect(queue.oldest()?.transfers[0]?.id).toBe('a-0');
    expect(queue.take().transfers[0]?.id).toBe('a-0');
    expect([queue.size(), queue.transfers()]).toEqual([1, 3]);
    queue.take();
    expect(queue.oldest()).toBeUndefined();
    expect(() => queue.take()).toThrow(/queue underflow/);
  });

  it('cuts a batch at whole submissions within the transfer and byte limits, taking at least one', () => {
    const queue = createSubmissionQueue();
    for (const [name, count, bytes] of [
      ['a', 3, 100],
      ['b', 3, 100],
      ['c', 1, 900],
      ['d', 9, 100],
    ] as const)
      queue.push(submission(name, count, bytes));
    const ids = (batch: Submission[]) => batch.map((item) => item.transfers[0]!.id.split('-')[0]);
    expect(ids(queue.takeBatch(7, 1_000))).toEqual(['a', 'b']);
    expect(ids(queue.takeBatch(7, 1_000))).toEqual(['c']);
    expect(ids(queue.takeBatch(7, 1_000))).toEqual(['d']);
    expect(queue.takeBatch(7, 1_000)).toEqual([]);
    expect(queue.transfers()).toBe(0);
  });

  it('keeps the order across compaction of what was taken', () => {
    const queue = createSubmissionQueue();
    for (let index = 0; index < 5_000; index += 1) queue.push(submission(`s${index}`, 1));
    const seen: string[] = [];
    for (let index = 0; index < 3_000; index += 1) seen.push(queue.take().transfers[0]!.id);
    for (let index = 5_000; index < 5_010; index += 1) queue.push(submission(`s${index}`, 1));
    while (queue.size() > 0) seen.push(queue.take().transfers[0]!.id);
    expect(seen).toEqual(Array.from({ length: 5_010 }, (_, index) => `s${index}-0`));
    expect(queue.transfers()).toBe(0);
  });
});
