import {
  checkIdentity,
  checkPostOrVoid,
  checkShape,
  checkSinglePhase,
  firstDifferentField,
  isPostOrVoid,
  normalizeFlags,
  normalizeUserData,
  type Resolution,
} from './checks.js';
import { applyAccepted, assertAccountBounds } from './effects.js';
import { assertInvariant } from './errors.js';
import {
  beginChain,
  commitChain,
  commitChanges,
  openWorkspace,
  readAccount,
  rollbackChain,
  workspaceChanges,
  writeAccount,
  type LedgerChanges,
  type LedgerState,
  type PendingHold,
  type Workspace,
} from './state.js';
import {
  ACCOUNT_KINDS,
  CURRENCIES,
  LIMITS,
  SYSTEM_ID_PREFIX,
  type Account,
  type AcceptedTransfer,
  type CreateAccountResult,
  type CreateTransferResult,
  type LedgerBatchBody,
  type NewAccount,
  type Transfer,
} from './types.js';

export interface TransferResultEntry {
  readonly index: number;
  readonly id: string;
  readonly result: CreateTransferResult;
  /** For exists_with_different_fields: the first field that differs. */
  readonly detail?: string;
}

export interface AccountResultEntry {
  readonly index: number;
  readonly id: string;
  readonly result: CreateAccountResult;
}

export interface TransferBatchOutcome {
  /** One entry per input transfer, in input order. */
  readonly results: readonly TransferResultEntry[];
  /** The accepted transfers, resolved (accounts, amount, timestamp), in input order. */
  readonly accepted: readonly AcceptedTransfer[];
  readonly changes: LedgerChanges;
}

export interface AccountBatchOutcome {
  readonly results: readonly AccountResultEntry[];
  readonly accepted: readonly Account[];
  readonly changes: LedgerChanges;
}

export interface BatchOutcome {
  readonly accountResults: readonly AccountResultEntry[];
  readonly transferResults: readonly TransferResultEntry[];
  /** What to append as the batch event (empty when nothing was accepted). */
  readonly body: LedgerBatchBody;
  readonly changes: LedgerChanges;
}

interface Executed {
  readonly result: CreateTransferResult;
  readonly accepted?: AcceptedTransfer;
  readonly detail?: string;
}

/**
 * Decides a batch of transfers against the state at time `nowMs`, TigerBeetle's semantics.
 * Pure: the state is not touched; apply `changes` with `commitChanges` once the batch event is
 * durably appended. A rejected transfer or failed chain leaves no trace in `changes`.
 */
export function createTransfers(
  state: LedgerState,
  transfers: readonly Transfer[],
  nowMs: number,
): TransferBatchOutcome {
  const workspace = openWorkspace(state);
  const { results, accepted } = decideTransfers(workspace, transfers, nowMs);
  return { results, accepted, changes: workspaceChanges(workspace) };
}

/** Opens accounts (zero balances). Pure, like createTransfers. */
export function createAccounts(state: LedgerState, accounts: readonly NewAccount[]): AccountBatchOutcome {
  const workspace = openWorkspace(state);
  const { results, accepted } = decideAccounts(workspace, accounts);
  return { results, accepted, changes: workspaceChanges(workspace) };
}

/**
 * What the writer calls per batch: opens accounts, then decides transfers against them, in one
 * overlay, so that a batch event can both open an account and move money through it.
 */
export function decideBatch(
  state: LedgerState,
  batch: { readonly accounts?: readonly NewAccount[]; readonly transfers?: readonly Transfer[] },
  nowMs: number,
): BatchOutcome {
  const workspace = openWorkspace(state);
  const accountsDecided = decideAccounts(workspace, batch.accounts ?? []);
  const transfersDecided = decideTransfers(workspace, batch.transfers ?? [], nowMs);
  return {
    accountResults: accountsDecided.results,
    transferResults: transfersDecided.results,
    body: { accountsCreated: accountsDecided.accepted, transfersAccepted: transfersDecided.accepted },
    changes: workspaceChanges(workspace),
  };
}

/** The first timestamp a batch decided at `nowMs` may use: never behind the last one. */
export function firstTimestampNs(lastTimestampNs: bigint, nowMs: number): bigint {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0)
    throw new RangeError(`nowMs must be a non-negative integer: ${nowMs}`);
  const nowNs = BigInt(nowMs) * 1_000_000n;
  return nowNs > lastTimestampNs ? nowNs : lastTimestampNs + 1n;
}

function assertBatchSize(length: number): void {
  if (length > LIMITS.batchMaxEvents) {
    throw new RangeError(`a batch holds at most ${LIMITS.batchMaxEvents} events, got ${length}`);
  }
}

function decideTransfers(
  workspace: Workspace,
  transfers: readonly Transfer[],
  nowMs: number,
): { results: TransferResultEntry[]; accepted: AcceptedTransfer[] } {
  assertBatchSize(transfers.length);
  // Every event of the batch gets its own timestamp, accepted or not, as in TigerBeetle.
  const baseNs = firstTimestampNs(workspace.lastTimestampNs, nowMs);
  const results: TransferResultEntry[] = [];
  const accepted: AcceptedTransfer[] = [];
  let start = 0;
  while (start < transfers.length) {
    let end = start;
    while (end < transfers.length - 1 && transfers[end]?.flags.linked === true) end += 1;
    const executed =
      end === start && transfers[start]?.flags.linked !== true
        ? [executeTransfer(workspace, at(transfers, start), baseNs + BigInt(start))]
        : executeChain(workspace, transfers, start, end, baseNs);
    executed.forEach((outcome, offset) => {
      const index = start + offset;
      const entry: TransferResultEntry = { index, id: at(transfers, index).id, result: outcome.result };
      results.push(outcome.detail === undefined ? entry : { ...entry, detail: outcome.detail });
      if (outcome.result === 'ok' && outcome.accepted !== undefined) accepted.push(outcome.accepted);
    });
    start = end + 1;
  }
  return { results, accepted };
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  assertInvariant(item !== undefined, `index ${index} out of range`);
  return item;
}

/**
 * A linked chain [start, end] succeeds or fails as a whole. The first member that fails reports
 * its own code and the others linked_event_failed; a chain still open at the end of the batch
 * fails with linked_event_chain_open on its last member. A chain whose members all already
 * exist reports `exists` for each (a whole-chain retry); a chain mixing new and existing members
 * fails at its first existing one, as in TigerBeetle, where `exists` breaks a chain.
 */
function executeChain(
  workspace: Workspace,
  transfers: readonly Transfer[],
  start: number,
  end: number,
  baseNs: bigint,
): Executed[] {
  const length = end - start + 1;
  if (at(transfers, end).flags.linked === true) {
    return Array.from({ length }, (_, offset) => ({
      result: offset === length - 1 ? 'linked_event_chain_open' : 'linked_event_failed',
    }));
  }
  beginChain(workspace);
  const executed: Executed[] = [];
  for (let index = start; index <= end; index += 1) {
    const outcome = executeTransfer(workspace, at(transfers, index), baseNs + BigInt(index));
    executed.push(outcome);
    if (outcome.result !== 'ok' && outcome.result !== 'exists') break;
  }
  const allOk = executed.length === length && executed.every((outcome) => outcome.result === 'ok');
  if (allOk) {
    commitChain(workspace);
    return executed;
  }
  rollbackChain(workspace);
  if (executed.length === length && executed.every((outcome) => outcome.result === 'exists')) return executed;
  const failedAt = executed.findIndex((outcome) => outcome.result !== 'ok' && outcome.result !== 'exists');
  const culprit = failedAt >= 0 ? failedAt : executed.findIndex((outcome) => outcome.result === 'exists');
  return Array.from({ length }, (_, offset): Executed => {
    const own = executed[offset];
    return offset === culprit && own !== undefined ? own : { result: 'linked_event_failed' };
  });
}

function executeTransfer(workspace: Workspace, transfer: Transfer, timestampNs: bigint): Executed {
  const identity = checkIdentity(transfer);
  if (identity !== null) return { result: identity };
  const existing = workspace.transfers.get(transfer.id) ?? workspace.base.transfers.get(transfer.id);
  if (existing !== undefined) {
    const detail = firstDifferentField(transfer, existing);
    return detail === null ? { result: 'exists' } : { result: 'exists_with_different_fields', detail };
  }
  const shape = checkShape(transfer);
  if (shape !== null) return { result: shape };
  const resolution = isPostOrVoid(transfer)
    ? checkPostOrVoid(workspace, transfer, timestampNs)
    : checkSinglePhase(workspace, transfer);
  if (typeof resolution === 'string') return { result: resolution };
  const accepted = acceptedTransfer(transfer, resolution, timestampNs);
  applyAccepted(workspace, accepted);
  return { result: 'ok', accepted };
}

/** The stored form: resolved accounts and amount, flags and user data normalized. */
function acceptedTransfer(transfer: Transfer, resolution: Resolution, timestampNs: bigint): AcceptedTransfer {
  const userData = normalizeUserData(transfer.userData);
  const timeoutSeconds = transfer.timeoutSeconds ?? 0;
  return {
    id: transfer.id,
    debitAccountId: resolution.debitAccount.id,
    creditAccountId: resolution.creditAccount.id,
    amountMinor: resolution.amountMinor,
    currency: transfer.currency,
    code: transfer.code,
    flags: normalizeFlags(transfer.flags),
    ...(isPostOrVoid(transfer) ? { pendingId: transfer.pendingId ?? '' } : {}),
    ...(timeoutSeconds > 0 ? { timeoutSeconds } : {}),
    ...(userData === undefined ? {} : { userData }),
    timestamp: timestampNs,
  };
}

const ACCOUNT_KIND_SET: ReadonlySet<string> = new Set(ACCOUNT_KINDS);
const CURRENCY_SET: ReadonlySet<string> = new Set(CURRENCIES);

function decideAccounts(
  workspace: Workspace,
  accounts: readonly NewAccount[],
): { results: AccountResultEntry[]; accepted: Account[] } {
  assertBatchSize(accounts.length);
  const results: AccountResultEntry[] = [];
  const accepted: Account[] = [];
  accounts.forEach((input, index) => {
    const result = checkNewAccount(workspace, input);
    results.push({ index, id: input.id, result });
    if (result !== 'ok') return;
    const account: Account = {
      id: input.id,
      currency: input.currency,
      kind: input.kind,
      flags: {
        debitsMustNotExceedCredits: input.flags.debitsMustNotExceedCredits,
        creditsMustNotExceedDebits: input.flags.creditsMustNotExceedDebits,
      },
      debitsPending: 0n,
      debitsPosted: 0n,
      creditsPending: 0n,
      creditsPosted: 0n,
    };
    assertAccountBounds(account);
    writeAccount(workspace, account);
    accepted.push(account);
  });
  return { results, accepted };
}

function checkNewAccount(workspace: Workspace, input: NewAccount): CreateAccountResult {
  if (input.id === '') return 'id_must_not_be_empty';
  if (input.id.length > LIMITS.accountIdMaxLength) return 'id_too_long';
  const existing = readAccount(workspace, input.id);
  if (existing !== undefined) {
    const same =
      existing.currency === input.currency &&
      existing.kind === input.kind &&
      existing.flags.debitsMustNotExceedCredits === input.flags.debitsMustNotExceedCredits &&
      existing.flags.creditsMustNotExceedDebits === input.flags.creditsMustNotExceedDebits;
    return same ? 'exists' : 'exists_with_different_fields';
  }
  if (!CURRENCY_SET.has(input.currency)) return 'currency_invalid';
  if (!ACCOUNT_KIND_SET.has(input.kind)) return 'kind_invalid';
  if (input.flags.debitsMustNotExceedCredits && input.flags.creditsMustNotExceedDebits) {
    return 'flags_are_mutually_exclusive';
  }
  const balances = [input.debitsPending, input.debitsPosted, input.creditsPending, input.creditsPosted];
  if (balances.some((value) => value !== undefined && value !== 0n)) return 'balances_must_be_zero';
  if (input.closed === true) return 'closed_must_not_be_set';
  return 'ok';
}

export interface ExpiryOutcome {
  /** The hold_expiry transfers to append, oldest expiry first. */
  readonly accepted: readonly AcceptedTransfer[];
  readonly changes: LedgerChanges;
  /** Holds already due that did not fit in this call (call again after committing). */
  readonly remaining: number;
}

/**
 * Expires every hold due at `nowMs` (expiresAt ≤ now), oldest first, at most `limit` per call.
 * Each expiry is recorded as a `hold_expiry` transfer (a void with id `sys:expiry:<pendingId>`)
 * so that replay sees it; the ledger never reads a clock on its own.
 */
export function expirePendingTransfers(
  state: LedgerState,
  nowMs: number,
  limit: number = LIMITS.batchMaxEvents,
): ExpiryOutcome {
  assertBatchSize(limit);
  const baseNs = firstTimestampNs(state.lastTimestampNs, nowMs);
  const nowNs = BigInt(nowMs) * 1_000_000n;
  const due = dueHolds(state, nowNs);
  const workspace = openWorkspace(state);
  const accepted = due.slice(0, limit).map((hold, index): AcceptedTransfer => ({
    id: `${SYSTEM_ID_PREFIX}expiry:${hold.transferId}`,
    debitAccountId: hold.debitAccountId,
    creditAccountId: hold.creditAccountId,
    amountMinor: hold.heldMinor,
    currency: hold.currency,
    code: 'hold_expiry',
    flags: { voidPending: true },
    pendingId: hold.transferId,
    timestamp: baseNs + BigInt(index),
  }));
  for (const transfer of accepted) applyAccepted(workspace, transfer);
  return { accepted, changes: workspaceChanges(workspace), remaining: due.length - accepted.length };
}

/**
 * Puts accounts the writer reloaded from its snapshot back in memory, asserting that each is
 * absent and sound (a snapshot that breaks a balance flag is corruption, not an operating error).
 */
export function loadAccounts(state: LedgerState, accounts: Iterable<Account>): void {
  for (const account of accounts) {
    assertInvariant(!state.accounts.has(account.id), `account ${account.id} is already loaded`);
    assertAccountBounds(account);
    state.accounts.set(account.id, account);
  }
}

/** Holds still pending whose expiry is at or before `nowNs`, oldest first, ties by id. */
function dueHolds(state: LedgerState, nowNs: bigint): Array<PendingHold & { expiresAtNs: bigint }> {
  const due: Array<PendingHold & { expiresAtNs: bigint }> = [];
  for (const id of state.openHoldIds) {
    const hold = state.holds.get(id);
    assertInvariant(hold !== undefined && hold.status === 'pending', `open hold ${id} is not pending`);
    const expiresAtNs = hold.expiresAtNs;
    if (expiresAtNs !== null && expiresAtNs <= nowNs) due.push({ ...hold, expiresAtNs });
  }
  // Set order depends on load history; sorting makes the sweep's batch the same on any writer.
  return due.sort((left, right) => {
    if (left.expiresAtNs !== right.expiresAtNs) return left.expiresAtNs < right.expiresAtNs ? -1 : 1;
    return left.transferId < right.transferId ? -1 : left.transferId > right.transferId ? 1 : 0;
  });
}

/**
 * Folds a stored batch event into the state (loading after a snapshot): the same effects as
 * deciding, asserted instead of checked. Mutates and returns the state, like commitChanges.
 */
export function evolve(state: LedgerState, body: LedgerBatchBody): LedgerState {
  const workspace = openWorkspace(state);
  for (const account of body.accountsCreated) {
    assertInvariant(readAccount(workspace, account.id) === undefined, `account ${account.id} created twice`);
    assertAccountBounds(account);
    writeAccount(workspace, account);
  }
  for (const transfer of body.transfersAccepted) applyAccepted(workspace, transfer);
  return commitChanges(state, workspaceChanges(workspace));
}
