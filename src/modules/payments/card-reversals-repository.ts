import { sql, type Selectable } from 'kysely';
import type { CardFundingReversalsTable, PaymentsDb } from './tables.js';

/** The SQL of card refunds and chargebacks (issue #28): one row per provider reversal. */

export type CardReversalRow = Selectable<CardFundingReversalsTable>;

export interface NewCardReversal {
  reversalId: string;
  fundingId: string;
  kind: 'chargeback' | 'refund';
  amountMinor: bigint;
  currency: 'USD' | 'EUR';
  providerReference: string | null;
  reason: string | null;
  requestedBy: string | null;
  /** A EUR funding's reversal in the XAF wallet's francs (omitted for USD: the amount itself). */
  walletAmountMinor?: bigint;
}

export interface ReversalSplit {
  walletMinor: bigint;
  receivableMinor: bigint;
  providerGapMinor: bigint;
}

export function createCardReversalsRepository(db: PaymentsDb) {
  return {
    /**
     * Runs `work` while holding a lock on one reversal (a transaction-scoped advisory lock, so
     * every instance sees it and a dead process lets go): one booker at a time, so a split is never
     * computed again while another process submits it.
     */
    locked: <T>(reversalId: string, work: () => Promise<T>): Promise<T> =>
      db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`card-reversal:${reversalId}`}))`.execute(trx);
        return work();
      }),

    /**
     * One decision at a time per funding: what is left to reverse is read and the reversal that
     * takes from it inserted under this lock, so a refund and a chargeback arriving together
     * cannot both take the same remainder.
     */
    fundingLocked: <T>(fundingId: string, work: () => Promise<T>): Promise<T> =>
      db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`card-funding-reversals:${fundingId}`}))`.execute(
          trx,
        );
        return work();
      }),

    /** Inserts the reversal once; a repeated webhook or a retry finds the first row. */
    async insert(reversal: NewCardReversal): Promise<void> {
      await db
        .insertInto('card_funding_reversals')
        .values({
          reversal_id: reversal.reversalId,
          funding_id: reversal.fundingId,
          kind: reversal.kind,
          amount_minor: reversal.amountMinor,
          currency: reversal.currency,
          provider_reference: reversal.providerReference,
          reason: reversal.reason,
          requested_by: reversal.requestedBy,
          wallet_amount_minor: reversal.walletAmountMinor ?? null,
        })
        .onConflict((conflict) => conflict.column('reversal_id').doNothing())
        .execute();
    },

    find: (reversalId: string) =>
      db
        .selectFrom('card_funding_reversals')
        .selectAll()
        .where('reversal_id', '=', reversalId)
        .executeTakeFirst() as Promise<CardReversalRow | undefined>,

    listForFunding: (fundingId: string, limit: number) =>
      db
        .selectFrom('card_funding_reversals')
        .selectAll()
        .where('funding_id', '=', fundingId)
        .orderBy('created_at')
        .orderBy('reversal_id')
        .limit(limit)
        .execute() as Promise<CardReversalRow[]>,

    /** What the funding's other reversals take back (failed refunds do not count). */
    async reversedMinor(fundingId: string, exceptReversalId: string): Promise<bigint> {
      const row = await db
        .selectFrom('card_funding_reversals')
        .select(sql<string>`coalesce(sum(amount_minor), 0)`.as('total'))
        .where('funding_id', '=', fundingId)
        .where('reversal_id', '!=', exceptReversalId)
        .where('status', '!=', 'FAILED')
        .executeTakeFirstOrThrow();
      return BigInt(row.total);
    },

    /** Fixes the split once (the first writer wins); the caller reads the row back. */
    async fixSplit(reversalId: string, split: ReversalSplit): Promise<void> {
      await db
        .updateTable('card_funding_reversals')
        .set({
          wallet_minor: split.walletMinor,
          receivable_minor: split.receivableMinor,
          provider_gap_minor: split.providerGapMinor,
        })
        .where('reversal_id', '=', reversalId)
        .where('wallet_minor', 'is', null)
        .where('status', '!=', 'BOOKED')
        .execute();
    },

    /** Forgets a split the ledger refused as a whole (nothing landed), so the next try computes it again. */
    async clearSplit(reversalId: string): Promise<void> {
      await db
        .updateTable('card_funding_reversals')
        .set({ wallet_minor: null, receivable_minor: null, provider_gap_minor: null })
        .where('reversal_id', '=', reversalId)
        .where('status', '!=', 'BOOKED')
        .execute();
    },

    /** REQUESTED → ASKED (a refund about to be asked of the provider); true for the one caller that moved it. */
    async markAsked(reversalId: string): Promise<boolean> {
      const result = await db
        .updateTable('card_funding_reversals')
        .set({ status: 'ASKED' })
        .where('reversal_id', '=', reversalId)
        .where('status', '=', 'REQUESTED')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async setProviderReference(reversalId: string, providerReference: string): Promise<void> {
      await db
        .updateTable('card_funding_reversals')
        .set({ provider_reference: providerReference })
        .where('reversal_id', '=', reversalId)
        .where('provider_reference', 'is', null)
        .execute();
    },

    /** → BOOKED once; true for the one caller that moved it. */
    async markBooked(reversalId: string, at: Date): Promise<boolean> {
      const result = await db
        .updateTable('card_funding_reversals')
        .set({ status: 'BOOKED', booked_at: at })
        .where('reversal_id', '=', reversalId)
        .where('status', '!=', 'BOOKED')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markFailed(reversalId: string, failureReason: string): Promise<boolean> {
      const result = await db
        .updateTable('card_funding_reversals')
        .set({ status: 'FAILED', failure_reason: failureReason })
        .where('reversal_id', '=', reversalId)
        .where('status', 'in', ['REQUESTED', 'ASKED'])
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type CardReversalsRepository = ReturnType<typeof createCardReversalsRepository>;
