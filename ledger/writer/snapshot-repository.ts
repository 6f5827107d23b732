import { sql, type Kysely } from 'kysely';
import {
  CURRENCIES,
  ACCOUNT_KINDS,
  LedgerInvariantError,
  type Account,
  type AcceptedTransfer,
  type Currency,
  type PendingHold,
} from '../rules/index.js';
import { decodeTransfer, encodeTransfer } from './events.js';
import type { LedgerTables } from './tables.js';

/**
 * All SQL of the ledger writer's snapshot (CONVENTIONS: SQL in repositories). Bulk writes go
 * through `unnest` of column arrays: one statement per table per snapshot, whatever its size.
 */
export type SnapshotDb = Kysely<LedgerTables>;

export interface SnapshotHeader {
  readonly revision: bigint;
  readonly lastHash: string;
  readonly lastTimestampNs: bigint;
  readonly transferCount: bigint;
}

export interface SnapshotWrite extends SnapshotHeader {
  readonly accounts: readonly Account[];
  readonly transfers: readonly { readonly transfer: AcceptedTransfer; readonly revision: bigint }[];
  readonly holds: readonly PendingHold[];
}

export interface Lookup {
  readonly accounts: Account[];
  readonly transfers: AcceptedTransfer[];
  readonly holds: PendingHold[];
}

export async function readHeader(db: SnapshotDb, stream: string): Promise<SnapshotHeader | null> {
  const row = await db
    .selectFrom('ledger_snapshots')
    .select(['revision', 'last_hash', 'last_timestamp_ns', 'transfer_count'])
    .where('stream', '=', stream)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    revision: row.revision,
    lastHash: row.last_hash,
    lastTimestampNs: row.last_timestamp_ns,
    transferCount: row.transfer_count,
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw new LedgerInvariantError(`snapshot ${what} ${value} is not valid`);
  return match;
}

interface AccountRow {
  id: string;
  currency: string;
  kind: string;
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  closed: boolean;
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    currency: oneOf(row.currency, CURRENCIES, 'currency'),
    kind: oneOf(row.kind, ACCOUNT_KINDS, 'kind'),
    flags: {
      debitsMustNotExceedCredits: row.debits_must_not_exceed_credits,
      creditsMustNotExceedDebits: row.credits_must_not_exceed_debits,
    },
    debitsPending: row.debits_pending,
    debitsPosted: row.debits_posted,
    creditsPending: row.credits_pending,
    creditsPosted: row.credits_posted,
    ...(row.closed ? { closed: true } : {}),
  };
}

interface HoldRow {
  transfer_id: string;
  debit_account_id: string;
  credit_account_id: string;
  currency: string;
  held_minor: bigint;
  expires_at_ns: bigint | null;
  status: string;
  posted_minor: bigint;
  resolved_by_id: string | null;
}

const HOLD_STATUSES = ['pending', 'posted', 'voided', 'expired'] as const;

function toHold(row: HoldRow): PendingHold {
  return {
    transferId: row.transfer_id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    currency: oneOf(row.currency, CURRENCIES, 'currency') as Currency,
    heldMinor: row.held_minor,
    expiresAtNs: row.expires_at_ns,
    status: oneOf(row.status, HOLD_STATUSES, 'hold status'),
    postedMinor: row.posted_minor,
    ...(row.resolved_by_id === null ? {} : { resolvedById: row.resolved_by_id }),
  };
}

/**
 * What a batch needs that is not in memory, in one round trip per table (run concurrently):
 * accounts by id plus the accounts of the holds asked for, transfers by id, holds by id.
 */
export async function lookup(
  db: SnapshotDb,
  stream: string,
  wanted: { accountIds: readonly string[]; transferIds: readonly string[]; holdIds: readonly string[] },
): Promise<Lookup> {
  const { accountIds, transferIds, holdIds } = wanted;
  const [accounts, transfers, holds] = await Promise.all([
    accountIds.length === 0 && holdIds.length === 0
      ? []
      : sql<AccountRow>`SELECT * FROM ledger_snapshot_accounts a WHERE a.stream = ${stream}
          AND (a.id = ANY(${accountIds}::text[]) OR a.id IN (
            SELECT unnest(ARRAY[h.debit_account_id, h.credit_account_id]) FROM ledger_snapshot_holds h
             WHERE h.stream = ${stream} AND h.transfer_id = ANY(${holdIds}::text[])))`
          .execute(db)
          .then((result) => result.rows),
    transferIds.length === 0
      ? []
      : db
          .selectFrom('ledger_snapshot_transfers')
          .select('body')
          .where('stream', '=', stream)
          .where('id', '=', sql<string>`ANY(${transferIds}::text[])`)
          .execute(),
    holdIds.length === 0
      ? []
      : sql<HoldRow>`SELECT * FROM ledger_snapshot_holds WHERE stream = ${stream}
          AND transfer_id = ANY(${holdIds}::text[])`
          .execute(db)
          .then((result) => result.rows),
  ]);
  return {
    accounts: accounts.map(toAccount),
    transfers: transfers.map((row) => decodeTransfer(row.body)),
    holds: holds.map(toHold),
  };
}

/** Accepted transfer ids in the snapshot index, in id order after `after` (keyset pages). */
export async function transferIdsPage(
  db: SnapshotDb,
  stream: string,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('ledger_snapshot_transfers')
    .select('id')
    .where('stream', '=', stream)
    .$if(after !== null, (query) => query.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/** Holds still pending: always in memory, so that the expiry sweep sees every one. */
export async function openHolds(db: SnapshotDb, stream: string): Promise<PendingHold[]> {
  const result = await sql<HoldRow>`SELECT * FROM ledger_snapshot_holds
    WHERE stream = ${stream} AND status = 'pending'`.execute(db);
  return result.rows.map(toHold);
}

export async function readAccount(db: SnapshotDb, stream: string, id: string): Promise<Account | null> {
  const result = await sql<AccountRow>`SELECT * FROM ledger_snapshot_accounts
    WHERE stream = ${stream} AND id = ${id}`.execute(db);
  const row = result.rows[0];
  return row === undefined ? null : toAccount(row);
}

/**
 * Writes a snapshot in one transaction, guarded by the previous header revision (compare and
 * set): false when another writer moved the header meanwhile, and then nothing is written.
 */
export async function writeSnapshot(
  db: SnapshotDb,
  stream: string,
  previousRevision: bigint | null,
  snapshot: SnapshotWrite,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const moved = await moveHeader(trx, stream, previousRevision, snapshot);
    if (!moved) return false;
    // In chunks: each statement's arrays are built just before it is sent, so a large snapshot
    // never blocks the writer's event loop for long (the appends go on meanwhile).
    for (const chunk of chunks(snapshot.accounts))
      await upsertAccounts(trx, stream, snapshot.revision, chunk);
    for (const chunk of chunks(snapshot.transfers)) await insertTransfers(trx, stream, chunk);
    for (const chunk of chunks(snapshot.holds)) await upsertHolds(trx, stream, chunk);
    return true;
  });
}

/** Rows per snapshot statement. */
const SNAPSHOT_CHUNK_ROWS = 250;

function* chunks<T>(items: readonly T[]): Generator<readonly T[]> {
  for (let start = 0; start < items.length; start += SNAPSHOT_CHUNK_ROWS)
    yield items.slice(start, start + SNAPSHOT_CHUNK_ROWS);
}

async function moveHeader(
  trx: SnapshotDb,
  stream: string,
  previousRevision: bigint | null,
  header: SnapshotHeader,
): Promise<boolean> {
  const values = {
    revision: header.revision.toString(),
    last_hash: header.lastHash,
    last_timestamp_ns: header.lastTimestampNs.toString(),
    transfer_count: header.transferCount.toString(),
  };
  if (previousRevision === null) {
    const inserted = await trx
      .insertInto('ledger_snapshots')
      .values({ stream, ...values })
      .onConflict((conflict) => conflict.column('stream').doNothing())
      .executeTakeFirst();
    return inserted.numInsertedOrUpdatedRows === 1n;
  }
  const updated = await trx
    .updateTable('ledger_snapshots')
    .set({ ...values, updated_at: sql`now()` })
    .where('stream', '=', stream)
    .where('revision', '=', previousRevision)
    .executeTakeFirst();
  return updated.numUpdatedRows === 1n;
}

async function upsertAccounts(
  trx: SnapshotDb,
  stream: string,
  revision: bigint,
  accounts: readonly Account[],
) {
  if (accounts.length === 0) return;
  const column = <T>(pick: (account: Account) => T) => accounts.map(pick);
  await sql`INSERT INTO ledger_snapshot_accounts AS a (stream, id, currency, kind,
      debits_must_not_exceed_credits, credits_must_not_exceed_debits, debits_pending, debits_posted,
      credits_pending, credits_posted, closed, revision)
    SELECT ${stream}, * , ${revision.toString()}::bigint FROM unnest(
      ${column((a) => a.id)}::text[], ${column((a) => a.currency)}::text[], ${column((a) => a.kind)}::text[],
      ${column((a) => a.flags.debitsMustNotExceedCredits)}::boolean[],
      ${column((a) => a.flags.creditsMustNotExceedDebits)}::boolean[],
      ${column((a) => a.debitsPending.toString())}::bigint[], ${column((a) => a.debitsPosted.toString())}::bigint[],
      ${column((a) => a.creditsPending.toString())}::bigint[], ${column((a) => a.creditsPosted.toString())}::bigint[],
      ${column((a) => a.closed === true)}::boolean[])
    ON CONFLICT (stream, id) DO UPDATE SET debits_pending = excluded.debits_pending,
      debits_posted = excluded.debits_posted, credits_pending = excluded.credits_pending,
      credits_posted = excluded.credits_posted, closed = excluded.closed, revision = excluded.revision`.execute(
    trx,
  );
}

async function insertTransfers(
  trx: SnapshotDb,
  stream: string,
  transfers: SnapshotWrite['transfers'],
): Promise<void> {
  if (transfers.length === 0) return;
  await sql`INSERT INTO ledger_snapshot_transfers (stream, id, revision, body)
    SELECT ${stream}, * FROM unnest(${transfers.map((item) => item.transfer.id)}::text[],
      ${transfers.map((item) => item.revision.toString())}::bigint[],
      ${transfers.map((item) => encodeTransfer(item.transfer))}::text[])
    ON CONFLICT (stream, id) DO NOTHING`.execute(trx);
}

async function upsertHolds(trx: SnapshotDb, stream: string, holds: readonly PendingHold[]): Promise<void> {
  if (holds.length === 0) return;
  const column = <T>(pick: (hold: PendingHold) => T) => holds.map(pick);
  await sql`INSERT INTO ledger_snapshot_holds AS h (stream, transfer_id, debit_account_id, credit_account_id,
      currency, held_minor, expires_at_ns, status, posted_minor, resolved_by_id)
    SELECT ${stream}, * FROM unnest(${column((h) => h.transferId)}::text[],
      ${column((h) => h.debitAccountId)}::text[], ${column((h) => h.creditAccountId)}::text[],
      ${column((h) => h.currency)}::text[], ${column((h) => h.heldMinor.toString())}::bigint[],
      ${column((h) => h.expiresAtNs?.toString() ?? null)}::bigint[], ${column((h) => h.status)}::text[],
      ${column((h) => h.postedMinor.toString())}::bigint[], ${column((h) => h.resolvedById ?? null)}::text[])
    ON CONFLICT (stream, transfer_id) DO UPDATE SET status = excluded.status,
      posted_minor = excluded.posted_minor, resolved_by_id = excluded.resolved_by_id`.execute(trx);
}
