import { sql, type Kysely } from 'kysely';
import type { Currency } from '../rules/index.js';

/**
 * Reads of the ledger read models (the views in `public` the projection runner points at the
 * active generation). Every list has a page limit.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the views are not in the Database type
export type ReadDb = Kysely<any>;
type AnyDb = ReadDb;

export interface ProjectedAccount {
  id: string;
  currency: Currency;
  kind: string;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
  closed: boolean;
  entryCount: bigint;
}

export interface ProjectedEntry {
  entryNo: bigint;
  transferId: string;
  eventRevision: bigint;
  timestampNs: bigint;
  code: string;
  side: 'debit' | 'credit';
  phase: string;
  amountMinor: bigint;
  releasedMinor: bigint;
  counterpartyAccountId: string;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
  userData: Record<string, string> | null;
}

export interface TrialBalanceRow {
  currency: Currency;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  accounts: bigint;
}

export const MAX_ENTRIES_PAGE = 200;

/** Whether the ledger projection has created its views yet. */
export async function projectionExists(db: AnyDb): Promise<boolean> {
  const result = await sql<{
    present: boolean;
  }>`SELECT to_regclass('public.ledger_accounts') IS NOT NULL AS present`.execute(db);
  return result.rows[0]?.present === true;
}

export async function projectedHead(
  db: AnyDb,
  stream: string,
): Promise<{ revision: bigint; hash: string } | null> {
  const result = await sql<{
    revision: bigint;
    hash: string;
  }>`SELECT revision, hash FROM ledger_heads WHERE stream = ${stream}`.execute(db);
  return result.rows[0] ?? null;
}

interface AccountRow {
  id: string;
  currency: Currency;
  kind: string;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  closed: boolean;
  entry_count: bigint;
}

const toAccount = (row: AccountRow): ProjectedAccount => ({
  id: row.id,
  currency: row.currency,
  kind: row.kind,
  debitsPending: row.debits_pending,
  debitsPosted: row.debits_posted,
  creditsPending: row.credits_pending,
  creditsPosted: row.credits_posted,
  closed: row.closed,
  entryCount: row.entry_count,
});

/** Every projected account (verify compares them all; the ledger's account count bounds it). */
export async function allProjectedAccounts(db: AnyDb): Promise<ProjectedAccount[]> {
  const result = await sql<AccountRow>`SELECT * FROM ledger_accounts ORDER BY id`.execute(db);
  return result.rows.map(toAccount);
}

export async function projectedAccount(db: AnyDb, id: string): Promise<ProjectedAccount | null> {
  const result = await sql<AccountRow>`SELECT * FROM ledger_accounts WHERE id = ${id}`.execute(db);
  const row = result.rows[0];
  return row === undefined ? null : toAccount(row);
}

/** Per account: how many entries and the balances after the last one (a statement's closing line). */
export async function lastEntries(
  db: AnyDb,
): Promise<
  Map<
    string,
    { count: bigint; last: Omit<ProjectedAccount, 'id' | 'currency' | 'kind' | 'closed' | 'entryCount'> }
  >
> {
  const result = await sql<{
    account_id: string;
    count: bigint;
    debits_pending: bigint;
    debits_posted: bigint;
    credits_pending: bigint;
    credits_posted: bigint;
  }>`
    SELECT DISTINCT ON (account_id) account_id, count(*) OVER (PARTITION BY account_id) AS count,
      debits_pending, debits_posted, credits_pending, credits_posted
    FROM ledger_entries ORDER BY account_id, entry_no DESC`.execute(db);
  return new Map(
    result.rows.map((row) => [
      row.account_id,
      {
        count: row.count,
        last: {
          debitsPending: row.debits_pending,
          debitsPosted: row.debits_posted,
          creditsPending: row.credits_pending,
          creditsPosted: row.credits_posted,
        },
      },
    ]),
  );
}

export async function openHoldIds(db: AnyDb): Promise<Set<string>> {
  const result = await sql<{
    transfer_id: string;
  }>`SELECT transfer_id FROM ledger_holds WHERE status = 'pending'`.execute(db);
  return new Set(result.rows.map((row) => row.transfer_id));
}

export async function projectedTrialBalance(db: AnyDb): Promise<TrialBalanceRow[]> {
  const result = await sql<{
    currency: Currency;
    debits_posted: bigint;
    credits_posted: bigint;
    debits_pending: bigint;
    credits_pending: bigint;
    accounts: bigint;
  }>`
    SELECT * FROM ledger_trial_balance ORDER BY currency`.execute(db);
  return result.rows.map((row) => ({
    currency: row.currency,
    debitsPosted: row.debits_posted,
    creditsPosted: row.credits_posted,
    debitsPending: row.debits_pending,
    creditsPending: row.credits_pending,
    accounts: row.accounts,
  }));
}

/** A statement page, newest first; `beforeEntryNo` is the cursor (exclusive). */
export async function entriesPage(
  db: AnyDb,
  accountId: string,
  beforeEntryNo: bigint | null,
  limit: number,
): Promise<ProjectedEntry[]> {
  const bounded = Math.max(1, Math.min(limit, MAX_ENTRIES_PAGE));
  const result = await sql<{
    entry_no: bigint;
    transfer_id: string;
    event_revision: bigint;
    timestamp_ns: bigint;
    code: string;
    side: 'debit' | 'credit';
    phase: string;
    amount_minor: bigint;
    released_minor: bigint;
    counterparty_account_id: string;
    debits_pending: bigint;
    debits_posted: bigint;
    credits_pending: bigint;
    credits_posted: bigint;
    user_data: Record<string, string> | null;
  }>`SELECT * FROM ledger_entries WHERE account_id = ${accountId}
      AND (${beforeEntryNo?.toString() ?? null}::int8 IS NULL OR entry_no < ${beforeEntryNo?.toString() ?? null}::int8)
      ORDER BY entry_no DESC LIMIT ${bounded}`.execute(db);
  return result.rows.map((row) => ({
    entryNo: row.entry_no,
    transferId: row.transfer_id,
    eventRevision: row.event_revision,
    timestampNs: row.timestamp_ns,
    code: row.code,
    side: row.side,
    phase: row.phase,
    amountMinor: row.amount_minor,
    releasedMinor: row.released_minor,
    counterpartyAccountId: row.counterparty_account_id,
    debitsPending: row.debits_pending,
    debitsPosted: row.debits_posted,
    creditsPending: row.credits_pending,
    creditsPosted: row.credits_posted,
    userData: row.user_data,
  }));
}

/** One transfer of the transaction report: its debit entry (every transfer has exactly one). */
export interface ReportTransfer {
  timestampNs: bigint;
  transferId: string;
  code: string;
  phase: string;
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amountMinor: bigint;
  releasedMinor: bigint;
  eventRevision: bigint;
  userData: Record<string, string> | null;
}

export const MAX_REPORT_PAGE = 1_000;

/**
 * The report's query: transfers booked in [fromNs, toNs), oldest first, after the keyset `after`.
 * It reads the partial index `ledger_entries_debit_time_idx` (timestamp_ns, transfer_id) WHERE
 * side = 'debit' (a range scan, one row per transfer); the test checks the plan uses it.
 */
export function transferReportQuery(
  fromNs: bigint,
  toNs: bigint,
  after: { timestampNs: bigint; transferId: string } | null,
  limit: number,
) {
  const bounded = Math.max(1, Math.min(limit, MAX_REPORT_PAGE));
  return sql<{
    timestamp_ns: bigint;
    transfer_id: string;
    code: string;
    phase: string;
    account_id: string;
    counterparty_account_id: string;
    currency: string | null;
    amount_minor: bigint;
    released_minor: bigint;
    event_revision: bigint;
    user_data: Record<string, string> | null;
  }>`SELECT e.timestamp_ns, e.transfer_id, e.code, e.phase, e.account_id, e.counterparty_account_id,
        (SELECT a.currency FROM ledger_accounts a WHERE a.id = e.account_id) AS currency,
        e.amount_minor, e.released_minor, e.event_revision, e.user_data
      FROM ledger_entries e
      WHERE e.side = 'debit' AND e.timestamp_ns >= ${fromNs.toString()}::int8 AND e.timestamp_ns < ${toNs.toString()}::int8
      ${
        after === null
          ? sql``
          : sql`AND (e.timestamp_ns, e.transfer_id) > (${after.timestampNs.toString()}::int8, ${after.transferId})`
      }
      ORDER BY e.timestamp_ns, e.transfer_id LIMIT ${bounded}`;
}

export async function transferReportPage(
  db: AnyDb,
  fromNs: bigint,
  toNs: bigint,
  after: { timestampNs: bigint; transferId: string } | null,
  limit: number,
): Promise<ReportTransfer[]> {
  const result = await transferReportQuery(fromNs, toNs, after, limit).execute(db);
  return result.rows.map((row) => ({
    timestampNs: row.timestamp_ns,
    transferId: row.transfer_id,
    code: row.code,
    phase: row.phase,
    debitAccountId: row.account_id,
    creditAccountId: row.counterparty_account_id,
    currency: row.currency ?? '',
    amountMinor: row.amount_minor,
    releasedMinor: row.released_minor,
    eventRevision: row.event_revision,
    userData: row.user_data,
  }));
}
