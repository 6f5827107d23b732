import {
  chartAccount,
  CURRENCIES,
  LIMITS,
  type CreateTransferResult,
  type LedgerState,
  type NewAccount,
  type Transfer,
  type TransferResultEntry,
} from '../rules/index.js';

/**
 * Pure helpers of the writer's batching: validating what callers submit, cutting each caller's
 * open trailing chain off before batches are concatenated, choosing the accounts to open lazily,
 * and handing each caller back its own results.
 */

export interface TransferOutcome {
  /** Position of the transfer in the caller's own array. */
  readonly index: number;
  readonly id: string;
  readonly result: CreateTransferResult;
  /** For exists_with_different_fields: the first field that differs. */
  readonly detail?: string;
  /** Nanoseconds since the epoch, assigned by the ledger; present when result is `ok`. */
  readonly timestamp?: bigint;
}

const CURRENCY_SET: ReadonlySet<string> = new Set(CURRENCIES);

/**
 * Shape checks of the types the rules rely on (a TypeError is our caller's bug, thrown before
 * anything is queued); value checks (empty ids, unknown codes, …) are the rules' result codes.
 */
export function assertTransferShape(transfer: Transfer, index: number): void {
  const where = `transfers[${index}]`;
  const fail = (what: string): never => {
    throw new TypeError(`${where}.${what}`);
  };
  if (typeof transfer !== 'object' || transfer === null) throw new TypeError(`${where} must be an object`);
  if (typeof transfer.id !== 'string') fail('id must be a string');
  if (typeof transfer.debitAccountId !== 'string') fail('debitAccountId must be a string');
  if (typeof transfer.creditAccountId !== 'string') fail('creditAccountId must be a string');
  if (typeof transfer.amountMinor !== 'bigint') fail('amountMinor must be a bigint');
  if (typeof transfer.currency !== 'string') fail('currency must be a string');
  if (typeof transfer.code !== 'string') fail('code must be a string');
  if (typeof transfer.flags !== 'object' || transfer.flags === null) fail('flags must be an object');
  if (transfer.pendingId !== undefined && typeof transfer.pendingId !== 'string')
    fail('pendingId must be a string');
  if (transfer.timeoutSeconds !== undefined && typeof transfer.timeoutSeconds !== 'number') {
    fail('timeoutSeconds must be a number');
  }
  if (transfer.timestamp !== undefined && typeof transfer.timestamp !== 'bigint')
    fail('timestamp must be a bigint');
  if (
    transfer.userData !== undefined &&
    (typeof transfer.userData !== 'object' || transfer.userData === null)
  ) {
    fail('userData must be an object');
  }
}

/** Rough upper bound of a transfer's stored bytes (escaped inside the event), to cut batches. */
export function estimatedTransferBytes(transfer: Transfer): number {
  let bytes = 360 + transfer.id.length + transfer.debitAccountId.length + transfer.creditAccountId.length;
  bytes += transfer.pendingId?.length ?? 0;
  for (const [key, value] of Object.entries(transfer.userData ?? {})) {
    bytes += 8 + key.length + (typeof value === 'string' ? value.length : 0);
  }
  return Math.ceil(bytes * 1.25);
}

/**
 * A chain left open at the end of one caller's array must fail there (TigerBeetle's
 * linked_event_chain_open), not swallow the next caller's first transfer once batches are
 * concatenated. Returns how many leading transfers go to the decider, and the results of the rest.
 */
export function splitOpenChain(transfers: readonly Transfer[]): {
  decided: number;
  openResults: TransferOutcome[];
} {
  const last = transfers.length - 1;
  if (last < 0 || transfers[last]?.flags.linked !== true)
    return { decided: transfers.length, openResults: [] };
  let start = last;
  while (start > 0 && transfers[start - 1]?.flags.linked === true) start -= 1;
  const openResults = transfers.slice(start).map((transfer, offset): TransferOutcome => ({
    index: start + offset,
    id: transfer.id,
    result: start + offset === last ? 'linked_event_chain_open' : 'linked_event_failed',
  }));
  return { decided: start, openResults };
}

/** Chart-of-accounts ids the batch names that are not in memory (nor in the snapshot): open them. */
export function accountsToOpen(state: LedgerState, transfers: readonly Transfer[]): NewAccount[] {
  const opened = new Map<string, NewAccount>();
  const consider = (id: string): void => {
    if (id === '' || opened.has(id) || state.accounts.has(id) || id.length > LIMITS.accountIdMaxLength)
      return;
    const account = chartAccount(id);
    if (account !== null && CURRENCY_SET.has(account.currency)) opened.set(id, account);
  };
  for (const transfer of transfers) {
    consider(transfer.debitAccountId);
    consider(transfer.creditAccountId);
  }
  return [...opened.values()];
}

/** The caller's results: decided ones re-indexed from the batch, then its open chain. */
export function callerOutcomes(
  results: readonly TransferResultEntry[],
  offset: number,
  decided: number,
  openResults: readonly TransferOutcome[],
  timestamps: ReadonlyMap<string, bigint>,
): TransferOutcome[] {
  const outcomes: TransferOutcome[] = [];
  for (let index = 0; index < decided; index += 1) {
    const entry = results[offset + index];
    if (entry === undefined) throw new Error(`no result for batch index ${offset + index}`);
    const timestamp = entry.result === 'ok' ? timestamps.get(entry.id) : undefined;
    outcomes.push({
      index,
      id: entry.id,
      result: entry.result,
      ...(entry.detail === undefined ? {} : { detail: entry.detail }),
      ...(timestamp === undefined ? {} : { timestamp }),
    });
  }
  return outcomes.concat(openResults);
}

/** A batch: every caller's decided transfers, concatenated, and where each caller's part is. */
export interface BatchPlan {
  readonly transfers: Transfer[];
  readonly parts: Array<{ offset: number; decided: number; openResults: TransferOutcome[] }>;
}

/** Concatenates the callers' transfers, each less its open trailing chain (see `splitOpenChain`). */
export function planBatch(batch: readonly { readonly transfers: readonly Transfer[] }[]): BatchPlan {
  const transfers: Transfer[] = [];
  const parts: BatchPlan['parts'] = [];
  for (const submission of batch) {
    const { decided, openResults } = splitOpenChain(submission.transfers);
    parts.push({ offset: transfers.length, decided, openResults });
    for (let index = 0; index < decided; index += 1) transfers.push(submission.transfers[index]!);
  }
  return { transfers, parts };
}
