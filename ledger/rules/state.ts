import { assertInvariant } from './errors.js';
import type { Account, AcceptedTransfer, Currency, Transfer } from './types.js';

export type HoldStatus = 'pending' | 'posted' | 'voided' | 'expired';

/** The life of one pending transfer (TigerBeetle keeps this as the pending transfer status). */
export interface PendingHold {
  readonly transferId: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly currency: Currency;
  readonly heldMinor: bigint;
  /** Transfer timestamp + timeout; null when the hold has no timeout. */
  readonly expiresAtNs: bigint | null;
  readonly status: HoldStatus;
  /** What the post moved to posted balances (0 unless posted); heldMinor − postedMinor was released. */
  readonly postedMinor: bigint;
  /** The post, void or expiry transfer that resolved the hold. */
  readonly resolvedById?: string;
}

/**
 * The writer's in-memory ledger. Owned by one writer: only `commitChanges`, `evolve` and
 * `evictAccounts` mutate it, and the writer calls them only after its batch event is durably
 * appended. Every deciding function (createTransfers, createAccounts, expirePendingTransfers)
 * reads it and returns changes instead, so a batch that loses the append race leaves it intact.
 */
export interface LedgerState {
  readonly accounts: Map<string, Account>;
  /** Every accepted transfer by id: the idempotency index and the pending transfer lookup. */
  readonly transfers: Map<string, AcceptedTransfer>;
  readonly holds: Map<string, PendingHold>;
  /** Ids of holds still pending, so that the expiry sweep does not scan resolved ones. */
  readonly openHoldIds: Set<string>;
  lastTimestampNs: bigint;
}

/** What a decided batch would change: new values of touched entries, never deltas to re-add. */
export interface LedgerChanges {
  readonly accounts: ReadonlyMap<string, Account>;
  readonly transfers: ReadonlyMap<string, AcceptedTransfer>;
  readonly holds: ReadonlyMap<string, PendingHold>;
  /** The state's lastTimestampNs when the batch was decided: commits must not interleave. */
  readonly baseTimestampNs: bigint;
  readonly lastTimestampNs: bigint;
}

export function emptyLedgerState(): LedgerState {
  return {
    accounts: new Map(),
    transfers: new Map(),
    holds: new Map(),
    openHoldIds: new Set(),
    lastTimestampNs: 0n,
  };
}

/** Applies decided changes in place (the writer's single mutation point) and returns the state. */
export function commitChanges(state: LedgerState, changes: LedgerChanges): LedgerState {
  assertInvariant(
    changes.baseTimestampNs === state.lastTimestampNs && changes.lastTimestampNs >= changes.baseTimestampNs,
    'changes were decided against another state (a batch was committed in between)',
  );
  for (const [id, account] of changes.accounts) state.accounts.set(id, account);
  for (const [id, transfer] of changes.transfers) state.transfers.set(id, transfer);
  for (const [id, hold] of changes.holds) {
    state.holds.set(id, hold);
    if (hold.status === 'pending') state.openHoldIds.add(id);
    else state.openHoldIds.delete(id);
  }
  state.lastTimestampNs = changes.lastTimestampNs;
  return state;
}

/**
 * Whether the writer may drop this account from memory: closed (so nothing new will touch it,
 * except voids of holds, and it has none) and at zero, so its snapshot row says all there is.
 */
export function evictable(account: Account): boolean {
  return (
    account.closed === true &&
    account.debitsPending === 0n &&
    account.creditsPending === 0n &&
    account.debitsPosted === account.creditsPosted
  );
}

/** Drops the evictable accounts among `ids` from memory; returns the ids it dropped. */
export function evictAccounts(state: LedgerState, ids: Iterable<string>): string[] {
  const evicted: string[] = [];
  for (const id of ids) {
    const account = state.accounts.get(id);
    if (account === undefined || !evictable(account)) continue;
    state.accounts.delete(id);
    evicted.push(id);
  }
  return evicted;
}

/**
 * What a batch refers to that is not in memory: the writer reloads these from its snapshot
 * (or opens them from the chart of accounts) before deciding, never from a lagging projection.
 */
export function missingReferences(
  state: LedgerState,
  transfers: readonly Transfer[],
): { accountIds: string[]; pendingTransferIds: string[] } {
  const accountIds = new Set<string>();
  const pendingTransferIds = new Set<string>();
  const note = (id: string): void => {
    if (id !== '' && !state.accounts.has(id)) accountIds.add(id);
  };
  for (const transfer of transfers) {
    note(transfer.debitAccountId);
    note(transfer.creditAccountId);
    const pendingId = transfer.pendingId;
    if (pendingId === undefined || pendingId === '') continue;
    const pending = state.transfers.get(pendingId);
    if (pending === undefined) {
      pendingTransferIds.add(pendingId);
      continue;
    }
    note(pending.debitAccountId);
    note(pending.creditAccountId);
  }
  return { accountIds: [...accountIds].sort(), pendingTransferIds: [...pendingTransferIds].sort() };
}

/**
 * A copy-on-write overlay over a state: reads fall through to the state, writes stay in the
 * overlay. While a linked chain is open every write records how to undo itself, so a failed
 * chain is rolled back in O(chain writes), never by cloning the state.
 */
export interface Workspace {
  readonly base: LedgerState;
  readonly accounts: Map<string, Account>;
  readonly transfers: Map<string, AcceptedTransfer>;
  readonly holds: Map<string, PendingHold>;
  undo: Array<() => void> | null;
  lastTimestampNs: bigint;
}

export function openWorkspace(base: LedgerState): Workspace {
  return {
    base,
    accounts: new Map(),
    transfers: new Map(),
    holds: new Map(),
    undo: null,
    lastTimestampNs: base.lastTimestampNs,
  };
}

export function workspaceChanges(workspace: Workspace): LedgerChanges {
  assertInvariant(workspace.undo === null, 'a linked chain is still open');
  return {
    accounts: workspace.accounts,
    transfers: workspace.transfers,
    holds: workspace.holds,
    baseTimestampNs: workspace.base.lastTimestampNs,
    lastTimestampNs: workspace.lastTimestampNs,
  };
}

export function readAccount(workspace: Workspace, id: string): Account | undefined {
  return workspace.accounts.get(id) ?? workspace.base.accounts.get(id);
}

export function readTransfer(workspace: Workspace, id: string): AcceptedTransfer | undefined {
  return workspace.transfers.get(id) ?? workspace.base.transfers.get(id);
}

export function readHold(workspace: Workspace, id: string): PendingHold | undefined {
  return workspace.holds.get(id) ?? workspace.base.holds.get(id);
}

function writeEntry<V>(workspace: Workspace, map: Map<string, V>, key: string, value: V): void {
  if (workspace.undo !== null) {
    const previous = map.get(key);
    workspace.undo.push(() => {
      if (previous === undefined) map.delete(key);
      else map.set(key, previous);
    });
  }
  map.set(key, value);
}

export function writeAccount(workspace: Workspace, account: Account): void {
  writeEntry(workspace, workspace.accounts, account.id, account);
}

export function writeTransfer(workspace: Workspace, transfer: AcceptedTransfer): void {
  writeEntry(workspace, workspace.transfers, transfer.id, transfer);
}

export function writeHold(workspace: Workspace, hold: PendingHold): void {
  writeEntry(workspace, workspace.holds, hold.transferId, hold);
}

/** Advances the workspace clock; undone with the chain like any other write. */
export function advanceTimestamp(workspace: Workspace, timestampNs: bigint): void {
  assertInvariant(timestampNs > workspace.lastTimestampNs, 'timestamps must strictly increase');
  if (workspace.undo !== null) {
    const previous = workspace.lastTimestampNs;
    workspace.undo.push(() => {
      workspace.lastTimestampNs = previous;
    });
  }
  workspace.lastTimestampNs = timestampNs;
}

export function beginChain(workspace: Workspace): void {
  assertInvariant(workspace.undo === null, 'linked chains do not nest');
  workspace.undo = [];
}

export function commitChain(workspace: Workspace): void {
  assertInvariant(workspace.undo !== null, 'no linked chain is open');
  workspace.undo = null;
}

export function rollbackChain(workspace: Workspace): void {
  const undo = workspace.undo;
  assertInvariant(undo !== null, 'no linked chain is open');
  for (let index = undo.length - 1; index >= 0; index -= 1) undo[index]?.();
  workspace.undo = null;
}
