import { readAccount, readHold, readTransfer, type PendingHold, type Workspace } from './state.js';
import {
  CURRENCIES,
  LIMITS,
  SYSTEM_ID_PREFIX,
  TRANSFER_CODES,
  type Account,
  type AcceptedTransfer,
  type CreateTransferResult,
  type Transfer,
  type TransferFlags,
  type UserData,
} from './types.js';

/**
 * The checks a transfer must pass before it is accepted, each returning the first failing
 * result code. Pure reads of the workspace; nothing here writes.
 */

type Failure = Exclude<CreateTransferResult, 'ok'>;

/** What the checks resolved: the accounts and the amount the transfer will actually move. */
export interface Resolution {
  readonly debitAccount: Account;
  readonly creditAccount: Account;
  readonly amountMinor: bigint;
}

const TRANSFER_CODE_SET: ReadonlySet<string> = new Set(TRANSFER_CODES);
const CURRENCY_SET: ReadonlySet<string> = new Set(CURRENCIES);
const FLAG_NAMES = [
  'linked',
  'pending',
  'postPending',
  'voidPending',
  'closingDebit',
  'closingCredit',
] as const;

export function isPostOrVoid(transfer: Transfer): boolean {
  return transfer.flags.postPending === true || transfer.flags.voidPending === true;
}

/** Checks that come before the idempotency lookup: without a usable id there is nothing to look up. */
export function checkIdentity(transfer: Transfer): Failure | null {
  if (transfer.id === '') return 'id_must_not_be_empty';
  if (transfer.id.length > LIMITS.transferIdMaxLength) return 'id_too_long';
  if (transfer.id.startsWith(SYSTEM_ID_PREFIX)) return 'id_reserved_for_system';
  if (transfer.timestamp !== undefined) return 'timestamp_must_be_zero';
  return null;
}

/**
 * Idempotency: a retry must carry the same body. Fields a post/void may leave empty (accounts,
 * amount 0 = "the whole hold") match whatever the stored transfer resolved them to.
 * Returns the name of the first differing field, or null when the bodies match.
 */
export function firstDifferentField(transfer: Transfer, existing: AcceptedTransfer): string | null {
  for (const name of FLAG_NAMES) {
    if ((transfer.flags[name] === true) !== (existing.flags[name] === true)) return `flags.${name}`;
  }
  const resolvesFromHold = isPostOrVoid(existing);
  const inherits = (value: string): boolean => resolvesFromHold && value === '';
  if (!inherits(transfer.debitAccountId) && transfer.debitAccountId !== existing.debitAccountId) {
    return 'debitAccountId';
  }
  if (!inherits(transfer.creditAccountId) && transfer.creditAccountId !== existing.creditAccountId) {
    return 'creditAccountId';
  }
  const amountInherited = resolvesFromHold && transfer.amountMinor === 0n;
  if (!amountInherited && transfer.amountMinor !== existing.amountMinor) return 'amountMinor';
  if (transfer.currency !== existing.currency) return 'currency';
  if (transfer.code !== existing.code) return 'code';
  if ((transfer.pendingId ?? '') !== (existing.pendingId ?? '')) return 'pendingId';
  if ((transfer.timeoutSeconds ?? 0) !== (existing.timeoutSeconds ?? 0)) return 'timeoutSeconds';
  if (!sameUserData(transfer.userData, existing.userData)) return 'userData';
  return null;
}

function definedEntries(userData: UserData | undefined): Array<[string, string]> {
  if (userData === undefined) return [];
  const entries: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(userData)) if (value !== undefined) entries.push([key, value]);
  return entries.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}

function sameUserData(left: UserData | undefined, right: UserData | undefined): boolean {
  const leftEntries = definedEntries(left);
  const rightEntries = definedEntries(right);
  if (leftEntries.length !== rightEntries.length) return false;
  return leftEntries.every(([key, value], index) => {
    const other = rightEntries[index];
    return other !== undefined && other[0] === key && other[1] === value;
  });
}

/** The user data as stored: only defined entries, key-sorted; undefined when empty. */
export function normalizeUserData(userData: UserData | undefined): UserData | undefined {
  const entries = definedEntries(userData);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

/** Flags as stored: only the ones that are set. */
export function normalizeFlags(flags: TransferFlags): TransferFlags {
  const normalized: Record<string, boolean> = {};
  for (const name of FLAG_NAMES) if (flags[name] === true) normalized[name] = true;
  return normalized;
}

/** Checks on the transfer alone (no lookups). */
export function checkShape(transfer: Transfer): Failure | null {
  const { flags } = transfer;
  const phases = [flags.pending, flags.postPending, flags.voidPending].filter((flag) => flag === true).length;
  if (phases > 1) return 'flags_are_mutually_exclusive';
  // Closing is permanent here (see README), so it cannot ride on a hold that a void would undo.
  if (flags.pending === true && (flags.closingDebit === true || flags.closingCredit === true)) {
    return 'flags_are_mutually_exclusive';
  }
  if (!TRANSFER_CODE_SET.has(transfer.code)) return 'code_invalid';
  if (transfer.code === 'hold_expiry') return 'code_reserved_for_system';
  if (!CURRENCY_SET.has(transfer.currency)) return 'currency_invalid';
  if (!validUserData(transfer.userData)) return 'user_data_invalid';
  if (transfer.amountMinor < 0n) return 'amount_must_not_be_negative';
  const timeoutSeconds = transfer.timeoutSeconds ?? 0;
  if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 0) return 'timeout_invalid';
  if (timeoutSeconds > LIMITS.timeoutMaxSeconds) return 'overflows_timeout';
  if (timeoutSeconds > 0 && flags.pending !== true) return 'timeout_reserved_for_pending_transfer';
  return null;
}

function validUserData(userData: UserData | undefined): boolean {
  if (userData === undefined) return true;
  if (typeof userData !== 'object' || userData === null) return false;
  const entries = Object.entries(userData).filter(([, value]) => value !== undefined);
  if (entries.length > LIMITS.userDataMaxEntries) return false;
  return entries.every(
    ([key, value]) =>
      key.length > 0 &&
      key.length <= LIMITS.userDataKeyMaxLength &&
      typeof value === 'string' &&
      value.length <= LIMITS.userDataValueMaxLength,
  );
}

/** A single-phase or pending transfer: accounts, currency, closure, overflow, balance limits. */
export function checkSinglePhase(workspace: Workspace, transfer: Transfer): Failure | Resolution {
  if (transfer.pendingId !== undefined && transfer.pendingId !== '') return 'pending_id_must_be_empty';
  if (transfer.debitAccountId === '') return 'debit_account_id_must_not_be_empty';
  if (transfer.creditAccountId === '') return 'credit_account_id_must_not_be_empty';
  if (transfer.debitAccountId === transfer.creditAccountId) return 'accounts_must_be_different';
  if (transfer.amountMinor === 0n) return 'amount_must_not_be_zero';
  const debitAccount = readAccount(workspace, transfer.debitAccountId);
  if (debitAccount === undefined) return 'debit_account_not_found';
  const creditAccount = readAccount(workspace, transfer.creditAccountId);
  if (creditAccount === undefined) return 'credit_account_not_found';
  if (debitAccount.currency !== creditAccount.currency || transfer.currency !== debitAccount.currency) {
    return 'currency_mismatch';
  }
  if (debitAccount.closed === true || creditAccount.closed === true) return 'account_closed';
  const amountMinor = transfer.amountMinor;
  const limits = checkBalanceLimits(
    debitAccount,
    creditAccount,
    amountMinor,
    transfer.flags.pending === true,
  );
  return limits ?? { debitAccount, creditAccount, amountMinor };
}

/** TigerBeetle's order: overflows first, then exceeds_credits (debit side), exceeds_debits. */
function checkBalanceLimits(
  debit: Account,
  credit: Account,
  amountMinor: bigint,
  pending: boolean,
): Failure | null {
  const max = LIMITS.balanceMaxMinor;
  if (pending && debit.debitsPending + amountMinor > max) return 'overflows_debits_pending';
  if (pending && credit.creditsPending + amountMinor > max) return 'overflows_credits_pending';
  if (!pending && debit.debitsPosted + amountMinor > max) return 'overflows_debits_posted';
  if (!pending && credit.creditsPosted + amountMinor > max) return 'overflows_credits_posted';
  if (debit.debitsPending + debit.debitsPosted + amountMinor > max) return 'overflows_debits';
  if (credit.creditsPending + credit.creditsPosted + amountMinor > max) return 'overflows_credits';
  // Pending debits count: a hold reserves the money, so two holds cannot spend it twice.
  if (
    debit.flags.debitsMustNotExceedCredits &&
    debit.debitsPending + debit.debitsPosted + amountMinor > debit.creditsPosted
  ) {
    return 'exceeds_credits';
  }
  if (
    credit.flags.creditsMustNotExceedDebits &&
    credit.creditsPending + credit.creditsPosted + amountMinor > credit.debitsPosted
  ) {
    return 'exceeds_debits';
  }
  return null;
}

/** A post or void: the hold must exist, still be pending, be unexpired at `timestampNs`, and fit. */
export function checkPostOrVoid(
  workspace: Workspace,
  transfer: Transfer,
  timestampNs: bigint,
): Failure | Resolution {
  const pendingId = transfer.pendingId ?? '';
  if (pendingId === '') return 'pending_id_required';
  if (pendingId === transfer.id) return 'pending_id_must_be_different';
  const pending = readTransfer(workspace, pendingId);
  if (pending === undefined) return 'pending_transfer_not_found';
  if (pending.flags.pending !== true) return 'pending_transfer_not_pending';
  if (
    (transfer.debitAccountId !== '' && transfer.debitAccountId !== pending.debitAccountId) ||
    (transfer.creditAccountId !== '' && transfer.creditAccountId !== pending.creditAccountId)
  ) {
    return 'pending_transfer_has_different_accounts';
  }
  if (transfer.currency !== pending.currency) return 'pending_transfer_has_different_currency';
  const hold = readHold(workspace, pendingId);
  if (hold === undefined) return 'pending_transfer_not_found';
  const status = checkHoldStatus(hold, timestampNs);
  if (status !== null) return status;
  const amountMinor = resolveAmount(transfer, hold);
  if (typeof amountMinor === 'string') return amountMinor;
  const debitAccount = readAccount(workspace, hold.debitAccountId);
  if (debitAccount === undefined) return 'debit_account_not_found';
  const creditAccount = readAccount(workspace, hold.creditAccountId);
  if (creditAccount === undefined) return 'credit_account_not_found';
  // A void only releases money, so it may touch a closed account; a post may not.
  const posting = transfer.flags.postPending === true;
  if (posting && (debitAccount.closed === true || creditAccount.closed === true)) return 'account_closed';
  return { debitAccount, creditAccount, amountMinor };
}

function checkHoldStatus(hold: PendingHold, timestampNs: bigint): Failure | null {
  if (hold.status === 'posted') return 'pending_transfer_already_posted';
  if (hold.status === 'voided') return 'pending_transfer_already_voided';
  if (hold.status === 'expired') return 'pending_transfer_expired';
  // Expired by time even if the sweep has not run yet: time is the batch's, not a clock's.
  if (hold.expiresAtNs !== null && timestampNs >= hold.expiresAtNs) return 'pending_transfer_expired';
  return null;
}

/** Post: 0 means the whole hold, else at most the hold. Void: 0 or exactly the hold. */
function resolveAmount(transfer: Transfer, hold: PendingHold): Failure | bigint {
  if (transfer.flags.postPending === true) {
    if (transfer.amountMinor === 0n) return hold.heldMinor;
    return transfer.amountMinor > hold.heldMinor ? 'exceeds_pending_transfer_amount' : transfer.amountMinor;
  }
  if (transfer.amountMinor !== 0n && transfer.amountMinor !== hold.heldMinor) {
    return 'pending_transfer_has_different_amount';
  }
  return hold.heldMinor;
}
