import { assertInvariant } from './errors.js';
import {
  advanceTimestamp,
  readAccount,
  readHold,
  writeAccount,
  writeHold,
  writeTransfer,
  type PendingHold,
  type Workspace,
} from './state.js';
import { LIMITS, type Account, type AcceptedTransfer } from './types.js';

/**
 * The effect of one accepted transfer on balances and holds. Shared by the decider (after its
 * checks passed) and by `evolve` (loading events), so the two can never disagree on what a
 * transfer does. Everything here is asserted, not checked: a failure means the transfer should
 * never have been accepted, or a stored event or snapshot is corrupt.
 */
export function applyAccepted(workspace: Workspace, transfer: AcceptedTransfer): void {
  assertInvariant(
    transfer.timestamp > workspace.lastTimestampNs,
    `transfer ${transfer.id}: timestamps must strictly increase`,
  );
  assertInvariant(readTransferAbsent(workspace, transfer.id), `transfer ${transfer.id} applied twice`);
  assertInvariant(transfer.amountMinor > 0n, `transfer ${transfer.id}: amount must be positive`);
  if (transfer.flags.postPending === true || transfer.flags.voidPending === true) {
    resolveHold(workspace, transfer);
  } else {
    moveOrHold(workspace, transfer);
  }
  writeTransfer(workspace, transfer);
  advanceTimestamp(workspace, transfer.timestamp);
}

function readTransferAbsent(workspace: Workspace, id: string): boolean {
  return !workspace.transfers.has(id) && !workspace.base.transfers.has(id);
}

function mustReadAccount(workspace: Workspace, id: string, transfer: AcceptedTransfer): Account {
  const account = readAccount(workspace, id);
  assertInvariant(account !== undefined, `transfer ${transfer.id}: account ${id} is not loaded`);
  assertInvariant(
    account.currency === transfer.currency,
    `transfer ${transfer.id}: account ${id} is not in ${transfer.currency}`,
  );
  return account;
}

/** A single-phase transfer posts at once; a pending one holds the amount. */
function moveOrHold(workspace: Workspace, transfer: AcceptedTransfer): void {
  const debit = mustReadAccount(workspace, transfer.debitAccountId, transfer);
  const credit = mustReadAccount(workspace, transfer.creditAccountId, transfer);
  assertInvariant(debit.id !== credit.id, `transfer ${transfer.id}: accounts must differ`);
  assertInvariant(debit.closed !== true && credit.closed !== true, `transfer ${transfer.id}: account closed`);
  const amount = transfer.amountMinor;
  const pending = transfer.flags.pending === true;
  const nextDebit: Account = pending
    ? { ...debit, debitsPending: debit.debitsPending + amount }
    : { ...debit, debitsPosted: debit.debitsPosted + amount };
  const nextCredit: Account = pending
    ? { ...credit, creditsPending: credit.creditsPending + amount }
    : { ...credit, creditsPosted: credit.creditsPosted + amount };
  writeBoth(workspace, transfer, nextDebit, nextCredit);
  if (!pending) return;
  const timeoutSeconds = transfer.timeoutSeconds ?? 0;
  writeHold(workspace, {
    transferId: transfer.id,
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    currency: transfer.currency,
    heldMinor: amount,
    expiresAtNs: timeoutSeconds > 0 ? transfer.timestamp + BigInt(timeoutSeconds) * 1_000_000_000n : null,
    status: 'pending',
    postedMinor: 0n,
  });
}

/** Post, void or expiry: release the whole hold, then post what the transfer says. */
function resolveHold(workspace: Workspace, transfer: AcceptedTransfer): void {
  const pendingId = transfer.pendingId ?? '';
  const hold = readHold(workspace, pendingId);
  assertInvariant(hold !== undefined, `transfer ${transfer.id}: hold ${pendingId} is not loaded`);
  assertInvariant(
    hold.status === 'pending',
    `transfer ${transfer.id}: hold ${pendingId} already ${hold.status}`,
  );
  assertInvariant(
    hold.debitAccountId === transfer.debitAccountId && hold.creditAccountId === transfer.creditAccountId,
    `transfer ${transfer.id}: accounts differ from hold ${pendingId}`,
  );
  const posting = transfer.flags.postPending === true;
  const postedMinor = posting ? transfer.amountMinor : 0n;
  assertInvariant(
    posting ? postedMinor <= hold.heldMinor : transfer.amountMinor === hold.heldMinor,
    `transfer ${transfer.id}: amount does not fit hold ${pendingId}`,
  );
  const debit = mustReadAccount(workspace, hold.debitAccountId, transfer);
  const credit = mustReadAccount(workspace, hold.creditAccountId, transfer);
  assertInvariant(
    !posting || (debit.closed !== true && credit.closed !== true),
    `transfer ${transfer.id}: cannot post into a closed account`,
  );
  const nextDebit: Account = {
    ...debit,
    debitsPending: debit.debitsPending - hold.heldMinor,
    debitsPosted: debit.debitsPosted + postedMinor,
  };
  const nextCredit: Account = {
    ...credit,
    creditsPending: credit.creditsPending - hold.heldMinor,
    creditsPosted: credit.creditsPosted + postedMinor,
  };
  writeBoth(workspace, transfer, nextDebit, nextCredit);
  const status: PendingHold['status'] = posting
    ? 'posted'
    : transfer.code === 'hold_expiry'
      ? 'expired'
      : 'voided';
  writeHold(workspace, { ...hold, status, postedMinor, resolvedById: transfer.id });
}

function writeBoth(workspace: Workspace, transfer: AcceptedTransfer, debit: Account, credit: Account): void {
  const closedDebit = transfer.flags.closingDebit === true ? { ...debit, closed: true } : debit;
  const closedCredit = transfer.flags.closingCredit === true ? { ...credit, closed: true } : credit;
  assertAccountBounds(closedDebit);
  assertAccountBounds(closedCredit);
  writeAccount(workspace, closedDebit);
  writeAccount(workspace, closedCredit);
}

/** The invariants every account satisfies after every accepted transfer. */
export function assertAccountBounds(account: Account): void {
  const columns = [
    account.debitsPending,
    account.debitsPosted,
    account.creditsPending,
    account.creditsPosted,
  ];
  for (const value of columns) {
    assertInvariant(
      value >= 0n && value <= LIMITS.balanceMaxMinor,
      `account ${account.id}: a balance column left [0, 2^63-1]`,
    );
  }
  assertInvariant(
    !(account.flags.debitsMustNotExceedCredits && account.flags.creditsMustNotExceedDebits),
    `account ${account.id}: both balance flags set`,
  );
  if (account.flags.debitsMustNotExceedCredits) {
    assertInvariant(
      account.debitsPending + account.debitsPosted <= account.creditsPosted,
      `account ${account.id}: debits exceed credits`,
    );
  }
  if (account.flags.creditsMustNotExceedDebits) {
    assertInvariant(
      account.creditsPending + account.creditsPosted <= account.debitsPosted,
      `account ${account.id}: credits exceed debits`,
    );
  }
}
