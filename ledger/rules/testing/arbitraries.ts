/**
 * Test-only: random ledger histories for the property specs. A history is a list of batches of
 * "intents" that a driver turns into transfers against what the ledger has seen so far (holds to
 * post or void, transfers to retry), so that generated posts and retries hit real ids.
 */
import fc from 'fast-check';
import { createTransfers, expirePendingTransfers, type TransferBatchOutcome } from '../apply.js';
import { commitChanges, type LedgerChanges, type LedgerState } from '../state.js';
import type { AcceptedTransfer, Currency, LedgerBatchBody, NewAccount, Transfer } from '../types.js';
import { CLEARING_FLAGS, NO_FLAGS, T0_MS, WALLET_FLAGS, ledgerWith, transfer } from './fixtures.js';

/** Bounded accounts of two currencies: wallets, a clearing account and unbounded counterparts. */
export const SCENARIO_ACCOUNTS: readonly NewAccount[] = [
  { id: 'wallet-a', currency: 'XAF', kind: 'liability', flags: WALLET_FLAGS },
  { id: 'wallet-b', currency: 'XAF', kind: 'liability', flags: WALLET_FLAGS },
  { id: 'clearing', currency: 'XAF', kind: 'asset', flags: CLEARING_FLAGS },
  { id: 'world-xaf', currency: 'XAF', kind: 'equity', flags: NO_FLAGS },
  { id: 'wallet-usd', currency: 'USD', kind: 'liability', flags: WALLET_FLAGS },
  { id: 'world-usd', currency: 'USD', kind: 'equity', flags: NO_FLAGS },
];

export type Intent =
  | {
      readonly kind: 'move';
      readonly from: number;
      readonly to: number;
      readonly amountMinor: bigint;
      readonly pending: boolean;
      readonly timeoutSeconds: number;
      readonly linkNext: boolean;
    }
  | { readonly kind: 'post'; readonly hold: number; readonly amountMinor: bigint }
  | { readonly kind: 'void'; readonly hold: number }
  | { readonly kind: 'retry'; readonly of: number; readonly changeAmount: boolean };

const accountIndex = fc.integer({ min: 0, max: SCENARIO_ACCOUNTS.length - 1 });
const xafIndex = fc.integer({ min: 0, max: 3 });
/** Mostly same-currency pairs, so that most moves get past the currency check. */
const accountPair = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(xafIndex, xafIndex) },
  { weight: 2, arbitrary: fc.constantFrom([4, 5] as [number, number], [5, 4] as [number, number]) },
  { weight: 1, arbitrary: fc.tuple(accountIndex, accountIndex) },
);

export const intentArbitrary: fc.Arbitrary<Intent> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        accounts: accountPair,
        amountMinor: fc.bigInt({ min: 0n, max: 3_000n }),
        pending: fc.boolean(),
        timeoutSeconds: fc.constantFrom(0, 0, 1, 5),
        linkNext: fc.constantFrom(false, false, false, false, true),
      })
      .map(({ accounts: [from, to], ...rest }) => ({ kind: 'move' as const, from, to, ...rest })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      hold: fc.nat(),
      amountMinor: fc.bigInt({ min: 0n, max: 3_000n }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), hold: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('retry' as const), of: fc.nat(), changeAmount: fc.boolean() }),
  },
);

export interface HistoryPlan {
  /** Opening balances from the world accounts. */
  readonly fundingMinor: readonly [bigint, bigint, bigint];
  readonly batches: readonly (readonly Intent[])[];
  /** Milliseconds the clock moves before each batch (an expiry sweep runs after each move). */
  readonly advancesMs: readonly number[];
}

export const historyArbitrary: fc.Arbitrary<HistoryPlan> = fc.record({
  fundingMinor: fc.tuple(
    fc.bigInt({ min: 0n, max: 10_000n }),
    fc.bigInt({ min: 0n, max: 10_000n }),
    fc.bigInt({ min: 0n, max: 10_000n }),
  ),
  batches: fc.array(fc.array(intentArbitrary, { minLength: 1, maxLength: 8 }), {
    minLength: 1,
    maxLength: 8,
  }),
  advancesMs: fc.array(fc.constantFrom(0, 1, 700, 1_000, 2_500, 6_000), { minLength: 8, maxLength: 8 }),
});

/** What the driver remembers between batches. */
export interface DriverMemory {
  readonly submitted: Transfer[];
  readonly holdIds: string[];
  next: number;
}

function accountAt(index: number): NewAccount {
  const account = SCENARIO_ACCOUNTS[index % SCENARIO_ACCOUNTS.length];
  if (account === undefined) throw new Error('no scenario account');
  return account;
}

function realize(intent: Intent, memory: DriverMemory): Transfer {
  const id = `t${(memory.next += 1)}`;
  switch (intent.kind) {
    case 'move': {
      const from = accountAt(intent.from);
      const flags = {
        ...(intent.pending ? { pending: true } : {}),
        ...(intent.linkNext ? { linked: true } : {}),
      };
      const timeout =
        intent.pending && intent.timeoutSeconds > 0 ? { timeoutSeconds: intent.timeoutSeconds } : {};
      const made = transfer({
        id,
        debitAccountId: from.id,
        creditAccountId: accountAt(intent.to).id,
        amountMinor: intent.amountMinor,
        currency: from.currency,
        flags,
        ...timeout,
      });
      if (intent.pending) memory.holdIds.push(id);
      return made;
    }
    case 'post':
    case 'void': {
      const pendingId = memory.holdIds[intent.hold % Math.max(1, memory.holdIds.length)] ?? 'no-hold';
      const pending = memory.submitted.find((item) => item.id === pendingId);
      const currency: Currency = pending?.currency ?? 'XAF';
      const amountMinor = intent.kind === 'post' ? intent.amountMinor : 0n;
      const flags = intent.kind === 'post' ? { postPending: true } : { voidPending: true };
      return transfer({ id, pendingId, amountMinor, currency, flags });
    }
    case 'retry': {
      const previous = memory.submitted[intent.of % Math.max(1, memory.submitted.length)];
      if (previous === undefined)
        return transfer({ id, debitAccountId: 'world-xaf', creditAccountId: 'wallet-a', amountMinor: 1n });
      memory.next -= 1;
      return intent.changeAmount ? { ...previous, amountMinor: previous.amountMinor + 1n } : previous;
    }
    default: {
      const unreachable: never = intent;
      return unreachable;
    }
  }
}

export interface PlayedBatch {
  readonly before: LedgerState;
  readonly transfers: readonly Transfer[];
  readonly outcome: TransferBatchOutcome | null;
  readonly changes: LedgerChanges;
  readonly body: LedgerBatchBody;
}

/** Opens the scenario accounts and funds the bounded ones from the world. */
export function openScenario(fundingMinor: readonly [bigint, bigint, bigint]): {
  state: LedgerState;
  bodies: LedgerBatchBody[];
} {
  const state = ledgerWith(SCENARIO_ACCOUNTS);
  const accountsCreated = [...state.accounts.values()];
  const [walletA, walletUsd, clearing] = fundingMinor;
  const funding = [
    transfer({
      id: 'fund-a',
      debitAccountId: 'world-xaf',
      creditAccountId: 'wallet-a',
      amountMinor: walletA,
    }),
    transfer({
      id: 'fund-usd',
      debitAccountId: 'world-usd',
      creditAccountId: 'wallet-usd',
      amountMinor: walletUsd,
      currency: 'USD',
    }),
    transfer({
      id: 'fund-clearing',
      debitAccountId: 'clearing',
      creditAccountId: 'world-xaf',
      amountMinor: clearing,
    }),
  ].filter((item) => item.amountMinor > 0n);
  const outcome = createTransfers(state, funding, T0_MS);
  commitChanges(state, outcome.changes);
  return {
    state,
    bodies: [{ accountsCreated, transfersAccepted: outcome.accepted }],
  };
}

/**
 * Plays a history: before each batch the clock moves and an expiry sweep runs; `onBatch` sees
 * every decided batch (sweeps included, with outcome null) before it is committed.
 */
export function playHistory(
  plan: HistoryPlan,
  onBatch: (played: PlayedBatch) => void = () => undefined,
): {
  state: LedgerState;
  bodies: LedgerBatchBody[];
  memory: DriverMemory;
  accepted: AcceptedTransfer[];
} {
  const { state, bodies } = openScenario(plan.fundingMinor);
  const memory: DriverMemory = { submitted: [], holdIds: [], next: 0 };
  const accepted: AcceptedTransfer[] = [...(bodies[0]?.transfersAccepted ?? [])];
  let nowMs = T0_MS;
  plan.batches.forEach((intents, batchIndex) => {
    nowMs += plan.advancesMs[batchIndex] ?? 0;
    const sweep = expirePendingTransfers(state, nowMs);
    if (sweep.accepted.length > 0) {
      const body = { accountsCreated: [], transfersAccepted: sweep.accepted };
      onBatch({ before: state, transfers: [], outcome: null, changes: sweep.changes, body });
      bodies.push(body);
      accepted.push(...sweep.accepted);
      commitChanges(state, sweep.changes);
    }
    const transfers = intents.map((intent) => realize(intent, memory));
    const outcome = createTransfers(state, transfers, nowMs);
    const body = { accountsCreated: [], transfersAccepted: outcome.accepted };
    onBatch({ before: state, transfers, outcome, changes: outcome.changes, body });
    memory.submitted.push(
      ...transfers.filter((item) => !memory.submitted.some((seen) => seen.id === item.id)),
    );
    // Later posts and voids aim at holds the ledger accepted (rejected ones would only be not_found).
    const acceptedHolds = memory.holdIds.filter((id) => state.holds.has(id) || outcome.changes.holds.has(id));
    memory.holdIds.splice(0, memory.holdIds.length, ...acceptedHolds);
    bodies.push(body);
    accepted.push(...outcome.accepted);
    commitChanges(state, outcome.changes);
  });
  return { state, bodies, memory, accepted };
}
