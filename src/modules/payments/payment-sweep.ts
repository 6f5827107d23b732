/**
 * The payments sweep (every minute, on one instance): finds attempts that never learned their
 * provider reference, expires stale ones, queues re-reads of expired ones (a late success still
 * reaches the payer's wallet) and re-queues the booking of any success left unbooked.
 */
import type { Logger } from 'pino';
import type { JobQueue } from '../../jobs/index.js';
import type { PaymentAttemptsRepository } from './payment-attempts-repository.js';
import type { PaymentBooking } from './payment-booking.js';
import { MAX_POLLS, POLL_QUEUE, type PaymentStatus } from './payment-status.js';
import type { PaymentStore } from './payment-store.js';

export const SETTLE_QUEUE = 'payments-settle';
/** After expiry a payment is still re-read for this long: a late success must land. */
export const LATE_POLL_WINDOW_MS = 24 * 60 * 60_000;
const SWEEP_BATCH = 500;
/**
 * An attempt with no provider reference this old is looked for at the providers by our id: its
 * initiate crashed or lost the answer (a live one spends at most two providers' timeouts, with
 * retries, well under this).
 */
export const LOCATE_AFTER_MS = 2 * 60_000;
/**
 * A lookup that finds nothing under our reference proves nothing on its own while the collect
 * may still be on its way or not yet in the provider's statement (a request held in a queue or a
 * proxy, a statement that lags, a call from a process that died mid-request): an attempt whose
 * call may have reached a provider stays PENDING, looked for again by every sweep, and is failed
 * NOT_SUBMITTED only when every provider still holds nothing this long after it began (the
 * lookups at 2, 3, … minutes all came back empty). Under the 15-minute expiry.
 */
export const NOT_SUBMITTED_AFTER_MS = 10 * 60_000;
/**
 * A PENDING attempt whose reference is known but whose row has not changed for this long is
 * re-read by the sweep (at most once per slot of this length): its poll may never have been
 * queued (a kill between our record of the reference and the queueing) and its webhook lost.
 */
export const SILENT_AFTER_MS = 2 * 60_000;
/** Failure reasons that leave the collect's fate unknown (the answer was lost, not refused). */
export const UNREACHABLE = 'PROVIDER_UNREACHABLE';
export const NOT_SUBMITTED = 'NOT_SUBMITTED';

export interface PaymentSweepOptions {
  store: PaymentStore;
  attempts: PaymentAttemptsRepository;
  status: PaymentStatus;
  booking: PaymentBooking;
  queue: JobQueue;
  logger: Logger;
}

export interface SweepResult {
  located: number;
  /** PENDING attempts with a known reference re-read because nothing else was reading them. */
  reread: number;
  expired: number;
  repolled: number;
  resettled: number;
}

export function createPaymentSweep(options: PaymentSweepOptions) {
  const { store, attempts, status, booking, queue, logger } = options;

  /**
   * Attempts that never learned their provider reference (a crash between the provider's answer
   * and our record, or a lost answer): looked for by our id. Found → applied like any other;
   * every provider says it holds nothing → still PENDING, looked for again at the next sweep,
   * and failed (NOT_SUBMITTED) only once the attempt is NOT_SUBMITTED_AFTER_MS old; a provider
   * that cannot tell → left for expiry and the late re-reads.
   */
  async function locateUnrecorded(current: Date): Promise<number> {
    const unlocated = await attempts.unlocated(new Date(current.getTime() - LOCATE_AFTER_MS), SWEEP_BATCH);
    let found = 0;
    for (const { payment_id: paymentId, created_at: createdAt } of unlocated) {
      const verdict = await status.locate(paymentId).catch(() => 'unknown' as const);
      if (verdict === 'found') {
        found += 1;
        await status
          .refresh(paymentId)
          .catch((error: unknown) =>
            logger.warn(
              { err: error, paymentId },
              'a located attempt could not be read yet; the poll retries',
            ),
          );
        await status.schedulePoll(paymentId, 1);
      } else if (
        verdict === 'absent' &&
        current.getTime() - new Date(createdAt).getTime() >= NOT_SUBMITTED_AFTER_MS
      ) {
        const { state, newEvents } = await store.execute(paymentId, {
          type: 'FailSubmission',
          data: { reason: NOT_SUBMITTED, at: current },
        });
        if (newEvents.length > 0) await booking.tellOrderFailed(state, NOT_SUBMITTED);
      }
    }
    return found;
  }

  /**
   * PENDING attempts with a known reference that nothing has changed for SILENT_AFTER_MS: a poll
   * job re-reads each (one per slot), so an attempt whose process died before queueing its poll,
   * with its webhook lost, is still settled (and a success booked) within minutes, not at expiry.
   */
  async function rereadSilent(current: Date): Promise<number> {
    const silent = await attempts.silent(new Date(current.getTime() - SILENT_AFTER_MS), SWEEP_BATCH);
    const slot = Math.floor(current.getTime() / SILENT_AFTER_MS);
    for (const paymentId of silent)
      await queue.enqueue(
        POLL_QUEUE,
        { paymentId, attempt: MAX_POLLS },
        { jobId: `silent-${paymentId}-${slot}` },
      );
    return silent.length;
  }

  async function expireStale(current: Date): Promise<number> {
    let expired = 0;
    for (const paymentId of await attempts.stale(current, SWEEP_BATCH)) {
      const state = await status.refresh(paymentId).catch(() => undefined); // an outage must not block expiry
      if (state !== undefined && state.status !== 'PENDING') continue;
      const { newEvents } = await store.execute(paymentId, { type: 'ExpirePayment', data: { now: current } });
      expired += newEvents.length;
    }
    return expired;
  }

  /** Expires stale attempts, re-reads expired ones (late successes), and books any success left unbooked. */
  async function sweep(current: Date): Promise<SweepResult> {
    const located = await locateUnrecorded(current);
    const reread = await rereadSilent(current);
    const expired = await expireStale(current);
    // Late successes: expired attempts, and those that failed before any provider answered (the
    // collect may still have reached the payer).
    const late = await attempts.lateCandidates(
      new Date(current.getTime() - LATE_POLL_WINDOW_MS),
      [UNREACHABLE, NOT_SUBMITTED],
      SWEEP_BATCH,
    );
    const slot = Math.floor(current.getTime() / 600_000);
    for (const paymentId of late) {
      await queue.enqueue(
        POLL_QUEUE,
        { paymentId, attempt: MAX_POLLS },
        { jobId: `late-${paymentId}-${slot}` },
      );
    }
    const unsettled = await attempts.unsettled(new Date(current.getTime() - 30_000), SWEEP_BATCH);
    for (const paymentId of unsettled) {
      await queue.enqueue(SETTLE_QUEUE, { paymentId }, { jobId: `settle-${paymentId}` });
    }
    return { located, reread, expired, repolled: late.length, resettled: unsettled.length };
  }

  return { sweep };
}
