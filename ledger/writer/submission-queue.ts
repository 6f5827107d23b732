import { assertInvariant, type Transfer } from '../rules/index.js';
import type { TransferOutcome } from './batch.js';

/** One caller's submit(): its transfers and how to answer it. */
export interface Submission {
  readonly transfers: readonly Transfer[];
  readonly estimatedBytes: number;
  readonly enqueuedAtMs: number;
  readonly resolve: (outcomes: TransferOutcome[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The writer's queue of submissions, first in first out, with the count of transfers it holds
 * (submit() sheds load past its limit). Taking from the head moves an index; the array is
 * compacted once the taken part dominates, so taking stays O(1) without unbounded growth.
 */
export interface SubmissionQueue {
  push(submission: Submission): void;
  /** Submissions waiting. */
  size(): number;
  /** Transfers waiting, over all submissions. */
  transfers(): number;
  oldest(): Submission | undefined;
  take(): Submission;
  /**
   * Whole submissions from the head, at least one, while they fit in `maxTransfers` and
   * `maxBytes` (estimated): the next batch.
   */
  takeBatch(maxTransfers: number, maxBytes: number): Submission[];
}

/** Taken entries kept before the array is compacted. */
const COMPACT_AFTER = 1_024;

export function createSubmissionQueue(): SubmissionQueue {
  const queue: Submission[] = [];
  let head = 0;
  let transfers = 0;

  const size = () => queue.length - head;

  function take(): Submission {
    const next = queue[head];
    assertInvariant(next !== undefined, 'queue underflow');
    queue[head] = undefined as unknown as Submission;
    head += 1;
    transfers -= next.transfers.length;
    if (head > COMPACT_AFTER && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    return next;
  }

  return {
    push(submission) {
      queue.push(submission);
      transfers += submission.transfers.length;
    },
    size,
    transfers: () => transfers,
    oldest: () => queue[head],
    take,
    takeBatch(maxTransfers, maxBytes) {
      const batch: Submission[] = [];
      let count = 0;
      let bytes = 0;
      while (size() > 0) {
        const next = queue[head]!;
        const full = count + next.transfers.length > maxTransfers || bytes + next.estimatedBytes > maxBytes;
        if (batch.length > 0 && full) break;
        batch.push(take());
        count += next.transfers.length;
        bytes += next.estimatedBytes;
      }
      return batch;
    },
  };
}
