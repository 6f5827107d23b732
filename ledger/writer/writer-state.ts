import {
  assertInvariant,
  batchBodyBytes,
  chainHash,
  commitChanges,
  emptyLedgerState,
  evolve,
  GENESIS_HASH,
  LedgerInvariantError,
  LIMITS,
  missingReferences,
  type LedgerBatchBody,
  type LedgerBatchEvent,
  type LedgerChanges,
  type LedgerState,
  type PendingHold,
  type Transfer,
} from '../rules/index.js';
import { decodeLedgerEvent, LEDGER_EVENT_TYPE } from './events.js';
import type { IdFilter } from './id-filter.js';
import {
  emptyDelta,
  emptyLoaded,
  evictAfterSnapshot,
  isDeltaEmpty,
  mergeBack,
  recordChanges,
  recordFolded,
  type Delta,
  type Loaded,
} from './memory.js';
import type { SnapshotHeader } from './snapshot-repository.js';

/**
 * The writer's in-memory state, apart from its I/O and its loop: the rules' state (accounts,
 * transfers, holds), where the stream's head is (revision, hash, count), what changed since the
 * last snapshot, and the counters that tell stale knowledge apart. Every function here is pure
 * over this object (no I/O, no clock), so each can be tested alone.
 */
export interface WriterState {
  ledger: LedgerState;
  /** Revision of the last event folded in; -1 for an empty stream. */
  revision: bigint;
  lastHash: string;
  transferCount: bigint;
  /** Revision of the snapshot header this writer last wrote or read; null before the first. */
  snapshotRevision: bigint | null;
  /** Entries changed since the snapshot being built (never evicted before a snapshot holds them). */
  delta: Delta;
  /** Entries reloaded from the snapshot on demand (clean: they may leave again). */
  loaded: Loaded;
  eventsSinceSnapshot: number;
  /** Every id ever accepted on this stream may be in it; an id it rules out was never accepted. */
  idFilter: IdFilter | null;
  /** Bumped whenever entries may leave memory (eviction, restore): prefetched knowledge expires. */
  epoch: number;
  /** Bumped by every restore, so that a stale snapshot completion is ignored. */
  generation: number;
}

export function emptyWriterState(): WriterState {
  return {
    ledger: emptyLedgerState(),
    revision: -1n,
    lastHash: GENESIS_HASH,
    transferCount: 0n,
    snapshotRevision: null,
    delta: emptyDelta(),
    loaded: emptyLoaded(),
    eventsSinceSnapshot: 0,
    idFilter: null,
    epoch: 0,
    generation: 0,
  };
}

/** Forgets everything before a restore: whatever was learnt or started before is stale. */
export function clearForRestore(state: WriterState): void {
  state.epoch += 1;
  state.generation += 1;
  state.ledger = emptyLedgerState();
  state.delta = emptyDelta();
  state.loaded = emptyLoaded();
  state.eventsSinceSnapshot = 0;
}

/** Continues from a snapshot header (or the genesis, with none); its open holds come next. */
export function adoptHeader(state: WriterState, header: SnapshotHeader | null): void {
  state.revision = header?.revision ?? -1n;
  state.lastHash = header?.lastHash ?? GENESIS_HASH;
  state.transferCount = header?.transferCount ?? 0n;
  state.ledger.lastTimestampNs = header?.lastTimestampNs ?? 0n;
  state.snapshotRevision = header?.revision ?? null;
}

/** The snapshot's open holds (everything else it holds loads lazily). */
export function adoptOpenHolds(state: WriterState, holds: readonly PendingHold[]): void {
  for (const hold of holds) {
    state.ledger.holds.set(hold.transferId, hold);
    state.ledger.openHoldIds.add(hold.transferId);
  }
}

/**
 * Decodes a stored event and asserts that it is the next one: the revision after ours, a ledger
 * batch, continuing our hash chain and matching its own hash. A failure is a broken invariant.
 */
export function verifyNextEvent(
  state: WriterState,
  stream: string,
  recorded: { revision: bigint; type: string; data: unknown },
): LedgerBatchEvent {
  const where = `${stream}@${recorded.revision}`;
  assertInvariant(
    recorded.revision === state.revision + 1n,
    `${where} does not follow revision ${state.revision}`,
  );
  assertInvariant(recorded.type === LEDGER_EVENT_TYPE, `${where} is a ${recorded.type}, not a ledger batch`);
  let event;
  try {
    event = decodeLedgerEvent(recorded.data);
  } catch (error) {
    throw new LedgerInvariantError(`${where} cannot be decoded: ${(error as Error).message}`);
  }
  assertInvariant(event.previousHash === state.lastHash, `${where} does not continue the hash chain`);
  assertInvariant(
    chainHash(state.lastHash, batchBodyBytes(event)) === event.hash,
    `${where} fails its own hash`,
  );
  return event;
}

/** Folds a verified stored event in (what it refers to already loaded) and moves the head. */
export function foldEvent(state: WriterState, event: LedgerBatchEvent, revision: bigint): void {
  evolve(state.ledger, event);
  for (const transfer of event.transfersAccepted) state.idFilter?.add(transfer.id);
  state.revision = revision;
  state.lastHash = event.hash;
  state.transferCount += BigInt(event.transfersAccepted.length);
  recordFolded(state.delta, state.ledger, event, revision);
  state.eventsSinceSnapshot += 1;
}

/** Applies a decided batch once its event is durable at `appendedRevision` (the next one). */
export function commitAppended(
  state: WriterState,
  changes: LedgerChanges,
  hash: string,
  body: LedgerBatchBody,
  appendedRevision: bigint,
): void {
  assertInvariant(
    appendedRevision === state.revision + 1n,
    `appended at ${appendedRevision}, expected ${state.revision + 1n}`,
  );
  commitChanges(state.ledger, changes);
  for (const transfer of body.transfersAccepted) state.idFilter?.add(transfer.id);
  state.revision = appendedRevision;
  state.lastHash = hash;
  state.transferCount += BigInt(body.transfersAccepted.length);
  recordChanges(state.delta, changes, appendedRevision);
  state.eventsSinceSnapshot += 1;
}

/** What to look up in the snapshot before deciding: ids memory lacks and that may exist there. */
export interface ReferenceLookup {
  readonly accountIds: string[];
  readonly holdIds: Set<string>;
  readonly transferIds: Set<string>;
}

/**
 * What `transfers` refer to and memory lacks: their accounts (less those the batch creates), the
 * holds (and pending transfers) they resolve, and, for idempotency, the transfers of `idsToCheck`.
 * Ids known to be absent (`a:`, `h:`, `t:` + id in `absent`) or that the accepted-id filter rules
 * out are left out. Null when there is nothing to look up.
 */
export function referencesToLoad(
  state: WriterState,
  transfers: readonly Transfer[],
  idsToCheck: readonly string[],
  createdAccountIds: ReadonlySet<string>,
  absent: ReadonlySet<string>,
): ReferenceLookup | null {
  const { ledger, idFilter } = state;
  const missing = missingReferences(ledger, transfers);
  const accountIds = missing.accountIds.filter((id) => !createdAccountIds.has(id) && !absent.has(`a:${id}`));
  // A pending transfer may be in memory (reloaded for an idempotency check) without its hold.
  const holdIds = new Set(missing.pendingTransferIds);
  for (const transfer of transfers) {
    const pendingId = transfer.pendingId;
    if (pendingId !== undefined && pendingId !== '' && !ledger.holds.has(pendingId)) holdIds.add(pendingId);
  }
  for (const id of holdIds)
    if (absent.has(`h:${id}`) || (idFilter !== null && !idFilter.mightContain(id))) holdIds.delete(id);
  const transferIds = new Set(missing.pendingTransferIds);
  for (const id of idsToCheck)
    if (id !== '' && id.length <= LIMITS.transferIdMaxLength && !ledger.transfers.has(id))
      transferIds.add(id);
  for (const id of transferIds) {
    // Never accepted (the filter is sure) or already known to be absent: nothing to look up.
    if (absent.has(`t:${id}`) || (idFilter !== null && !idFilter.mightContain(id))) transferIds.delete(id);
  }
  if (accountIds.length === 0 && holdIds.size === 0 && transferIds.size === 0) return null;
  return { accountIds, holdIds, transferIds };
}

/** After a lookup was absorbed: what it did not find is absent until the next epoch. */
export function noteAbsent(state: WriterState, lookup: ReferenceLookup, absent: Set<string>): void {
  const { ledger } = state;
  for (const id of lookup.accountIds) if (!ledger.accounts.has(id)) absent.add(`a:${id}`);
  for (const id of lookup.holdIds) if (!ledger.holds.has(id)) absent.add(`h:${id}`);
  for (const id of lookup.transferIds) if (!ledger.transfers.has(id)) absent.add(`t:${id}`);
}

/**
 * Zero-amount stand-ins for the holds due at `nowNs`, naming their accounts: loading what they
 * refer to brings every account an expiry touches into memory.
 */
export function dueHoldReferences(state: WriterState, nowNs: bigint): Transfer[] {
  const due: Transfer[] = [];
  for (const id of state.ledger.openHoldIds) {
    const hold = state.ledger.holds.get(id);
    if (hold === undefined || hold.expiresAtNs === null || hold.expiresAtNs > nowNs) continue;
    due.push({
      id,
      debitAccountId: hold.debitAccountId,
      creditAccountId: hold.creditAccountId,
      amountMinor: 0n,
      currency: hold.currency,
      code: 'hold_expiry',
      flags: {},
    });
  }
  return due;
}

/** When a snapshot is due: after so many events or so many new transfers, whichever comes first. */
export interface SnapshotLimits {
  readonly everyEvents: number;
  readonly everyTransfers: number;
}

export function snapshotDue(state: WriterState, limits: SnapshotLimits, force: boolean): boolean {
  if (isDeltaEmpty(state.delta)) return false;
  return (
    force ||
    state.eventsSinceSnapshot >= limits.everyEvents ||
    state.delta.transfers.size >= limits.everyTransfers
  );
}

/** A snapshot to write: the entries it makes durable and the header it moves to. */
export interface SnapshotCut {
  readonly delta: Delta;
  readonly header: SnapshotHeader;
  /** The header's revision it replaces (compare-and-set); null for the first. */
  readonly previousRevision: bigint | null;
  /** The restore generation it was cut in: a completion from an older one is stale. */
  readonly generation: number;
}

/** Takes the changes since the last snapshot out of the delta; newer changes start a fresh one. */
export function cutSnapshot(state: WriterState): SnapshotCut {
  const cut: SnapshotCut = {
    delta: state.delta,
    header: {
      revision: state.revision,
      lastHash: state.lastHash,
      lastTimestampNs: state.ledger.lastTimestampNs,
      transferCount: state.transferCount,
    },
    previousRevision: state.snapshotRevision,
    generation: state.generation,
  };
  state.delta = emptyDelta();
  state.eventsSinceSnapshot = 0;
  return cut;
}

/**
 * A snapshot committed at `revision`: what it made durable and nothing changed since may leave
 * memory (prefetched knowledge expires with the epoch). Returns how many entries left.
 */
export function snapshotWritten(state: WriterState, written: Delta, revision: bigint): number {
  state.epoch += 1;
  state.snapshotRevision = revision;
  return evictAfterSnapshot(state.ledger, written, state.delta, state.loaded);
}

/** A snapshot failed: its entries go back under the newer changes, for the next one. */
export function snapshotFailed(state: WriterState, written: Delta): void {
  state.delta = mergeBack(written, state.delta);
}
