import { sql } from 'kysely';
import type { ProjectionContext, ProjectionDefinition } from '../../projections/types.js';
import type { RecordedEvent } from '../../src/eventstore/index.js';
import type { Currency } from '../rules/index.js';
import { decodeLedgerEvent, LEDGER_EVENT_TYPE, LEDGER_STREAM_PREFIX } from '../writer/events.js';
import { emptyFold, foldEvent, referencesOf, type BalanceRow, type FoldState, type HoldRow } from './fold.js';

/**
 * The ledger's read models, one projection (`ledger`) so that balances, statement entries, holds
 * and the trial balance always move together in the transaction that moves its checkpoint:
 *   ledger_accounts       balances per account (and its entry count)
 *   ledger_entries        one row per account per transfer, with the balances after it (statement)
 *   ledger_holds          every hold and how it ended; open holds are status = 'pending'
 *   ledger_trial_balance  per-currency sums of the four columns
 *   ledger_heads          per stream: last revision and hash applied (verify compares there)
 * Never read by the writer (it keeps its own snapshot): a projection may lag.
 */
export const LEDGER_PROJECTION = 'ledger';
export const LEDGER_PROJECTION_TABLES = [
  'ledger_accounts',
  'ledger_entries',
  'ledger_holds',
  'ledger_trial_balance',
  'ledger_heads',
] as const;

async function setup({ db, schema }: ProjectionContext): Promise<void> {
  const table = (name: string) => sql.id(schema, name);
  await sql`CREATE TABLE ${table('ledger_accounts')} (id text PRIMARY KEY, currency text NOT NULL, kind text NOT NULL,
    debits_must_not_exceed_credits boolean NOT NULL, credits_must_not_exceed_debits boolean NOT NULL,
    debits_pending int8 NOT NULL, debits_posted int8 NOT NULL, credits_pending int8 NOT NULL,
    credits_posted int8 NOT NULL, closed boolean NOT NULL, entry_count int8 NOT NULL)`.execute(db);
  await sql`CREATE TABLE ${table('ledger_entries')} (account_id text NOT NULL, entry_no int8 NOT NULL,
    transfer_id text NOT NULL, stream text NOT NULL, event_revision int8 NOT NULL, timestamp_ns int8 NOT NULL,
    code text NOT NULL, side text NOT NULL, phase text NOT NULL, amount_minor int8 NOT NULL,
    released_minor int8 NOT NULL, counterparty_account_id text NOT NULL, debits_pending int8 NOT NULL,
    debits_posted int8 NOT NULL, credits_pending int8 NOT NULL, credits_posted int8 NOT NULL, user_data jsonb,
    PRIMARY KEY (account_id, entry_no))`.execute(db);
  await sql`CREATE INDEX ON ${table('ledger_entries')} (transfer_id)`.execute(db);
  // The transaction report (src/modules/ledger/transaction-report.ts) reads transfers by time: one
  // debit entry per transfer. Migration 2026-12-06T0815 adds it to a generation built before.
  await sql`CREATE INDEX ledger_entries_debit_time_idx ON ${table('ledger_entries')} (timestamp_ns, transfer_id)
    WHERE side = 'debit'`.execute(db);
  // Credits by code over a period: the drivers' earnings settlement reads every driver fee of a day
  // (src/modules/dispatch/earnings-repository.ts, `bookedDeliveries`, issue #20). Credit entries
  // only: a transfer's code is on both of its entries, so half the size of an index over every
  // entry (entries are only inserted, one more index write each). Migration 2026-12-07T0641 adds
  // it to a generation built before, so the version stays (no rebuild for an index).
  await sql`CREATE INDEX ledger_entries_credit_code_time_idx ON ${table('ledger_entries')} (code, timestamp_ns)
    WHERE side = 'credit'`.execute(db);
  await sql`CREATE TABLE ${table('ledger_holds')} (transfer_id text PRIMARY KEY, debit_account_id text NOT NULL,
    credit_account_id text NOT NULL, currency text NOT NULL, held_minor int8 NOT NULL, expires_at_ns int8,
    created_timestamp_ns int8 NOT NULL, status text NOT NULL, posted_minor int8 NOT NULL, resolved_by_id text)`.execute(
    db,
  );
  await sql`CREATE INDEX ON ${table('ledger_holds')} (expires_at_ns) WHERE status = 'pending'`.execute(db);
  // The stranded-escrow sweep (src/modules/payments/escrow.ts) reads open order escrows only. On id
  // and closed, not on the balance: balance updates stay HOT (measured: a balance predicate made
  // every ledger_accounts update non-HOT).
  await sql`CREATE INDEX ON ${table('ledger_accounts')} (id) WHERE id LIKE 'escrow:order:%' AND NOT closed`.execute(
    db,
  );
  await sql`CREATE TABLE ${table('ledger_trial_balance')} (currency text PRIMARY KEY, debits_posted int8 NOT NULL,
    credits_posted int8 NOT NULL, debits_pending int8 NOT NULL, credits_pending int8 NOT NULL,
    accounts int8 NOT NULL)`.execute(db);
  await sql`CREATE TABLE ${table('ledger_heads')} (stream text PRIMARY KEY, revision int8 NOT NULL,
    hash text NOT NULL, events int8 NOT NULL, transfers int8 NOT NULL)`.execute(db);
}

interface StoredBalance {
  id: string;
  currency: Currency;
  kind: string;
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  closed: boolean;
  entry_count: bigint;
}

interface StoredHold {
  transfer_id: string;
  debit_account_id: string;
  credit_account_id: string;
  currency: Currency;
  held_minor: bigint;
  expires_at_ns: bigint | null;
  created_timestamp_ns: bigint;
  status: HoldRow['status'];
  posted_minor: bigint;
  resolved_by_id: string | null;
}

async function loadRows(
  context: ProjectionContext,
  fold: FoldState,
  accountIds: string[],
  holdIds: string[],
): Promise<void> {
  const { db, schema } = context;
  if (accountIds.length > 0) {
    const rows =
      await sql<StoredBalance>`SELECT * FROM ${sql.id(schema, 'ledger_accounts')} WHERE id = ANY(${accountIds}::text[])`.execute(
        db,
      );
    for (const row of rows.rows) {
      fold.balances.set(row.id, {
        id: row.id,
        currency: row.currency,
        kind: row.kind,
        debitsMustNotExceedCredits: row.debits_must_not_exceed_credits,
        creditsMustNotExceedDebits: row.credits_must_not_exceed_debits,
        debitsPending: row.debits_pending,
        debitsPosted: row.debits_posted,
        creditsPending: row.credits_pending,
        creditsPosted: row.credits_posted,
        closed: row.closed,
        entryCount: row.entry_count,
      });
    }
  }
  if (holdIds.length > 0) {
    const rows =
      await sql<StoredHold>`SELECT * FROM ${sql.id(schema, 'ledger_holds')} WHERE transfer_id = ANY(${holdIds}::text[])`.execute(
        db,
      );
    for (const row of rows.rows) {
      fold.holds.set(row.transfer_id, {
        transferId: row.transfer_id,
        debitAccountId: row.debit_account_id,
        creditAccountId: row.credit_account_id,
        currency: row.currency,
        heldMinor: row.held_minor,
        expiresAtNs: row.expires_at_ns,
        createdTimestampNs: row.created_timestamp_ns,
        status: row.status,
        postedMinor: row.posted_minor,
        resolvedById: row.resolved_by_id,
      });
    }
  }
}

async function handleBatch(events: RecordedEvent[], context: ProjectionContext): Promise<void> {
  const decoded = events.map((recorded) => ({ recorded, event: decodeLedgerEvent(recorded.data) }));
  const created = new Set<string>();
  const accountIds = new Set<string>();
  const holdIds = new Set<string>();
  const pendingInBatch = new Set<string>();
  for (const { event } of decoded) {
    const references = referencesOf(event);
    for (const id of references.accountIds) if (!created.has(id)) accountIds.add(id);
    for (const id of references.holdIds) if (!pendingInBatch.has(id)) holdIds.add(id);
    for (const account of event.accountsCreated) created.add(account.id);
    for (const transfer of event.transfersAccepted)
      if (transfer.flags.pending === true) pendingInBatch.add(transfer.id);
  }
  const fold = emptyFold();
  await loadRows(context, fold, [...accountIds], [...holdIds]);
  const heads = new Map<string, { revision: bigint; hash: string; events: bigint; transfers: bigint }>();
  for (const { recorded, event } of decoded) {
    foldEvent(fold, recorded.stream, recorded.revision, event);
    const head = heads.get(recorded.stream) ?? { revision: 0n, hash: '', events: 0n, transfers: 0n };
    heads.set(recorded.stream, {
      revision: recorded.revision,
      hash: event.hash,
      events: head.events + 1n,
      transfers: head.transfers + BigInt(event.transfersAccepted.length),
    });
  }
  await writeFold(context, fold, heads);
}

const text = (values: readonly (bigint | null)[]) =>
  values.map((value) => (value === null ? null : value.toString()));

async function writeFold(
  { db, schema }: ProjectionContext,
  fold: FoldState,
  heads: Map<string, { revision: bigint; hash: string; events: bigint; transfers: bigint }>,
): Promise<void> {
  const balances = [...fold.touchedBalances].map((id) => fold.balances.get(id)!);
  const pick = <T>(choose: (row: BalanceRow) => T) => balances.map(choose);
  if (balances.length > 0) {
    await sql`INSERT INTO ${sql.id(schema, 'ledger_accounts')} AS a SELECT * FROM unnest(
        ${pick((row) => row.id)}::text[], ${pick((row) => row.currency)}::text[], ${pick((row) => row.kind)}::text[],
        ${pick((row) => row.debitsMustNotExceedCredits)}::boolean[], ${pick((row) => row.creditsMustNotExceedDebits)}::boolean[],
        ${text(pick((row) => row.debitsPending))}::int8[], ${text(pick((row) => row.debitsPosted))}::int8[],
        ${text(pick((row) => row.creditsPending))}::int8[], ${text(pick((row) => row.creditsPosted))}::int8[],
        ${pick((row) => row.closed)}::boolean[], ${text(pick((row) => row.entryCount))}::int8[])
      ON CONFLICT (id) DO UPDATE SET debits_pending = excluded.debits_pending, debits_posted = excluded.debits_posted,
        credits_pending = excluded.credits_pending, credits_posted = excluded.credits_posted,
        closed = excluded.closed, entry_count = excluded.entry_count`.execute(db);
  }
  await insertEntries(db, schema, fold);
  await upsertHolds(
    db,
    schema,
    [...fold.touchedHolds].map((id) => fold.holds.get(id)!),
  );
  for (const [currency, line] of fold.trial) {
    await sql`INSERT INTO ${sql.id(schema, 'ledger_trial_balance')} AS t VALUES (${currency},
        ${line.debitsPosted.toString()}::int8, ${line.creditsPosted.toString()}::int8,
        ${line.debitsPending.toString()}::int8, ${line.creditsPending.toString()}::int8, ${line.accounts.toString()}::int8)
      ON CONFLICT (currency) DO UPDATE SET debits_posted = t.debits_posted + excluded.debits_posted,
        credits_posted = t.credits_posted + excluded.credits_posted, debits_pending = t.debits_pending + excluded.debits_pending,
        credits_pending = t.credits_pending + excluded.credits_pending, accounts = t.accounts + excluded.accounts`.execute(
      db,
    );
  }
  for (const [stream, head] of heads) {
    await sql`INSERT INTO ${sql.id(schema, 'ledger_heads')} AS h VALUES (${stream}, ${head.revision.toString()}::int8,
        ${head.hash}, ${head.events.toString()}::int8, ${head.transfers.toString()}::int8)
      ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision, hash = excluded.hash,
        events = h.events + excluded.events, transfers = h.transfers + excluded.transfers`.execute(db);
  }
}

async function insertEntries(db: ProjectionContext['db'], schema: string, fold: FoldState): Promise<void> {
  const entries = fold.entries;
  if (entries.length === 0) return;
  const pick = <T>(choose: (row: (typeof entries)[number]) => T) => entries.map(choose);
  await sql`INSERT INTO ${sql.id(schema, 'ledger_entries')} SELECT * FROM unnest(
      ${pick((row) => row.accountId)}::text[], ${text(pick((row) => row.entryNo))}::int8[],
      ${pick((row) => row.transferId)}::text[], ${pick((row) => row.stream)}::text[],
      ${text(pick((row) => row.eventRevision))}::int8[], ${text(pick((row) => row.timestampNs))}::int8[],
      ${pick((row) => row.code)}::text[], ${pick((row) => row.side)}::text[], ${pick((row) => row.phase)}::text[],
      ${text(pick((row) => row.amountMinor))}::int8[], ${text(pick((row) => row.releasedMinor))}::int8[],
      ${pick((row) => row.counterpartyAccountId)}::text[], ${text(pick((row) => row.debitsPending))}::int8[],
      ${text(pick((row) => row.debitsPosted))}::int8[], ${text(pick((row) => row.creditsPending))}::int8[],
      ${text(pick((row) => row.creditsPosted))}::int8[], ${pick((row) => row.userData)}::jsonb[])`.execute(
    db,
  );
}

async function upsertHolds(db: ProjectionContext['db'], schema: string, holds: HoldRow[]): Promise<void> {
  if (holds.length === 0) return;
  const pick = <T>(choose: (row: HoldRow) => T) => holds.map(choose);
  await sql`INSERT INTO ${sql.id(schema, 'ledger_holds')} SELECT * FROM unnest(
      ${pick((row) => row.transferId)}::text[], ${pick((row) => row.debitAccountId)}::text[],
      ${pick((row) => row.creditAccountId)}::text[], ${pick((row) => row.currency)}::text[],
      ${text(pick((row) => row.heldMinor))}::int8[], ${text(pick((row) => row.expiresAtNs))}::int8[],
      ${text(pick((row) => row.createdTimestampNs))}::int8[], ${pick((row) => row.status)}::text[],
      ${text(pick((row) => row.postedMinor))}::int8[], ${pick((row) => row.resolvedById)}::text[])
    ON CONFLICT (transfer_id) DO UPDATE SET status = excluded.status, posted_minor = excluded.posted_minor,
      resolved_by_id = excluded.resolved_by_id`.execute(db);
}

export const ledgerProjection: ProjectionDefinition = {
  name: LEDGER_PROJECTION,
  // 2: the open-escrow index for the stranded-escrow sweep (a rebuild, with no downtime, adds it).
  version: 2,
  tables: LEDGER_PROJECTION_TABLES,
  filter: { streamPrefixes: [LEDGER_STREAM_PREFIX], eventTypes: [LEDGER_EVENT_TYPE] },
  setup,
  handleBatch,
};
