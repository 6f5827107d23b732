/**
 * Loyalty's SQL: its own earning decisions (`loyalty_awards`) and reads of the ledger's read model
 * (`ledger_accounts`, `ledger_entries`: the views the ledger projection keeps), as the wallet's
 * statement reads it. Points are never counted in a table of ours: balance, history and lots are
 * the ledger's.
 */
import { sql } from 'kysely';
import type { LoyaltyAwardsTable, LoyaltyDb } from './tables.js';

export const MAX_HISTORY_PAGE = 100;
/** Unexpired lots read for "what expires next" at most (the oldest first). */
const MAX_LOTS = 50;
/** Accounts whose expiry one pass books at most (the job loops until none is due). */
export const EXPIRY_BATCH = 200;

export interface PointsEntryRow {
  entry_no: bigint;
  transfer_id: string;
  code: string;
  side: 'debit' | 'credit';
  amount_minor: bigint;
  timestamp_ns: bigint;
  user_data: Record<string, string> | null;
}

export interface PointsLot {
  timestamp_ns: bigint;
  remaining: bigint;
}

export type AwardRow = Omit<LoyaltyAwardsTable, 'created_at'>;

export function createLoyaltyRepository(db: LoyaltyDb) {
  return {
    /** Records the first decision for the order; answers whichever decision stands. */
    async recordAward(row: AwardRow): Promise<AwardRow> {
      await db
        .insertInto('loyalty_awards')
        .values(row)
        .onConflict((c) => c.column('order_id').doNothing())
        .execute();
      return db
        .selectFrom('loyalty_awards')
        .select(['order_id', 'user_id', 'base_minor', 'tier', 'multiplier', 'points', 'source_event'])
        .where('order_id', '=', row.order_id)
        .executeTakeFirstOrThrow();
    },

    /** Points credited by awards to the account since `sinceNs` (ledger time), posted. */
    async earnedSince(accountId: string, sinceNs: bigint): Promise<bigint> {
      const result = await sql<{ earned: string | null }>`
        SELECT sum(amount_minor)::text AS earned FROM ledger_entries
        WHERE account_id = ${accountId} AND side = 'credit' AND code = 'points_award' AND phase = 'posted'
          AND timestamp_ns >= ${sinceNs.toString()}::int8`.execute(db);
      return BigInt(result.rows[0]?.earned ?? '0');
    },

    /** The statement, newest first; holds appear once posted (as the wallet's statement). */
    async statement(
      accountId: string,
      page: { beforeEntry?: bigint; limit: number },
    ): Promise<PointsEntryRow[]> {
      const limit = Math.max(1, Math.min(page.limit, MAX_HISTORY_PAGE + 1));
      const result = await sql<PointsEntryRow>`
        SELECT entry_no, transfer_id, code, side, amount_minor, timestamp_ns, user_data FROM ledger_entries
        WHERE account_id = ${accountId} AND phase IN ('posted', 'post_pending')
        ${page.beforeEntry === undefined ? sql`` : sql`AND entry_no < ${page.beforeEntry.toString()}::int8`}
        ORDER BY entry_no DESC LIMIT ${limit}`.execute(db);
      return result.rows;
    },

    /**
     * The account's lots still holding points, oldest first: every credit is a lot, and what left
     * the account (posted and held debits) is taken from the oldest lots first (FIFO). One
     * statement, so the account's totals and its entries are read at the same revision.
     */
    async openLots(accountId: string): Promise<PointsLot[]> {
      const result = await sql<PointsLot>`
        WITH account AS (
          SELECT id, debits_posted + debits_pending AS consumed FROM ledger_accounts WHERE id = ${accountId}
        ), lots AS (
          SELECT e.entry_no, e.timestamp_ns, e.amount_minor,
                 sum(e.amount_minor) OVER (ORDER BY e.entry_no) AS running, account.consumed
          FROM ledger_entries e JOIN account ON account.id = e.account_id
          WHERE e.side = 'credit' AND e.phase = 'posted'
        )
        SELECT timestamp_ns, least(amount_minor, running - consumed)::int8 AS remaining FROM lots
        WHERE running > consumed ORDER BY entry_no LIMIT ${MAX_LOTS}`.execute(db);
      return result.rows;
    },

    /**
     * Customers' points due to expire: per points account, what remains (FIFO, as `openLots`) of
     * the lots credited before `cutoffNs`. At most EXPIRY_BATCH accounts, by id after `afterId`.
     */
    async dueExpiries(cutoffNs: bigint, afterId: string): Promise<{ account_id: string; due: bigint }[]> {
      const result = await sql<{ account_id: string; due: bigint }>`
        WITH accounts AS (
          SELECT id, debits_posted + debits_pending AS consumed FROM ledger_accounts
          WHERE id LIKE 'points:customer:%' AND id > ${afterId}
            AND credits_posted > debits_posted + debits_pending
          ORDER BY id LIMIT ${EXPIRY_BATCH}
        ), lots AS (
          SELECT e.account_id, e.timestamp_ns, e.amount_minor, accounts.consumed,
                 sum(e.amount_minor) OVER (PARTITION BY e.account_id ORDER BY e.entry_no) AS running
          FROM ledger_entries e JOIN accounts ON accounts.id = e.account_id
          WHERE e.side = 'credit' AND e.phase = 'posted'
        )
        SELECT account_id, sum(least(amount_minor, running - consumed))::int8 AS due FROM lots
        WHERE running > consumed AND timestamp_ns < ${cutoffNs.toString()}::int8
        GROUP BY account_id ORDER BY account_id`.execute(db);
      return result.rows;
    },

    /** The last account id of the batch `dueExpiries` looked at (to page on), or null when done. */
    async lastAccountOfBatch(afterId: string): Promise<string | null> {
      const result = await sql<{ id: string }>`
        SELECT max(id) AS id FROM (
          SELECT id FROM ledger_accounts WHERE id LIKE 'points:customer:%' AND id > ${afterId}
            AND credits_posted > debits_posted + debits_pending
          ORDER BY id LIMIT ${EXPIRY_BATCH}) batch`.execute(db);
      return result.rows[0]?.id ?? null;
    },
  };
}

export type LoyaltyRepository = ReturnType<typeof createLoyaltyRepository>;
