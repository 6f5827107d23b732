import { sql, type Selectable } from 'kysely';
import type { PaymentsDb, ReceivableRecoveriesTable } from './tables.js';

/**
 * The SQL of receivable recovery (issue #28): our `receivable_recoveries` rows, and the reads of
 * the ledger's read model (`ledger_accounts`, `ledger_entries`) that find who owes and which new
 * credits landed on their wallet since they owe. The read model may lag a moment: amounts are
 * always decided from the ledger writer's balances, never from these reads.
 */
export type RecoveryRow = Selectable<ReceivableRecoveriesTable>;
export type RecoveryCurrency = 'XAF' | 'USD';

export interface CreditEntry {
  transfer_id: string;
  code: string;
  amount_minor: string;
  timestamp_ns: string;
}

export interface ReceivableSummaryRow {
  user_id: string;
  currency: RecoveryCurrency;
  owed_minor: string | null;
  recovered_minor: string;
  recoveries: string;
  last_recovery_at: Date | null;
}

export function createReceivableRecoveryRepository(db: PaymentsDb) {
  /**
   * Customers a card reversal left owing (the only source of customer receivables today), with
   * their receivable's currency: USD for a USD funding, XAF for a EUR one (reversed in francs).
   */
  const receivableCustomers = sql`
    SELECT DISTINCT f.recipient_user_id::text AS user_id,
           CASE WHEN r.currency = 'EUR' THEN 'XAF' ELSE r.currency END AS currency
      FROM card_funding_reversals r JOIN card_fundings f ON f.funding_id = r.funding_id
     WHERE r.status = 'BOOKED' AND r.receivable_minor > 0`;

  return {
    /**
     * Runs `work` holding one customer's recovery lock in one currency (a transaction-scoped
     * advisory lock: every instance sees it, a dead process lets go), so two credits landing at
     * once are recovered one after the other from fresh balances.
     */
    locked: <T>(userId: string, currency: RecoveryCurrency, work: () => Promise<T>): Promise<T> =>
      db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`receivable-recovery:${userId}:${currency}`}))`.execute(
          trx,
        );
        return work();
      }),

    /** Who owes now as the read model sees it (positive receivable balance), at most `limit`. */
    async owing(limit: number): Promise<{ user_id: string; currency: RecoveryCurrency }[]> {
      const result = await sql<{ user_id: string; currency: RecoveryCurrency }>`
        SELECT c.user_id, c.currency FROM (${receivableCustomers}) c
          JOIN ledger_accounts a ON a.id = 'receivable:customer:' || c.user_id || ':' || c.currency
         WHERE a.debits_posted > a.credits_posted
         ORDER BY c.user_id, c.currency LIMIT ${limit}`.execute(db);
      return result.rows;
    },

    /**
     * Since when the customer owes without a break: the ledger time of the first receivable entry
     * after the last one that left it at zero; null when the read model shows nothing owed.
     */
    async debtSince(receivableAccountId: string): Promise<bigint | null> {
      const result = await sql<{ timestamp_ns: string; balance: string }>`
        SELECT timestamp_ns::text, (debits_posted - credits_posted)::text AS balance FROM ledger_entries
         WHERE account_id = ${receivableAccountId} ORDER BY entry_no`.execute(db);
      let since: bigint | null = null;
      for (const row of result.rows) {
        const balance = BigInt(row.balance);
        if (balance <= 0n) since = null;
        else if (since === null) since = BigInt(row.timestamp_ns);
      }
      return since;
    },

    /**
     * Credits of `codes` on the wallet after `sinceNs` that no recovery has considered yet, oldest
     * first (single-phase transfers: top-ups and rewards are never holds).
     */
    async unconsidered(
      walletAccountId: string,
      codes: readonly string[],
      sinceNs: bigint,
      limit: number,
    ): Promise<CreditEntry[]> {
      const result = await sql<CreditEntry>`
        SELECT e.transfer_id, e.code, e.amount_minor::text, e.timestamp_ns::text FROM ledger_entries e
         WHERE e.account_id = ${walletAccountId} AND e.side = 'credit' AND e.phase = 'posted'
           AND e.code IN (${sql.join(codes)}) AND e.timestamp_ns > ${sinceNs.toString()}::int8
           AND NOT EXISTS (SELECT FROM receivable_recoveries r WHERE r.credit_transfer_id = e.transfer_id)
         ORDER BY e.entry_no LIMIT ${limit}`.execute(db);
      return result.rows;
    },

    /** Records the decision for a credit once; a second instance or a replay finds the first row. */
    async decide(row: {
      creditTransferId: string;
      recoveryTransferId: string;
      userId: string;
      currency: RecoveryCurrency;
      creditCode: string;
      creditMinor: bigint;
      recoveredMinor: bigint;
    }): Promise<void> {
      await db
        .insertInto('receivable_recoveries')
        .values({
          credit_transfer_id: row.creditTransferId,
          recovery_transfer_id: row.recoveryTransferId,
          user_id: row.userId,
          currency: row.currency,
          credit_code: row.creditCode,
          credit_minor: row.creditMinor,
          recovered_minor: row.recoveredMinor,
          status: row.recoveredMinor > 0n ? 'DECIDED' : 'NOTHING',
        })
        .onConflict((conflict) => conflict.column('credit_transfer_id').doNothing())
        .execute();
    },

    find: (creditTransferId: string) =>
      db
        .selectFrom('receivable_recoveries')
        .selectAll()
        .where('credit_transfer_id', '=', creditTransferId)
        .executeTakeFirst() as Promise<RecoveryRow | undefined>,

    /** Decisions whose booking a crash (or a refusal) interrupted. */
    decided: (userId: string, currency: RecoveryCurrency) =>
      db
        .selectFrom('receivable_recoveries')
        .selectAll()
        .where('user_id', '=', userId)
        .where('currency', '=', currency)
        .where('status', '=', 'DECIDED')
        .orderBy('created_at')
        .execute() as Promise<RecoveryRow[]>,

    /** A decision refused by the ledger because a balance moved (nothing landed): decided again. */
    async redecide(creditTransferId: string, recoveredMinor: bigint): Promise<void> {
      await db
        .updateTable('receivable_recoveries')
        .set({ recovered_minor: recoveredMinor, status: recoveredMinor > 0n ? 'DECIDED' : 'NOTHING' })
        .where('credit_transfer_id', '=', creditTransferId)
        .where('status', '=', 'DECIDED')
        .execute();
    },

    /** True for the call that marked it (the one that audits it). */
    async markBooked(creditTransferId: string, owedAfterMinor: bigint, at: Date): Promise<boolean> {
      const result = await db
        .updateTable('receivable_recoveries')
        .set({ status: 'BOOKED', owed_after_minor: owedAfterMinor, booked_at: at })
        .where('credit_transfer_id', '=', creditTransferId)
        .where('status', '=', 'DECIDED')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** One customer's recoveries (all decisions, NOTHING included), newest first. */
    listForUser: (userId: string, limit: number) =>
      db
        .selectFrom('receivable_recoveries')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('credit_transfer_id', 'desc')
        .limit(limit)
        .execute() as Promise<RecoveryRow[]>,

    /**
     * Every customer a card reversal left owing, by (user, currency) after the cursor: what they
     * owe now as the read model sees it, and what was recovered so far.
     */
    async summaries(
      after: { userId: string; currency: string } | undefined,
      limit: number,
    ): Promise<ReceivableSummaryRow[]> {
      const result = await sql<ReceivableSummaryRow>`
        SELECT c.user_id, c.currency,
               (a.debits_posted - a.credits_posted - a.credits_pending)::text AS owed_minor,
               coalesce(s.recovered, 0)::text AS recovered_minor, coalesce(s.n, 0)::text AS recoveries,
               s.last_at AS last_recovery_at
          FROM (${receivableCustomers}) c
          LEFT JOIN ledger_accounts a ON a.id = 'receivable:customer:' || c.user_id || ':' || c.currency
          LEFT JOIN LATERAL (
            SELECT sum(recovered_minor) AS recovered, count(*) AS n, max(booked_at) AS last_at
              FROM receivable_recoveries r
             WHERE r.user_id = c.user_id::uuid AND r.currency = c.currency AND r.status = 'BOOKED') s ON true
         ${after === undefined ? sql`` : sql`WHERE (c.user_id, c.currency) > (${after.userId}, ${after.currency})`}
         ORDER BY c.user_id, c.currency LIMIT ${limit}`.execute(db);
      return result.rows;
    },
  };
}

export type ReceivableRecoveryRepository = ReturnType<typeof createReceivableRecoveryRepository>;
