/**
 * What finance staff must hear of (notify's staff alerts, issue #19): payouts stopped in
 * NEEDS_REVIEW and reconciliation runs that found exceptions. Payouts and runs are state-stored
 * (no event tells of them), so notify's sweep asks here for the recent ones; ids, amounts and
 * counts only, never a phone or a provider's free text.
 */
import { EXCEPTION_STATUSES } from './reconcile-rules.js';
import type { PaymentsDb } from './tables.js';

/** At most this many of each per call. */
export const STAFF_ALERTS_MAX = 100;

export interface PaymentAlerts {
  /** Payouts in NEEDS_REVIEW changed since `since`, oldest first. */
  payoutsInReview(since: Date): Promise<{ payoutId: string; amountMinor: number; since: Date }[]>;
  /** Completed reconciliation runs with at least one exception, completed since `since`. */
  reconciliationExceptions(
    since: Date,
  ): Promise<{ runId: string; provider: string; exceptions: number; completedAt: Date }[]>;
}

export function createPaymentAlerts(db: PaymentsDb): PaymentAlerts {
  return {
    async payoutsInReview(since) {
      const rows = await db
        .selectFrom('payouts')
        .select(['payout_id', 'amount_minor', 'updated_at'])
        .where('status', '=', 'NEEDS_REVIEW')
        .where('updated_at', '>=', since)
        .orderBy('updated_at')
        .limit(STAFF_ALERTS_MAX)
        .execute();
      return rows.map((row) => ({
        payoutId: row.payout_id,
        amountMinor: Number(row.amount_minor),
        since: row.updated_at,
      }));
    },
    async reconciliationExceptions(since) {
      const rows = await db
        .selectFrom('reconciliation_runs')
        .select(['run_id', 'provider', 'counts', 'completed_at'])
        .where('status', '=', 'completed')
        .where('completed_at', '>=', since)
        .orderBy('completed_at')
        .limit(STAFF_ALERTS_MAX)
        .execute();
      return rows.flatMap((row) => {
        const exceptions = Object.entries(row.counts ?? {})
          .filter(([status]) => EXCEPTION_STATUSES.has(status as never))
          .reduce((sum, [, count]) => sum + Number(count), 0);
        return exceptions > 0 && row.completed_at !== null
          ? [{ runId: row.run_id, provider: row.provider, exceptions, completedAt: row.completed_at }]
          : [];
      });
    },
  };
}
