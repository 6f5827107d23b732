/**
 * The SQL of wallets: the wallet rows (status, limits, automatic top-up), the spending counted
 * per period (through the `wallet_reserve` function, migration 2026-11-25T1800), and a wallet's
 * statement, read from the ledger's read model.
 */
import { sql, type Updateable } from 'kysely';
import type { PaymentsDb, WalletsTable } from './tables.js';
import { categoryFilter, type WalletCategory } from './wallet-categories.js';

type Currency = WalletsTable['currency'];

/** One reservation of `wallet_reserve`, with the limits of a wallet it may create. */
export interface SpendingReservation {
  userId: string;
  currency: Currency;
  amountMinor: bigint;
  day: string;
  month: string;
  dailyLimitMinor: bigint;
  monthlyLimitMinor: bigint;
  /** A payment's parts by category, checked against the wallet's controls; null for a top-up. */
  parts: { category: string; amountMinor: bigint }[] | null;
}

/**
 * `wallet_reserve_parts`' answer (migration 2026-12-06T0100): `ok`, or `ok:` and the capped
 * categories it counted; `frozen`; `limit` (daily or monthly); `blocked:<category>`;
 * `capped:<category>` (that category's monthly cap). A refusal has counted nothing.
 */
export type ReservationOutcome =
  'ok' | `ok:${string}` | 'frozen' | 'limit' | `blocked:${string}` | `capped:${string}`;

export interface StatementRow {
  entry_no: bigint;
  transfer_id: string;
  code: string;
  side: string;
  amount_minor: bigint;
  timestamp_ns: bigint;
  user_data: Record<string, string> | null;
  phase: string;
}

export type WalletsRepository = ReturnType<typeof createWalletsRepository>;

export function createWalletsRepository(db: PaymentsDb) {
  const one = (userId: string, currency: Currency) =>
    db.updateTable('wallets').where('user_id', '=', userId).where('currency', '=', currency);

  return {
    /** The wallet, created with these limits if it does not exist. */
    async ensure(userId: string, currency: Currency, limits: { daily: bigint; monthly: bigint }) {
      await db
        .insertInto('wallets')
        .values({
          user_id: userId,
          currency,
          frozen_reason: null,
          frozen_by: null,
          frozen_at: null,
          daily_limit_minor: limits.daily,
          monthly_limit_minor: limits.monthly,
          auto_topup_threshold_minor: null,
          auto_topup_amount_minor: null,
          auto_topup_phone: null,
          auto_topup_last_at: null,
        })
        .onConflict((conflict) => conflict.columns(['user_id', 'currency']).doNothing())
        .execute();
      return db
        .selectFrom('wallets')
        .selectAll()
        .where('user_id', '=', userId)
        .where('currency', '=', currency)
        .executeTakeFirstOrThrow();
    },

    async update(userId: string, currency: Currency, fields: Updateable<WalletsTable>): Promise<void> {
      await one(userId, currency).set(fields).execute();
    },

    spending(userId: string, currency: Currency, periods: string[]) {
      return db
        .selectFrom('wallet_spending')
        .select(['period', 'spent_minor'])
        .where('user_id', '=', userId)
        .where('currency', '=', currency)
        .where('period', 'in', periods)
        .execute();
    },

    /**
     * Reserves each item in one statement, in the order given (callers sort by wallet, so two
     * groups lock the same wallets in the same order); outcomes by the items' positions.
     */
    async reserve(items: SpendingReservation[]): Promise<ReservationOutcome[]> {
      const result = await sql<{ ord: string; outcome: ReservationOutcome }>`
      SELECT r.ord, wallet_reserve_parts(r.user_id, r.currency, r.amount, r.day, r.month, r.daily, r.monthly, r.parts) AS outcome
        FROM unnest(${items.map((item) => item.userId)}::text[], ${items.map((item) => item.currency)}::text[],
                    ${items.map((item) => item.amountMinor.toString())}::int8[], ${items.map((item) => item.day)}::text[],
                    ${items.map((item) => item.month)}::text[], ${items.map((item) => item.dailyLimitMinor.toString())}::int8[],
                    ${items.map((item) => item.monthlyLimitMinor.toString())}::int8[],
                    ${items.map((item) => (item.parts === null ? null : JSON.stringify(item.parts.map((part) => ({ category: part.category, amount: part.amountMinor.toString() })))))}::jsonb[])
             WITH ORDINALITY AS r(user_id, currency, amount, day, month, daily, monthly, parts, ord)`.execute(
        db,
      );
      const outcomes: ReservationOutcome[] = new Array(items.length);
      for (const row of result.rows) outcomes[Number(row.ord) - 1] = row.outcome;
      return outcomes;
    },

    /** Gives back spending counted in these periods (never below zero). */
    async release(userId: string, currency: Currency, amountMinor: bigint, periods: string[]): Promise<void> {
      await db
        .updateTable('wallet_spending')
        .set((eb) => ({
          spent_minor: sql`greatest(${eb.ref('spent_minor')} - ${amountMinor.toString()}::int8, 0)`,
        }))
        .where('user_id', '=', userId)
        .where('currency', '=', currency)
        .where('period', 'in', periods)
        .execute();
    },

    /**
     * A wallet account's posted entries, newest first, before `beforeEntry` and of a category when
     * given. It reads the ledger's read model (ledger_entries, not a payments table).
     */
    async statement(
      accountId: string,
      page: { beforeEntry?: string; category?: WalletCategory; limit: number },
    ): Promise<StatementRow[]> {
      const rows = await sql<StatementRow>`
      SELECT entry_no, transfer_id, code, side, amount_minor, timestamp_ns, user_data, phase FROM ledger_entries
      WHERE account_id = ${accountId} AND phase IN ('posted', 'post_pending')
      ${page.beforeEntry === undefined ? sql`` : sql`AND entry_no < ${page.beforeEntry}::int8`}
      ${page.category === undefined ? sql`` : sql`AND ${inCategory(page.category)}`}
      ORDER BY entry_no DESC LIMIT ${page.limit}`.execute(db);
      return rows.rows;
    },

    /** Active wallets with automatic top-up whose last one is older than `before` (or none yet). */
    autoTopUpCandidates(before: Date, limit: number) {
      return db
        .selectFrom('wallets')
        .selectAll()
        .where('auto_topup_enabled', '=', true)
        .where('status', '=', 'active')
        .where((eb) => eb.or([eb('auto_topup_last_at', 'is', null), eb('auto_topup_last_at', '<', before)]))
        .limit(limit)
        .execute();
    },
  };
}

/** The SQL twin of `categoryOf`, built from the same table (see wallet-categories.ts). */
function inCategory(category: WalletCategory) {
  const { codes, capture } = categoryFilter(category);
  const byCode = codes.length === 0 ? sql`false` : sql`code IN (${sql.join(codes)})`;
  if (capture === null) return sql`(${byCode})`;
  const leg = sql`user_data->>'category'`;
  const declared = capture.undeclared
    ? sql`(${leg} = ${capture.declared} OR ${leg} IS NULL OR ${leg} NOT IN (${sql.join([...capture.legs])}))`
    : sql`${leg} = ${capture.declared}`;
  return sql`(${byCode} OR (code = 'payment_capture' AND ${declared}))`;
}
