import fc from 'fast-check';
import { expect } from 'vitest';
import { accountsToOpen, splitOpenChain } from '../../ledger/writer/batch.js';
import {
  commissionRevenueId,
  commitChanges,
  customerPointsId,
  customerWalletId,
  decideBatch,
  expirePendingTransfers,
  orderEscrowId,
  pointsIssuanceId,
  providerClearingId,
  CURRENCIES,
  type Account,
  type CreateTransferResult,
  type LedgerState,
  type Transfer,
  type TransferCode,
} from '../../ledger/rules/index.js';
import type { LedgerWriter } from '../../ledger/writer/index.js';

/**
 * Shared pieces of the ledger's property tests against the real writer: a small chart of
 * accounts, transfer arbitraries, the oracle (the pure rules on one in-memory state, exactly as
 * the writer would call them with no batching, persistence, snapshot or eviction) and the
 * invariant checks run on what the real writer reports.
 */
export const WALLETS = [customerWalletId('u1', 'XAF'), customerWalletId('u2', 'XAF')] as const;
export const ESCROWS = [orderEscrowId('o1', 'XAF'), orderEscrowId('o2', 'XAF')] as const;
export const CLEARING = providerClearingId('campay', 'XAF');
export const REVENUE = commissionRevenueId('XAF');
export const USD_WALLET = customerWalletId('u1', 'USD');
export const USD_CLEARING = providerClearingId('campay', 'USD');
export const POINTS_MINT = pointsIssuanceId();
export const POINTS = customerPointsId('u1');
export const ALL_ACCOUNTS = [
  ...WALLETS,
  ...ESCROWS,
  CLEARING,
  REVENUE,
  USD_WALLET,
  USD_CLEARING,
  POINTS_MINT,
  POINTS,
];
export const CURRENCY_OF = (id: string) =>
  id.endsWith(':USD') ? 'USD' : id.endsWith(':PTS') ? 'PTS' : 'XAF';

/** Which pairs money usually flows along (so that most transfers get past the checks). */
const PAIRS: ReadonlyArray<readonly [string, string, TransferCode]> = [
  [CLEARING, WALLETS[0], 'topup'],
  [CLEARING, WALLETS[1], 'topup'],
  [WALLETS[0], ESCROWS[0], 'payment_capture'],
  [WALLETS[1], ESCROWS[1], 'payment_capture'],
  [WALLETS[0], ESCROWS[1], 'payment_capture'],
  [ESCROWS[0], REVENUE, 'commission'],
  [ESCROWS[1], WALLETS[1], 'refund'],
  [USD_CLEARING, USD_WALLET, 'topup'],
  [POINTS_MINT, POINTS, 'points_award'],
  [POINTS, POINTS_MINT, 'points_redeem'],
];

export interface MoveSpec {
  readonly pair: number;
  readonly swap: boolean;
  readonly amountMinor: bigint;
  readonly pending: boolean;
  readonly timeoutSeconds: number;
  readonly wrongCurrency: boolean;
}

export const moveArbitrary: fc.Arbitrary<MoveSpec> = fc.record({
  pair: fc.integer({ min: 0, max: PAIRS.length - 1 }),
  swap: fc.constantFrom(false, false, true),
  amountMinor: fc.oneof(
    { weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 4_000n }) },
    { weight: 1, arbitrary: fc.constant(0n) },
  ),
  pending: fc.boolean(),
  timeoutSeconds: fc.constantFrom(0, 0, 2, 30),
  wrongCurrency: fc.constantFrom(false, false, false, false, false, true),
});

export function moveTransfer(id: string, spec: MoveSpec, flags: Transfer['flags'] = {}): Transfer {
  const [from, to, code] = PAIRS[spec.pair]!;
  const [debit, credit] = spec.swap ? [to, from] : [from, to];
  const currency = CURRENCY_OF(debit);
  return {
    id,
    debitAccountId: debit,
    creditAccountId: credit,
    amountMinor: spec.amountMinor,
    currency: spec.wrongCurrency ? (currency === 'XAF' ? 'USD' : 'XAF') : currency,
    code,
    flags: { ...flags, ...(spec.pending ? { pending: true } : {}) },
    ...(spec.pending && spec.timeoutSeconds > 0 ? { timeoutSeconds: spec.timeoutSeconds } : {}),
  };
}

/** The oracle: what the writer must answer, from the pure rules on one state. */
export function oracleSubmit(
  model: LedgerState,
  transfers: readonly Transfer[],
  nowMs: number,
): CreateTransferResult[] {
  const { decided, openResults } = splitOpenChain(transfers);
  const part = transfers.slice(0, decided);
  const outcome = decideBatch(model, { accounts: accountsToOpen(model, part), transfers: part }, nowMs);
  if (outcome.body.transfersAccepted.length > 0) commitChanges(model, outcome.changes);
  return [
    ...outcome.transferResults.map((entry) => entry.result),
    ...openResults.map((entry) => entry.result),
  ];
}

export function oracleExpire(model: LedgerState, nowMs: number): number {
  let expired = 0;
  for (;;) {
    const outcome = expirePendingTransfers(model, nowMs, 400);
    if (outcome.accepted.length === 0) return expired;
    commitChanges(model, outcome.changes);
    expired += outcome.accepted.length;
    if (outcome.remaining === 0) return expired;
  }
}

type Balances = Pick<Account, 'debitsPending' | 'debitsPosted' | 'creditsPending' | 'creditsPosted'> & {
  closed: boolean;
};
const ZERO: Balances = {
  debitsPending: 0n,
  debitsPosted: 0n,
  creditsPending: 0n,
  creditsPosted: 0n,
  closed: false,
};

function balancesOf(account: Account | null | undefined): Balances {
  if (account === null || account === undefined) return ZERO;
  return {
    debitsPending: account.debitsPending,
    debitsPosted: account.debitsPosted,
    creditsPending: account.creditsPending,
    creditsPosted: account.creditsPosted,
    closed: account.closed === true,
  };
}

/** Every pool account as the real writer reports it (from memory or its snapshot). */
export async function writerBalances(writer: LedgerWriter): Promise<Map<string, Balances>> {
  const entries = await Promise.all(
    ALL_ACCOUNTS.map(async (id) => [id, balancesOf(await writer.account(id))] as const),
  );
  return new Map(entries);
}

export function oracleBalances(model: LedgerState): Map<string, Balances> {
  return new Map(ALL_ACCOUNTS.map((id) => [id, balancesOf(model.accounts.get(id))] as const));
}

/**
 * Properties 1 and 2 on the real writer's balances: per currency Σ debits = Σ credits, posted and
 * pending alike; no flagged account beyond its bound, pending debits (credits) counted.
 */
export function assertLedgerInvariants(
  balances: ReadonlyMap<string, Balances>,
  accounts: ReadonlyMap<string, Account>,
): void {
  for (const currency of CURRENCIES) {
    let debitsPosted = 0n;
    let creditsPosted = 0n;
    let debitsPending = 0n;
    let creditsPending = 0n;
    for (const [id, line] of balances) {
      if (CURRENCY_OF(id) !== currency) continue;
      debitsPosted += line.debitsPosted;
      creditsPosted += line.creditsPosted;
      debitsPending += line.debitsPending;
      creditsPending += line.creditsPending;
    }
    expect(debitsPosted, `${currency} posted`).toBe(creditsPosted);
    expect(debitsPending, `${currency} pending`).toBe(creditsPending);
  }
  for (const [id, line] of balances) {
    const flags = accounts.get(id)?.flags;
    if (flags?.debitsMustNotExceedCredits === true)
      expect(line.debitsPending + line.debitsPosted <= line.creditsPosted, `${id} bound`).toBe(true);
    if (flags?.creditsMustNotExceedDebits === true)
      expect(line.creditsPending + line.creditsPosted <= line.debitsPosted, `${id} bound`).toBe(true);
  }
}
