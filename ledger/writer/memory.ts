import {
  evictable,
  loadAccounts,
  type Account,
  type AcceptedTransfer,
  type LedgerChanges,
  type LedgerState,
  type PendingHold,
} from '../rules/index.js';
import type { Lookup, SnapshotWrite } from './snapshot-repository.js';

/**
 * What the writer holds in memory beyond the rules' state: which entries changed since the last
 * snapshot (dirty: only the stream and memory know them, so they may never leave memory), and
 * which were reloaded from the snapshot on demand (clean: they may leave again).
 *
 * The rule that makes bounded memory safe: an entry leaves memory only once a committed snapshot
 * holds its current value, and nothing but this writer changes it afterwards. So an entry that is
 * not in memory is exactly as the snapshot tables say.
 */
export interface Delta {
  readonly accounts: Map<string, Account>;
  readonly transfers: Map<string, { transfer: AcceptedTransfer; revision: bigint }>;
  readonly holds: Map<string, PendingHold>;
}

export function emptyDelta(): Delta {
  return { accounts: new Map(), transfers: new Map(), holds: new Map() };
}

export function isDeltaEmpty(delta: Delta): boolean {
  return delta.accounts.size === 0 && delta.transfers.size === 0 && delta.holds.size === 0;
}

/** Records a committed batch's changes (new values, never deltas). */
export function recordChanges(delta: Delta, changes: LedgerChanges, revision: bigint): void {
  for (const [id, account] of changes.accounts) delta.accounts.set(id, account);
  for (const [id, transfer] of changes.transfers) delta.transfers.set(id, { transfer, revision });
  for (const [id, hold] of changes.holds) delta.holds.set(id, hold);
}

/** Records what an event folded in from the stream touched, reading the values after the fold. */
export function recordFolded(
  delta: Delta,
  state: LedgerState,
  body: { accountsCreated: readonly Account[]; transfersAccepted: readonly AcceptedTransfer[] },
  revision: bigint,
): void {
  const noteAccount = (id: string): void => {
    const account = state.accounts.get(id);
    if (account !== undefined) delta.accounts.set(id, account);
  };
  for (const account of body.accountsCreated) noteAccount(account.id);
  for (const transfer of body.transfersAccepted) {
    noteAccount(transfer.debitAccountId);
    noteAccount(transfer.creditAccountId);
    delta.transfers.set(transfer.id, { transfer, revision });
    const holdId = transfer.flags.pending === true ? transfer.id : transfer.pendingId;
    const hold = holdId === undefined ? undefined : state.holds.get(holdId);
    if (hold !== undefined) delta.holds.set(hold.transferId, hold);
  }
}

/** Merges a snapshot that failed back under the newer delta (newer values win). */
export function mergeBack(older: Delta, newer: Delta): Delta {
  const merged = emptyDelta();
  for (const [id, value] of older.accounts) merged.accounts.set(id, value);
  for (const [id, value] of older.transfers) merged.transfers.set(id, value);
  for (const [id, value] of older.holds) merged.holds.set(id, value);
  for (const [id, value] of newer.accounts) merged.accounts.set(id, value);
  for (const [id, value] of newer.transfers) merged.transfers.set(id, value);
  for (const [id, value] of newer.holds) merged.holds.set(id, value);
  return merged;
}

export function snapshotWrite(
  delta: Delta,
  header: Omit<SnapshotWrite, 'accounts' | 'transfers' | 'holds'>,
): SnapshotWrite {
  return {
    ...header,
    accounts: [...delta.accounts.values()],
    transfers: [...delta.transfers.values()],
    holds: [...delta.holds.values()],
  };
}

export interface Loaded {
  readonly accounts: Set<string>;
  readonly transfers: Set<string>;
  readonly holds: Set<string>;
}

export function emptyLoaded(): Loaded {
  return { accounts: new Set(), transfers: new Set(), holds: new Set() };
}

/** Puts what was looked up into memory, skipping anything already there (memory is newer). */
export function absorb(state: LedgerState, loaded: Loaded, found: Lookup): void {
  for (const account of found.accounts) {
    if (state.accounts.has(account.id)) continue;
    loadAccounts(state, [account]);
    loaded.accounts.add(account.id);
  }
  for (const transfer of found.transfers) {
    if (state.transfers.has(transfer.id)) continue;
    state.transfers.set(transfer.id, transfer);
    loaded.transfers.add(transfer.id);
  }
  for (const hold of found.holds) {
    if (state.holds.has(hold.transferId)) continue;
    state.holds.set(hold.transferId, hold);
    if (hold.status === 'pending') state.openHoldIds.add(hold.transferId);
    loaded.holds.add(hold.transferId);
  }
}

/**
 * After a snapshot committed: drops what it made durable and nothing changed since — accounts
 * that are closed and at zero, transfers that are not open holds, resolved holds — plus clean
 * entries loaded on demand. Returns how many entries left memory.
 */
export function evictAfterSnapshot(
  state: LedgerState,
  written: Delta,
  current: Delta,
  loaded: Loaded,
): number {
  let evicted = 0;
  for (const id of union(written.accounts.keys(), loaded.accounts)) {
    const account = state.accounts.get(id);
    if (current.accounts.has(id) || account === undefined || !evictable(account)) continue;
    state.accounts.delete(id);
    evicted += 1;
  }
  for (const id of union(written.transfers.keys(), loaded.transfers)) {
    if (current.transfers.has(id) || state.openHoldIds.has(id) || !state.transfers.delete(id)) continue;
    evicted += 1;
  }
  for (const id of union(written.holds.keys(), loaded.holds)) {
    const hold = state.holds.get(id);
    if (current.holds.has(id) || hold === undefined || hold.status === 'pending') continue;
    state.holds.delete(id);
    evicted += 1;
  }
  loaded.accounts.clear();
  loaded.transfers.clear();
  loaded.holds.clear();
  return evicted;
}

function union(first: Iterable<string>, second: Iterable<string>): Set<string> {
  const all = new Set(first);
  for (const id of second) all.add(id);
  return all;
}
