import { decodeBatchEvent } from './codec.js';
import { batchBodyBytes, chainHash, GENESIS_HASH, isHashHex } from './hash.js';
import {
  CURRENCIES,
  type Account,
  type AcceptedTransfer,
  type Currency,
  type LedgerBatchEvent,
} from './types.js';

/**
 * An auditor's replay: folds batch events into balances with its own, deliberately simple
 * arithmetic (not the decider's code), so that a bug in the decider cannot hide itself, and
 * reports every way the history breaks the ledger's rules instead of stopping at the first.
 */

export const MISMATCH_KINDS = [
  'undecodable',
  'previous_hash_mismatch',
  'hash_mismatch',
  'final_hash_mismatch',
  'duplicate_account',
  'account_created_with_balance',
  'duplicate_transfer',
  'timestamp_not_increasing',
  'invalid_amount',
  'unknown_account',
  'same_account',
  'currency_mismatch',
  'closed_account_used',
  'hold_not_found',
  'hold_resolved_twice',
  'hold_accounts_mismatch',
  'posted_exceeds_held',
  'void_amount_mismatch',
  'bounds_exceeded',
  'unbalanced',
] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

export interface ReplayMismatch {
  /** Index of the event in the replayed sequence. */
  readonly eventIndex: number;
  readonly transferId?: string;
  readonly accountId?: string;
  readonly kind: MismatchKind;
  readonly detail: string;
}

export interface TrialBalanceLine {
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

export interface ReplayReport {
  readonly accounts: ReadonlyMap<string, Account>;
  /** Sums over all accounts per currency; debits equal credits in a sound ledger. */
  readonly trialBalance: Readonly<Record<Currency, TrialBalanceLine>>;
  /** The chain head recomputed from genesis over the bodies; compare with a trusted anchor. */
  readonly finalHash: string;
  readonly eventCount: number;
  readonly transferCount: number;
  readonly mismatches: readonly ReplayMismatch[];
}

export interface ReplayOptions {
  /** A head hash kept elsewhere (an anchor): detects a history rewritten and re-hashed whole. */
  readonly expectedFinalHash?: string;
}

type MutableAccount = { -readonly [K in keyof Account]: Account[K] };
type MutableLine = { -readonly [K in keyof TrialBalanceLine]: bigint };

interface ReplayHold {
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly heldMinor: bigint;
  resolvedBy: string | null;
}

interface Verifier {
  readonly accounts: Map<string, MutableAccount>;
  readonly holds: Map<string, ReplayHold>;
  readonly transferIds: Set<string>;
  readonly mismatches: ReplayMismatch[];
  /** Running per-currency sums, so that the per-event balance check is O(1), not O(accounts). */
  readonly totals: Record<Currency, MutableLine>;
  lastTimestampNs: bigint;
  transferCount: number;
}

/** An undecodable stored event is reported and skipped; its neighbours are still checked. */
export type ReplayEntry = LedgerBatchEvent | { readonly undecodable: string };

export function replay(events: readonly ReplayEntry[], options: ReplayOptions = {}): ReplayReport {
  const verifier: Verifier = {
    accounts: new Map(),
    holds: new Map(),
    transferIds: new Set(),
    mismatches: [],
    totals: zeroTotals(),
    lastTimestampNs: -1n,
    transferCount: 0,
  };
  let runningHash = GENESIS_HASH;
  let previousStoredHash: string | null = GENESIS_HASH;
  events.forEach((entry, eventIndex) => {
    if ('undecodable' in entry) {
      verifier.mismatches.push({ eventIndex, kind: 'undecodable', detail: entry.undecodable });
      previousStoredHash = null;
      return;
    }
    // The canonical body is encoded once per event and hashed twice (stored link, running head).
    const bodyBytes = batchBodyBytes(entry);
    checkChainLinks(verifier, entry, eventIndex, previousStoredHash, bodyBytes);
    previousStoredHash = entry.hash;
    runningHash = chainHash(runningHash, bodyBytes);
    foldEvent(verifier, entry, eventIndex);
  });
  if (options.expectedFinalHash !== undefined && options.expectedFinalHash !== runningHash) {
    verifier.mismatches.push({
      eventIndex: events.length - 1,
      kind: 'final_hash_mismatch',
      detail: `recomputed head ${runningHash} differs from the anchor ${options.expectedFinalHash}`,
    });
  }
  return {
    accounts: verifier.accounts,
    trialBalance: trialBalance(verifier.accounts.values()),
    finalHash: runningHash,
    eventCount: events.length,
    transferCount: verifier.transferCount,
    mismatches: verifier.mismatches,
  };
}

/** Decodes each stored event, then replays; undecodable ones are named by their index. */
export function replayEncoded(
  stored: readonly (string | Uint8Array)[],
  options: ReplayOptions = {},
): ReplayReport {
  const entries = stored.map((item): ReplayEntry => {
    try {
      return decodeBatchEvent(item);
    } catch (error) {
      return { undecodable: (error as Error).message };
    }
  });
  return replay(entries, options);
}

/**
 * Each event is checked locally (its link to the previous stored hash, its own hash over its
 * body), so a change is reported against the event that was changed, not every later one.
 */
function checkChainLinks(
  verifier: Verifier,
  event: LedgerBatchEvent,
  eventIndex: number,
  previousStoredHash: string | null,
  bodyBytes: Uint8Array,
): void {
  if (previousStoredHash !== null && event.previousHash !== previousStoredHash) {
    verifier.mismatches.push({
      eventIndex,
      kind: 'previous_hash_mismatch',
      detail: `previousHash ${event.previousHash} is not the previous event's hash ${previousStoredHash}`,
    });
  }
  const recomputed = isHashHex(event.previousHash) ? chainHash(event.previousHash, bodyBytes) : null;
  if (recomputed !== event.hash) {
    verifier.mismatches.push({
      eventIndex,
      kind: 'hash_mismatch',
      detail: `stored hash ${event.hash} is not SHA-256(previousHash ‖ body) ${recomputed ?? '(bad previousHash)'}`,
    });
  }
}

function foldEvent(verifier: Verifier, event: LedgerBatchEvent, eventIndex: number): void {
  const wasBalanced = CURRENCIES.map((currency) => isBalanced(verifier.totals[currency]));
  for (const account of event.accountsCreated) createAccount(verifier, account, eventIndex);
  for (const transfer of event.transfersAccepted) {
    verifier.transferCount += 1;
    foldTransfer(verifier, transfer, eventIndex);
  }
  // Checked per event so that an imbalance is named by the event that introduced it.
  CURRENCIES.forEach((currency, index) => {
    const line = verifier.totals[currency];
    if (isBalanced(line) || wasBalanced[index] !== true) return;
    verifier.mismatches.push({ eventIndex, kind: 'unbalanced', detail: describeImbalance(currency, line) });
  });
}

function isBalanced(line: TrialBalanceLine): boolean {
  return line.debitsPosted === line.creditsPosted && line.debitsPending === line.creditsPending;
}

function describeImbalance(currency: Currency, line: TrialBalanceLine): string {
  return (
    `${currency}: debits ${line.debitsPosted} posted, ${line.debitsPending} pending; ` +
    `credits ${line.creditsPosted} posted, ${line.creditsPending} pending`
  );
}

function createAccount(verifier: Verifier, account: Account, eventIndex: number): void {
  if (verifier.accounts.has(account.id)) {
    verifier.mismatches.push({
      eventIndex,
      accountId: account.id,
      kind: 'duplicate_account',
      detail: 'created twice',
    });
    return;
  }
  const balances = [
    account.debitsPending,
    account.debitsPosted,
    account.creditsPending,
    account.creditsPosted,
  ];
  if (balances.some((value) => value !== 0n) || account.closed === true) {
    verifier.mismatches.push({
      eventIndex,
      accountId: account.id,
      kind: 'account_created_with_balance',
      detail: 'a new account must start at zero and open',
    });
  }
  verifier.accounts.set(account.id, { ...account, flags: { ...account.flags } });
  addToTotals(verifier, account.currency, account);
}

function addToTotals(verifier: Verifier, currency: Currency, delta: TrialBalanceLine): void {
  const line = verifier.totals[currency];
  line.debitsPending += delta.debitsPending;
  line.debitsPosted += delta.debitsPosted;
  line.creditsPending += delta.creditsPending;
  line.creditsPosted += delta.creditsPosted;
}

type Report = (kind: MismatchKind, detail: string, accountId?: string) => void;

function foldTransfer(verifier: Verifier, transfer: AcceptedTransfer, eventIndex: number): void {
  const report: Report = (kind, detail, accountId) => {
    verifier.mismatches.push({
      eventIndex,
      transferId: transfer.id,
      ...(accountId === undefined ? {} : { accountId }),
      kind,
      detail,
    });
  };
  if (verifier.transferIds.has(transfer.id))
    return report('duplicate_transfer', 'transfer id accepted twice');
  verifier.transferIds.add(transfer.id);
  if (transfer.timestamp <= verifier.lastTimestampNs) {
    report('timestamp_not_increasing', `${transfer.timestamp} ≤ ${verifier.lastTimestampNs}`);
  } else {
    verifier.lastTimestampNs = transfer.timestamp;
  }
  if (transfer.amountMinor <= 0n) return report('invalid_amount', `amount ${transfer.amountMinor}`);
  if (transfer.flags.postPending === true || transfer.flags.voidPending === true) {
    foldResolution(verifier, transfer, report);
  } else {
    foldMovement(verifier, transfer, report);
  }
}

function lookupPair(
  verifier: Verifier,
  transfer: AcceptedTransfer,
  report: Report,
): [MutableAccount, MutableAccount] | null {
  const debit = verifier.accounts.get(transfer.debitAccountId);
  const credit = verifier.accounts.get(transfer.creditAccountId);
  if (debit === undefined) report('unknown_account', 'debit account never created', transfer.debitAccountId);
  if (credit === undefined)
    report('unknown_account', 'credit account never created', transfer.creditAccountId);
  if (debit === undefined || credit === undefined) return null;
  if (debit === credit) {
    report('same_account', 'debit and credit account are the same', debit.id);
    return null;
  }
  if (debit.currency !== transfer.currency || credit.currency !== transfer.currency) {
    report(
      'currency_mismatch',
      `${transfer.currency} transfer between ${debit.currency} and ${credit.currency}`,
    );
    return null;
  }
  return [debit, credit];
}

/** Single-phase (posted at once) or pending (held) transfer. */
function foldMovement(verifier: Verifier, transfer: AcceptedTransfer, report: Report): void {
  const pair = lookupPair(verifier, transfer, report);
  if (pair === null) return;
  const [debit, credit] = pair;
  for (const account of pair) {
    if (account.closed === true)
      report('closed_account_used', 'moved money through a closed account', account.id);
  }
  const amount = transfer.amountMinor;
  if (transfer.flags.pending === true) {
    debit.debitsPending += amount;
    credit.creditsPending += amount;
    addToTotals(verifier, transfer.currency, line(amount, 0n));
    verifier.holds.set(transfer.id, {
      debitAccountId: debit.id,
      creditAccountId: credit.id,
      heldMinor: amount,
      resolvedBy: null,
    });
  } else {
    debit.debitsPosted += amount;
    credit.creditsPosted += amount;
    addToTotals(verifier, transfer.currency, line(0n, amount));
  }
  closeAndCheck(transfer, debit, credit, report);
}

/** Post, void or expiry of a hold: resolved at most once, posted ≤ held, the rest released. */
function foldResolution(verifier: Verifier, transfer: AcceptedTransfer, report: Report): void {
  const hold = verifier.holds.get(transfer.pendingId ?? '');
  if (hold === undefined) return report('hold_not_found', `no hold ${transfer.pendingId ?? ''}`);
  if (hold.resolvedBy !== null)
    return report('hold_resolved_twice', `already resolved by ${hold.resolvedBy}`);
  if (transfer.debitAccountId !== hold.debitAccountId || transfer.creditAccountId !== hold.creditAccountId) {
    return report('hold_accounts_mismatch', 'accounts differ from the hold');
  }
  const posting = transfer.flags.postPending === true;
  if (posting && transfer.amountMinor > hold.heldMinor) {
    return report('posted_exceeds_held', `posted ${transfer.amountMinor} of ${hold.heldMinor} held`);
  }
  if (!posting && transfer.amountMinor !== hold.heldMinor) {
    return report('void_amount_mismatch', `voided ${transfer.amountMinor} of ${hold.heldMinor} held`);
  }
  const pair = lookupPair(verifier, transfer, report);
  if (pair === null) return;
  const [debit, credit] = pair;
  for (const account of pair) {
    if (posting && account.closed === true)
      report('closed_account_used', 'posted into a closed account', account.id);
  }
  hold.resolvedBy = transfer.id;
  const postedMinor = posting ? transfer.amountMinor : 0n;
  debit.debitsPending -= hold.heldMinor;
  credit.creditsPending -= hold.heldMinor;
  debit.debitsPosted += postedMinor;
  credit.creditsPosted += postedMinor;
  addToTotals(verifier, transfer.currency, line(-hold.heldMinor, postedMinor));
  closeAndCheck(transfer, debit, credit, report);
}

function line(pendingMinor: bigint, postedMinor: bigint): TrialBalanceLine {
  return {
    debitsPending: pendingMinor,
    creditsPending: pendingMinor,
    debitsPosted: postedMinor,
    creditsPosted: postedMinor,
  };
}

function closeAndCheck(
  transfer: AcceptedTransfer,
  debit: MutableAccount,
  credit: MutableAccount,
  report: Report,
): void {
  if (transfer.flags.closingDebit === true) debit.closed = true;
  if (transfer.flags.closingCredit === true) credit.closed = true;
  for (const account of [debit, credit]) {
    const problem = boundsProblem(account);
    if (problem !== null) report('bounds_exceeded', problem, account.id);
  }
}

function boundsProblem(account: Account): string | null {
  const columns = [
    account.debitsPending,
    account.debitsPosted,
    account.creditsPending,
    account.creditsPosted,
  ];
  if (columns.some((value) => value < 0n)) return 'a balance column went negative';
  if (
    account.flags.debitsMustNotExceedCredits &&
    account.debitsPending + account.debitsPosted > account.creditsPosted
  ) {
    return `debits ${account.debitsPosted} + pending ${account.debitsPending} exceed credits ${account.creditsPosted}`;
  }
  if (
    account.flags.creditsMustNotExceedDebits &&
    account.creditsPending + account.creditsPosted > account.debitsPosted
  ) {
    return `credits ${account.creditsPosted} + pending ${account.creditsPending} exceed debits ${account.debitsPosted}`;
  }
  return null;
}

function zeroTotals(): Record<Currency, MutableLine> {
  const zero = (): MutableLine => ({
    debitsPosted: 0n,
    creditsPosted: 0n,
    debitsPending: 0n,
    creditsPending: 0n,
  });
  return { XAF: zero(), USD: zero(), PTS: zero(), EUR: zero() };
}

/** Per-currency sums of the four balance columns over the given accounts. */
export function trialBalance(accounts: Iterable<Account>): Record<Currency, TrialBalanceLine> {
  const totals = zeroTotals();
  for (const account of accounts) {
    const total = totals[account.currency];
    total.debitsPosted += account.debitsPosted;
    total.creditsPosted += account.creditsPosted;
    total.debitsPending += account.debitsPending;
    total.creditsPending += account.creditsPending;
  }
  return totals;
}
