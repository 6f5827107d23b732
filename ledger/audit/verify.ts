import type { Kysely } from 'kysely';
import { StreamNotFound, type EventStore } from '../../src/eventstore/index.js';
import {
  CURRENCIES,
  decodeBatchEvent,
  replay,
  type Account,
  type Currency,
  type LedgerBatchEvent,
  type ReplayEntry,
  type ReplayReport,
  type TrialBalanceLine,
} from '../rules/index.js';
import * as queries from '../projections/queries.js';
import { DEFAULT_LEDGER_STREAM, LEDGER_EVENT_TYPE, storedBatchText } from '../writer/events.js';
import { readHeader } from '../writer/snapshot-repository.js';

/**
 * The auditor's check (`npm run ledger -- verify`, POST /v1/admin/ledger/verify): replays the
 * stream from its first event with the rules' independent replay (every balance recomputed, every
 * invariant and the hash chain checked), anchors the chain to the writer's snapshot header, and
 * compares the read models with the replay at the revision they have reached. Every mismatch is
 * listed with the event it comes from.
 */
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- reads views and the snapshot

export interface VerifyFinding {
  readonly kind: string;
  readonly detail: string;
  /** The stored event the mismatch was found in (its stream revision and event id). */
  readonly event?: { readonly revision: bigint; readonly id: string };
  readonly transferId?: string;
  readonly accountId?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly stream: string;
  readonly events: number;
  readonly transfers: number;
  readonly accounts: number;
  readonly finalHash: string;
  readonly trialBalance: Readonly<Record<Currency, TrialBalanceLine>>;
  readonly mismatches: readonly VerifyFinding[];
  readonly projection: {
    readonly compared: boolean;
    readonly revision: bigint | null;
    readonly lagEvents: number;
  };
  readonly snapshotRevision: bigint | null;
  readonly durationMs: number;
}

export interface VerifyOptions {
  readonly store: EventStore;
  readonly db: AnyDb;
  readonly stream?: string;
  /** Compare the read models too (default true). */
  readonly projections?: boolean;
  /** A head hash kept elsewhere; catches a history rewritten and re-hashed whole. */
  readonly anchorHash?: string;
  /** Called after each page of the stream is read, with the events read so far. */
  readonly onProgress?: (eventsRead: number) => void;
}

interface StoredEvent {
  readonly revision: bigint;
  readonly id: string;
  readonly entry: ReplayEntry;
}

const READ_PAGE = 1_000;

export async function readLedgerStream(
  store: EventStore,
  stream: string,
  onProgress?: (eventsRead: number) => void,
): Promise<StoredEvent[]> {
  const stored: StoredEvent[] = [];
  for (;;) {
    let page;
    try {
      page = await store.readStream(stream, { fromRevision: BigInt(stored.length), maxCount: READ_PAGE });
    } catch (error) {
      if (error instanceof StreamNotFound) return stored;
      throw error;
    }
    for (const recorded of page) {
      let entry: ReplayEntry;
      try {
        if (recorded.type !== LEDGER_EVENT_TYPE)
          throw new Error(`a ${recorded.type} event in the ledger stream`);
        entry = decodeBatchEvent(storedBatchText(recorded.data));
      } catch (error) {
        entry = { undecodable: (error as Error).message };
      }
      stored.push({ revision: recorded.revision, id: recorded.id, entry });
    }
    onProgress?.(stored.length);
    if (page.length < READ_PAGE) return stored;
  }
}

export async function verifyLedger(options: VerifyOptions): Promise<VerifyReport> {
  const startedAt = performance.now();
  const stream = options.stream ?? DEFAULT_LEDGER_STREAM;
  const stored = await readLedgerStream(options.store, stream, options.onProgress);
  const entries = stored.map((item) => item.entry);
  const report = replay(
    entries,
    options.anchorHash === undefined ? {} : { expectedFinalHash: options.anchorHash },
  );
  const findings: VerifyFinding[] = report.mismatches.map((mismatch) => ({
    kind: mismatch.kind,
    detail: mismatch.detail,
    ...eventAt(stored, mismatch.eventIndex),
    ...(mismatch.transferId === undefined ? {} : { transferId: mismatch.transferId }),
    ...(mismatch.accountId === undefined ? {} : { accountId: mismatch.accountId }),
  }));
  stored.forEach((item, index) => {
    if (item.revision !== BigInt(index))
      findings.push({
        kind: 'revision_gap',
        detail: `event ${index} has revision ${item.revision}`,
        ...eventAt(stored, index),
      });
  });
  const snapshotRevision = await checkSnapshotAnchor(options.db, stream, stored, findings);
  const projection =
    options.projections === false
      ? { compared: false, revision: null, lagEvents: 0 }
      : // One snapshot for the read models' head, accounts, entries and holds: the projection may
        // apply batches while they are read (a live system, or a test's background work), and
        // rows read across two of its batches would disagree with any one replay.
        await options.db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute((snapshot) =>
            compareProjections(snapshot, stream, stored, report, findings, () =>
              readLedgerStream(options.store, stream),
            ),
          );
  return {
    ok: findings.length === 0,
    stream,
    events: report.eventCount,
    transfers: report.transferCount,
    accounts: report.accounts.size,
    finalHash: report.finalHash,
    trialBalance: report.trialBalance,
    mismatches: findings,
    projection,
    snapshotRevision,
    durationMs: Math.round(performance.now() - startedAt),
  };
}

function eventAt(
  stored: readonly StoredEvent[],
  index: number,
): { event?: { revision: bigint; id: string } } {
  const item = stored[index];
  return item === undefined ? {} : { event: { revision: item.revision, id: item.id } };
}

/** The writer's snapshot header records the chain hash at its revision: the stream must agree. */
async function checkSnapshotAnchor(
  db: AnyDb,
  stream: string,
  stored: readonly StoredEvent[],
  findings: VerifyFinding[],
): Promise<bigint | null> {
  const header = await readHeader(db, stream);
  if (header === null) return null;
  const index = Number(header.revision);
  const item = stored[index];
  if (item === undefined) {
    findings.push({
      kind: 'snapshot_ahead_of_stream',
      detail: `the writer's snapshot is at revision ${header.revision} but the stream has ${stored.length} events`,
    });
    return header.revision;
  }
  const hash = 'undecodable' in item.entry ? null : item.entry.hash;
  if (hash !== header.lastHash) {
    findings.push({
      kind: 'snapshot_hash_mismatch',
      detail: `the writer's snapshot recorded hash ${header.lastHash} here, the stream holds ${hash ?? '(undecodable)'}`,
      ...eventAt(stored, index),
    });
  }
  return header.revision;
}

async function compareProjections(
  db: AnyDb,
  stream: string,
  stored: readonly StoredEvent[],
  full: ReplayReport,
  findings: VerifyFinding[],
  reread: () => Promise<StoredEvent[]>,
): Promise<{ compared: boolean; revision: bigint | null; lagEvents: number }> {
  if (!(await queries.projectionExists(db)))
    return { compared: false, revision: null, lagEvents: stored.length };
  const head = await queries.projectedHead(db, stream);
  const count = head === null ? 0 : Number(head.revision) + 1;
  if (count > stored.length) {
    // The read models applied events appended after the stream was read: read it again (what
    // they applied is stored before they apply it), and compare at their revision.
    stored = await reread();
    full = replay(stored.map((item) => item.entry));
  }
  const lagEvents = stored.length - count;
  if (lagEvents < 0) {
    findings.push({
      kind: 'projection_ahead_of_stream',
      detail: `the read models applied revision ${head?.revision} of ${stored.length} events`,
    });
    return { compared: true, revision: head?.revision ?? null, lagEvents };
  }
  // Compare where the read models are: a lagging projection is not a mismatch, a different one is.
  const prefix = count === stored.length ? full : replay(stored.slice(0, count).map((item) => item.entry));
  const note = (kind: string, detail: string, accountId?: string) =>
    findings.push({ kind, detail, ...(accountId === undefined ? {} : { accountId }) });
  if (head !== null && head.hash !== prefix.finalHash) {
    findings.push({
      kind: 'projection_head_mismatch',
      detail: `read models applied up to hash ${head.hash}, replay gives ${prefix.finalHash}`,
      ...eventAt(stored, count - 1),
    });
  }
  await compareAccounts(db, stored.slice(0, count), prefix.accounts, note);
  await compareTrialBalance(db, prefix, note);
  await compareHolds(db, stored.slice(0, count), note);
  return { compared: true, revision: head?.revision ?? null, lagEvents };
}

type Note = (kind: string, detail: string, accountId?: string) => void;

const COLUMNS = ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted'] as const;

async function compareAccounts(
  db: AnyDb,
  stored: readonly StoredEvent[],
  accounts: ReadonlyMap<string, Account>,
  note: Note,
): Promise<void> {
  const projected = new Map((await queries.allProjectedAccounts(db)).map((row) => [row.id, row]));
  const entryCounts = countEntries(stored);
  const statements = await queries.lastEntries(db);
  for (const [id, account] of accounts) {
    const row = projected.get(id);
    if (row === undefined) {
      note('projection_account_missing', 'in the replay, not in ledger_accounts', id);
      continue;
    }
    for (const column of COLUMNS) {
      if (row[column] !== account[column])
        note(
          'projection_balance_mismatch',
          `${column}: read model ${row[column]}, replay ${account[column]}`,
          id,
        );
    }
    if (row.closed !== (account.closed === true))
      note(
        'projection_balance_mismatch',
        `closed: read model ${row.closed}, replay ${account.closed === true}`,
        id,
      );
    const expectedEntries = entryCounts.get(id) ?? 0n;
    const statement = statements.get(id);
    if ((statement?.count ?? 0n) !== expectedEntries || row.entryCount !== expectedEntries) {
      note(
        'projection_entries_mismatch',
        `${statement?.count ?? 0n} entries (account says ${row.entryCount}), replay has ${expectedEntries}`,
        id,
      );
    } else if (statement !== undefined) {
      for (const column of COLUMNS) {
        if (statement.last[column] !== account[column])
          note(
            'projection_statement_mismatch',
            `last entry's ${column} ${statement.last[column]}, replay ${account[column]}`,
            id,
          );
      }
    }
  }
  for (const id of projected.keys()) {
    if (!accounts.has(id) && stored.length > 0)
      note('projection_account_unknown', 'in ledger_accounts, never created in the stream', id);
  }
}

function countEntries(stored: readonly StoredEvent[]): Map<string, bigint> {
  const counts = new Map<string, bigint>();
  for (const item of stored) {
    if ('undecodable' in item.entry) continue;
    for (const transfer of item.entry.transfersAccepted) {
      for (const id of [transfer.debitAccountId, transfer.creditAccountId])
        counts.set(id, (counts.get(id) ?? 0n) + 1n);
    }
  }
  return counts;
}

async function compareTrialBalance(db: AnyDb, replayed: ReplayReport, note: Note): Promise<void> {
  const rows = new Map((await queries.projectedTrialBalance(db)).map((row) => [row.currency, row]));
  for (const currency of CURRENCIES) {
    const line = replayed.trialBalance[currency];
    const row = rows.get(currency);
    for (const column of ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'] as const) {
      const projected = row?.[column] ?? 0n;
      if (projected !== line[column])
        note(
          'projection_trial_balance_mismatch',
          `${currency} ${column}: read model ${projected}, replay ${line[column]}`,
        );
    }
  }
}

/** Open holds recomputed from the events (pending, never resolved) against ledger_holds. */
async function compareHolds(db: AnyDb, stored: readonly StoredEvent[], note: Note): Promise<void> {
  const open = new Set<string>();
  for (const item of stored) {
    if ('undecodable' in item.entry) continue;
    const event: LedgerBatchEvent = item.entry;
    for (const transfer of event.transfersAccepted) {
      if (transfer.flags.pending === true) open.add(transfer.id);
      if (transfer.pendingId !== undefined) open.delete(transfer.pendingId);
    }
  }
  const projected = await queries.openHoldIds(db);
  for (const id of open)
    if (!projected.has(id))
      note('projection_hold_mismatch', `hold ${id} is open in the replay, not in ledger_holds`);
  for (const id of projected)
    if (!open.has(id))
      note('projection_hold_mismatch', `hold ${id} is open in ledger_holds, not in the replay`);
}
