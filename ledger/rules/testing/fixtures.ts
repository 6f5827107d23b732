/**
 * Test-only helpers shared by the rule specs (kept out of *.test.ts so vitest does not run them
 * as suites). No fast-check here: arbitraries live in ./arbitraries.ts.
 */
import { createTransfers, decideBatch, type TransferBatchOutcome } from '../apply.js';
import { worldId } from '../chart.js';
import { GENESIS_HASH, sealBatch } from '../hash.js';
import { commitChanges, emptyLedgerState, type LedgerState } from '../state.js';
import type {
  Account,
  AccountFlags,
  AccountKind,
  Currency,
  LedgerBatchBody,
  LedgerBatchEvent,
  NewAccount,
  Transfer,
} from '../types.js';

export const T0_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z

export const WALLET_FLAGS: AccountFlags = {
  debitsMustNotExceedCredits: true,
  creditsMustNotExceedDebits: false,
};
export const CLEARING_FLAGS: AccountFlags = {
  debitsMustNotExceedCredits: false,
  creditsMustNotExceedDebits: true,
};
export const NO_FLAGS: AccountFlags = {
  debitsMustNotExceedCredits: false,
  creditsMustNotExceedDebits: false,
};

export function newAccount(
  id: string,
  flags: AccountFlags = NO_FLAGS,
  currency: Currency = 'XAF',
  kind: AccountKind = 'liability',
): NewAccount {
  return { id, currency, kind, flags };
}

/** A state holding these accounts, opened in one batch. */
export function ledgerWith(accounts: readonly NewAccount[]): LedgerState {
  const state = emptyLedgerState();
  const outcome = decideBatch(state, { accounts }, T0_MS);
  for (const result of outcome.accountResults) {
    if (result.result !== 'ok') throw new Error(`fixture account ${result.id}: ${result.result}`);
  }
  return commitChanges(state, outcome.changes);
}

export function transfer(fields: Partial<Transfer> & Pick<Transfer, 'id'>): Transfer {
  return {
    debitAccountId: '',
    creditAccountId: '',
    amountMinor: 0n,
    currency: 'XAF',
    code: 'adjustment',
    flags: {},
    ...fields,
  };
}

/** Decides and commits, as the writer does after a successful append. */
export function run(state: LedgerState, transfers: readonly Transfer[], nowMs = T0_MS): TransferBatchOutcome {
  const outcome = createTransfers(state, transfers, nowMs);
  commitChanges(state, outcome.changes);
  return outcome;
}

/** The codes of a batch, in order. */
export function codes(outcome: TransferBatchOutcome): string[] {
  return outcome.results.map((entry) => entry.result);
}

/** Credits `accountId` with `amountMinor` from the (unbounded) world account of its currency. */
export function fund(
  state: LedgerState,
  accountId: string,
  amountMinor: bigint,
  id = `fund:${accountId}`,
): void {
  const account = state.accounts.get(accountId);
  if (account === undefined) throw new Error(`no account ${accountId}`);
  const world = worldId(account.currency);
  if (!state.accounts.has(world)) {
    const opened = decideBatch(
      state,
      { accounts: [newAccount(world, NO_FLAGS, account.currency, 'equity')] },
      T0_MS,
    );
    commitChanges(state, opened.changes);
  }
  const outcome = run(state, [
    transfer({
      id,
      debitAccountId: world,
      creditAccountId: accountId,
      amountMinor,
      currency: account.currency,
    }),
  ]);
  if (outcome.results[0]?.result !== 'ok')
    throw new Error(`fund ${accountId}: ${outcome.results[0]?.result}`);
}

export function balancesOf(state: LedgerState): Map<string, Account> {
  return new Map(state.accounts);
}

/** A deep, comparable picture of everything the state holds. */
export function snapshotOf(state: LedgerState): unknown {
  const sorted = <V>(map: ReadonlyMap<string, V>): Array<[string, V]> =>
    [...map.entries()].sort(([left], [right]) => (left < right ? -1 : 1));
  return {
    accounts: sorted(state.accounts),
    transfers: sorted(state.transfers),
    holds: sorted(state.holds),
    openHoldIds: [...state.openHoldIds].sort(),
    lastTimestampNs: state.lastTimestampNs,
  };
}

/** credits_posted − debits_posted: what a credit-normal account holds. */
export function netCreditMinor(state: LedgerState, accountId: string): bigint {
  const account = state.accounts.get(accountId);
  if (account === undefined) throw new Error(`no account ${accountId}`);
  return account.creditsPosted - account.debitsPosted;
}

/** Seals bodies into a hash chain from genesis, as the writer appends them. */
export function sealAll(bodies: readonly LedgerBatchBody[]): LedgerBatchEvent[] {
  const events: LedgerBatchEvent[] = [];
  for (const body of bodies) events.push(sealBatch(events.at(-1)?.hash ?? GENESIS_HASH, body));
  return events;
}
