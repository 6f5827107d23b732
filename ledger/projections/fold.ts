import type { Account, AcceptedTransfer, Currency, LedgerBatchEvent } from '../rules/index.js';

/**
 * The read models' own fold of ledger batches into rows (pure): balances, statement entries with
 * the running balance after each, holds, trial-balance deltas. Kept apart from the rules' code on
 * purpose, so that `verify` comparing the two is a real cross-check.
 */

export interface BalanceRow {
  id: string;
  currency: Currency;
  kind: string;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
  closed: boolean;
  entryCount: bigint;
}

export type EntryPhase = 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expired';

export interface EntryRow {
  accountId: string;
  entryNo: bigint;
  transferId: string;
  stream: string;
  eventRevision: bigint;
  timestampNs: bigint;
  code: string;
  side: 'debit' | 'credit';
  phase: EntryPhase;
  amountMinor: bigint;
  releasedMinor: bigint;
  counterpartyAccountId: string;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
  userData: string | null;
}

export interface HoldRow {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  currency: Currency;
  heldMinor: bigint;
  expiresAtNs: bigint | null;
  createdTimestampNs: bigint;
  status: 'pending' | 'posted' | 'voided' | 'expired';
  postedMinor: bigint;
  resolvedById: string | null;
}

export interface TrialDelta {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  accounts: bigint;
}

export interface FoldState {
  readonly balances: Map<string, BalanceRow>;
  readonly holds: Map<string, HoldRow>;
  readonly entries: EntryRow[];
  readonly trial: Map<Currency, TrialDelta>;
  readonly touchedBalances: Set<string>;
  readonly touchedHolds: Set<string>;
}

export function emptyFold(): FoldState {
  return {
    balances: new Map(),
    holds: new Map(),
    entries: [],
    trial: new Map(),
    touchedBalances: new Set(),
    touchedHolds: new Set(),
  };
}

function trialOf(fold: FoldState, currency: Currency): TrialDelta {
  let line = fold.trial.get(currency);
  if (line === undefined) {
    line = { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n, accounts: 0n };
    fold.trial.set(currency, line);
  }
  return line;
}

function openAccount(fold: FoldState, account: Account): void {
  fold.balances.set(account.id, {
    id: account.id,
    currency: account.currency,
    kind: account.kind,
    debitsMustNotExceedCredits: account.flags.debitsMustNotExceedCredits,
    creditsMustNotExceedDebits: account.flags.creditsMustNotExceedDebits,
    debitsPending: 0n,
    debitsPosted: 0n,
    creditsPending: 0n,
    creditsPosted: 0n,
    closed: false,
    entryCount: 0n,
  });
  fold.touchedBalances.add(account.id);
  trialOf(fold, account.currency).accounts += 1n;
}

function mustBalance(fold: FoldState, id: string, transfer: AcceptedTransfer): BalanceRow {
  const row = fold.balances.get(id);
  if (row === undefined)
    throw new Error(`ledger projection: transfer ${transfer.id} names unknown account ${id}`);
  return row;
}

/** Applies one stored batch; `balances` and `holds` must already hold every row it touches. */
export function foldEvent(fold: FoldState, stream: string, revision: bigint, event: LedgerBatchEvent): void {
  for (const account of event.accountsCreated) openAccount(fold, account);
  for (const transfer of event.transfersAccepted) foldTransfer(fold, stream, revision, transfer);
}

function phaseOf(transfer: AcceptedTransfer): EntryPhase {
  if (transfer.flags.pending === true) return 'pending';
  if (transfer.flags.postPending === true) return 'post_pending';
  if (transfer.flags.voidPending === true)
    return transfer.code === 'hold_expiry' ? 'expired' : 'void_pending';
  return 'posted';
}

function foldTransfer(fold: FoldState, stream: string, revision: bigint, transfer: AcceptedTransfer): void {
  const debit = mustBalance(fold, transfer.debitAccountId, transfer);
  const credit = mustBalance(fold, transfer.creditAccountId, transfer);
  const phase = phaseOf(transfer);
  const trial = trialOf(fold, transfer.currency);
  let released = 0n;
  let posted = 0n;
  let held = 0n;
  if (phase === 'posted') posted = transfer.amountMinor;
  else if (phase === 'pending') held = transfer.amountMinor;
  else {
    const hold = fold.holds.get(transfer.pendingId ?? '');
    if (hold === undefined)
      throw new Error(`ledger projection: ${transfer.id} resolves unknown hold ${transfer.pendingId ?? ''}`);
    released = hold.heldMinor;
    posted = phase === 'post_pending' ? transfer.amountMinor : 0n;
    hold.status = phase === 'post_pending' ? 'posted' : phase === 'expired' ? 'expired' : 'voided';
    hold.postedMinor = posted;
    hold.resolvedById = transfer.id;
    fold.touchedHolds.add(hold.transferId);
  }
  debit.debitsPending += held - released;
  credit.creditsPending += held - released;
  debit.debitsPosted += posted;
  credit.creditsPosted += posted;
  trial.debitsPending += held - released;
  trial.creditsPending += held - released;
  trial.debitsPosted += posted;
  trial.creditsPosted += posted;
  if (transfer.flags.closingDebit === true) debit.closed = true;
  if (transfer.flags.closingCredit === true) credit.closed = true;
  if (phase === 'pending') addHold(fold, transfer);
  for (const [row, side, other] of [
    [debit, 'debit', credit],
    [credit, 'credit', debit],
  ] as const) {
    row.entryCount += 1n;
    fold.touchedBalances.add(row.id);
    fold.entries.push({
      accountId: row.id,
      entryNo: row.entryCount,
      transferId: transfer.id,
      stream,
      eventRevision: revision,
      timestampNs: transfer.timestamp,
      code: transfer.code,
      side,
      phase,
      amountMinor: transfer.amountMinor,
      releasedMinor: released,
      counterpartyAccountId: other.id,
      debitsPending: row.debitsPending,
      debitsPosted: row.debitsPosted,
      creditsPending: row.creditsPending,
      creditsPosted: row.creditsPosted,
      userData: transfer.userData === undefined ? null : JSON.stringify(transfer.userData),
    });
  }
}

function addHold(fold: FoldState, transfer: AcceptedTransfer): void {
  const timeoutSeconds = transfer.timeoutSeconds ?? 0;
  fold.holds.set(transfer.id, {
    transferId: transfer.id,
    debitAccountId: transfer.debitAccountId,
    creditAccountId: transfer.creditAccountId,
    currency: transfer.currency,
    heldMinor: transfer.amountMinor,
    expiresAtNs: timeoutSeconds > 0 ? transfer.timestamp + BigInt(timeoutSeconds) * 1_000_000_000n : null,
    createdTimestampNs: transfer.timestamp,
    status: 'pending',
    postedMinor: 0n,
    resolvedById: null,
  });
  fold.touchedHolds.add(transfer.id);
}

/** Accounts and holds an event needs loaded before folding (those it does not create itself). */
export function referencesOf(event: LedgerBatchEvent): { accountIds: string[]; holdIds: string[] } {
  const created = new Set(event.accountsCreated.map((account) => account.id));
  const accountIds = new Set<string>();
  const holdIds = new Set<string>();
  const pendingHere = new Set<string>();
  for (const transfer of event.transfersAccepted) {
    for (const id of [transfer.debitAccountId, transfer.creditAccountId])
      if (!created.has(id)) accountIds.add(id);
    if (transfer.flags.pending === true) pendingHere.add(transfer.id);
    const pendingId = transfer.pendingId;
    if (pendingId !== undefined && pendingId !== '' && !pendingHere.has(pendingId)) holdIds.add(pendingId);
  }
  return { accountIds: [...accountIds], holdIds: [...holdIds] };
}
