import { describe, expect, it } from 'vitest';
import {
  customerWalletId,
  GENESIS_HASH,
  LedgerInvariantError,
  LIMITS,
  sealBatch,
  worldId,
  type Transfer,
} from '../rules/index.js';
import { T0_MS, transfer } from '../rules/testing/fixtures.js';
import { decideTransfers } from './decide.js';
import { LEDGER_EVENT_TYPE } from './events.js';
import { createIdFilter } from './id-filter.js';
import {
  adoptHeader,
  adoptOpenHolds,
  clearForRestore,
  commitAppended,
  cutSnapshot,
  dueHoldReferences,
  emptyWriterState,
  foldEvent,
  noteAbsent,
  referencesToLoad,
  snapshotDue,
  snapshotFailed,
  snapshotWritten,
  verifyNextEvent,
  type WriterState,
} from './writer-state.js';

const wallet = customerWalletId('u1', 'XAF');
const world = worldId('XAF');
const BUDGET = 1_000_000;

function topUp(id: string, amountMinor: bigint, flags: Transfer['flags'] = {}): Transfer {
  return transfer({ id, debitAccountId: world, creditAccountId: wallet, amountMinor, flags });
}

/** Decides and commits transfers as the writer does once the append returned `revision + 1`. */
function commitBatch(state: WriterState, transfers: Transfer[], nowMs = T0_MS) {
  const decision = decideTransfers(state, transfers, nowMs, BUDGET);
  if (decision.sealed === null) throw new Error('nothing accepted');
  const { sealed } = decision;
  commitAppended(state, sealed.changes, sealed.hash, sealed.body, state.revision + 1n);
  return sealed;
}

describe('writer state: the head and the delta move only with a durable event', () => {
  it('commits a batch: revision, hash, count, delta and the accepted-id filter move together', () => {
    const state = emptyWriterState();
    state.idFilter = createIdFilter(1_024);
    const sealed = commitBatch(state, [topUp('t1', 500n)]);
    expect(state.revision).toBe(0n);
    expect(state.lastHash).toBe(sealed.hash);
    expect(state.lastHash).toBe(sealBatch(GENESIS_HASH, sealed.body).hash);
    expect(state.transferCount).toBe(1n);
    expect(state.eventsSinceSnapshot).toBe(1);
    expect(state.ledger.accounts.get(wallet)?.creditsPosted).toBe(500n);
    expect([...state.delta.accounts.keys()].sort()).toEqual([wallet, world].sort());
    expect(state.delta.transfers.get('t1')?.revision).toBe(0n);
    expect(state.idFilter.mightContain('t1')).toBe(true);
  });

  it('refuses to commit at any revision but the next one (a broken invariant)', () => {
    const state = emptyWriterState();
    const decision = decideTransfers(state, [topUp('t1', 500n)], T0_MS, BUDGET);
    const { sealed } = decision;
    expect(() => commitAppended(state, sealed!.changes, sealed!.hash, sealed!.body, 3n)).toThrow(
      LedgerInvariantError,
    );
    expect(state.revision).toBe(-1n);
    expect(state.ledger.accounts.size).toBe(0);
  });

  it('folds a stored event into a second writer to the same head and balances', () => {
    const writer = emptyWriterState();
    const sealed = commitBatch(writer, [topUp('t1', 500n)]);
    const reader = emptyWriterState();
    const event = verifyNextEvent(reader, 'ledger-test', {
      revision: 0n,
      type: LEDGER_EVENT_TYPE,
      data: sealed.data,
    });
    foldEvent(reader, event, 0n);
    expect(reader.revision).toBe(0n);
    expect(reader.lastHash).toBe(writer.lastHash);
    expect(reader.transferCount).toBe(1n);
    expect(reader.ledger.accounts.get(wallet)).toEqual(writer.ledger.accounts.get(wallet));
    expect(reader.delta.transfers.has('t1')).toBe(true);
  });

  it('rejects a stored event out of order, of another type, off the chain or failing its hash', () => {
    const writer = emptyWriterState();
    const first = commitBatch(writer, [topUp('t1', 500n)]);
    const second = commitBatch(writer, [topUp('t2', 10n)]);
    const fresh = emptyWriterState();
    const stored = (revision: bigint, data: unknown, type = LEDGER_EVENT_TYPE) => ({ revision, type, data });
    expect(() => verifyNextEvent(fresh, 's', stored(1n, first.data))).toThrow(/does not follow revision -1/);
    expect(() => verifyNextEvent(fresh, 's', stored(0n, first.data, 'Other'))).toThrow(/not a ledger batch/);
    expect(() => verifyNextEvent(fresh, 's', stored(0n, second.data))).toThrow(
      /does not continue the hash chain/,
    );
    const text = (first.data as { batch: string }).batch;
    const tampered = { batch: text.replace('"amountMinor":"500"', '"amountMinor":"501"') };
    expect(tampered.batch).not.toBe(text);
    expect(() => verifyNextEvent(fresh, 's', stored(0n, tampered))).toThrow(LedgerInvariantError);
    expect(() => verifyNextEvent(fresh, 's', stored(0n, { batch: '{' }))).toThrow(/cannot be decoded/);
    expect(verifyNextEvent(fresh, 's', stored(0n, first.data)).hash).toBe(first.hash);
  });

  it('restores from a header and its open holds, bumping both counters', () => {
    const state = emptyWriterState();
    commitBatch(state, [topUp('t1', 500n)]);
    const { epoch, generation } = state;
    clearForRestore(state);
    expect(state.ledger.accounts.size).toBe(0);
    expect(state.delta.transfers.size).toBe(0);
    expect([state.epoch, state.generation]).toEqual([epoch + 1, generation + 1]);
    adoptHeader(state, { revision: 7n, lastHash: 'ab'.repeat(32), lastTimestampNs: 99n, transferCount: 12n });
    const hold = {
      transferId: 'h1',
      debitAccountId: wallet,
      creditAccountId: world,
      currency: 'XAF' as const,
      heldMinor: 5n,
      expiresAtNs: 10n,
      status: 'pending' as const,
      postedMinor: 0n,
    };
    adoptOpenHolds(state, [hold]);
    expect([state.revision, state.snapshotRevision, state.transferCount]).toEqual([7n, 7n, 12n]);
    expect(state.ledger.lastTimestampNs).toBe(99n);
    expect(state.ledger.openHoldIds.has('h1')).toBe(true);
    expect(dueHoldReferences(state, 9n)).toEqual([]);
    expect(dueHoldReferences(state, 10n)).toMatchObject([
      { id: 'h1', debitAccountId: wallet, creditAccountId: world, amountMinor: 0n, code: 'hold_expiry' },
    ]);
    adoptHeader(state, null);
    expect([state.revision, state.lastHash, state.snapshotRevision]).toEqual([-1n, GENESIS_HASH, null]);
  });
});

describe('writer state: what to look up before deciding', () => {
  it('asks for what memory lacks, less created accounts, known absences and ids the filter rules out', () => {
    const state = emptyWriterState();
    const post = transfer({ id: 'p1', pendingId: 'h9', flags: { postPending: true } });
    const lookup = referencesToLoad(
      state,
      [topUp('t1', 5n), post],
      ['t1', 'p1', ''],
      new Set([world]),
      new Set(),
    );
    expect(lookup?.accountIds).toEqual([wallet]);
    expect([...lookup!.holdIds]).toEqual(['h9']);
    expect([...lookup!.transferIds].sort()).toEqual(['h9', 'p1', 't1']);
    const absent = new Set<string>();
    noteAbsent(state, lookup!, absent);
    expect([...absent].sort()).toEqual([`a:${wallet}`, 'h:h9', 't:h9', 't:p1', 't:t1']);
    expect(
      referencesToLoad(state, [topUp('t1', 5n), post], ['t1', 'p1'], new Set([world]), absent),
    ).toBeNull();
  });

  it('skips ids the accepted-id filter has never seen, and ids too long to be accepted', () => {
    const state = emptyWriterState();
    commitBatch(state, [topUp('t1', 5n)]);
    state.idFilter = createIdFilter(1_024);
    state.idFilter.add('old');
    const tooLong = 'x'.repeat(LIMITS.transferIdMaxLength + 1);
    const lookup = referencesToLoad(
      state,
      [topUp('new', 1n)],
      ['new', 'old', tooLong, 't1'],
      new Set(),
      new Set(),
    );
    expect(lookup?.accountIds).toEqual([]);
    expect([...lookup!.transferIds]).toEqual(['old']);
    state.idFilter = createIdFilter(1_024);
    expect(referencesToLoad(state, [topUp('new', 1n)], ['new'], new Set(), new Set())).toBeNull();
  });
});

describe('writer state: snapshots', () => {
  const limits = { everyEvents: 2, everyTransfers: 3 };

  it('is due after so many events or transfers, or when forced, never with nothing changed', () => {
    const state = emptyWriterState();
    expect(snapshotDue(state, limits, true)).toBe(false);
    commitBatch(state, [topUp('t1', 5n)]);
    expect(snapshotDue(state, limits, false)).toBe(false);
    expect(snapshotDue(state, limits, true)).toBe(true);
    commitBatch(state, [topUp('t2', 5n)]);
    expect(snapshotDue(state, limits, false)).toBe(true);
    const other = emptyWriterState();
    commitBatch(other, [topUp('a', 1n), topUp('b', 1n), topUp('c', 1n)]);
    expect(snapshotDue(other, limits, false)).toBe(true);
  });

  it('cuts the delta with the header; a failed write merges it back under newer changes', () => {
    const state = emptyWriterState();
    commitBatch(state, [topUp('t1', 5n)]);
    const cut = cutSnapshot(state);
    expect(cut.header).toMatchObject({ revision: 0n, lastHash: state.lastHash, transferCount: 1n });
    expect(cut.previousRevision).toBeNull();
    expect(cut.delta.transfers.has('t1')).toBe(true);
    expect(state.delta.transfers.size).toBe(0);
    expect(state.eventsSinceSnapshot).toBe(0);
    commitBatch(state, [topUp('t2', 7n)]);
    snapshotFailed(state, cut.delta);
    expect([...state.delta.transfers.keys()].sort()).toEqual(['t1', 't2']);
    expect(state.delta.accounts.get(wallet)?.creditsPosted).toBe(12n);
  });

  it('after a written snapshot, evicts what it made durable and nothing changed since, and moves the epoch', () => {
    const state = emptyWriterState();
    commitBatch(state, [topUp('t1', 5n)]);
    const cut = cutSnapshot(state);
    commitBatch(state, [topUp('t2', 7n)]);
    const epoch = state.epoch;
    const evicted = snapshotWritten(state, cut.delta, cut.header.revision);
    expect(state.snapshotRevision).toBe(0n);
    expect(state.epoch).toBe(epoch + 1);
    // t1 left (durable, unchanged since); t2 and the open accounts stay.
    expect(evicted).toBe(1);
    expect(state.ledger.transfers.has('t1')).toBe(false);
    expect(state.ledger.transfers.has('t2')).toBe(true);
    expect(state.ledger.accounts.has(wallet)).toBe(true);
  });
});
