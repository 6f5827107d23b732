import { describe, expect, it } from 'vitest';
import { createTransfers } from './apply.js';
import { commitChanges, type LedgerState } from './state.js';
import {
  CREATE_TRANSFER_RESULTS,
  LIMITS,
  type CreateTransferResult,
  type Transfer,
  type TransferCode,
} from './types.js';
import {
  CLEARING_FLAGS,
  NO_FLAGS,
  T0_MS,
  WALLET_FLAGS,
  codes,
  fund,
  ledgerWith,
  newAccount,
  run,
  snapshotOf,
  transfer,
} from './testing/fixtures.js';

/**
 * One scenario per result code of createTransfers. Accounts: `wallet` (debits must not exceed
 * credits, funded with 10 000 XAF), `clearing` (credits must not exceed debits, unfunded),
 * `x`, `y`, `z` (unflagged XAF), `usd` (unflagged USD).
 */
function givenLedger(): LedgerState {
  const state = ledgerWith([
    newAccount('wallet', WALLET_FLAGS),
    newAccount('clearing', CLEARING_FLAGS, 'XAF', 'asset'),
    newAccount('x'),
    newAccount('y'),
    newAccount('z'),
    newAccount('usd', NO_FLAGS, 'USD'),
  ]);
  fund(state, 'wallet', 10_000n);
  return state;
}

const MAX = LIMITS.balanceMaxMinor;
const move = (
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amountMinor: bigint,
  extra: Partial<Transfer> = {},
): Transfer => transfer({ id, debitAccountId, creditAccountId, amountMinor, ...extra });
const hold = (id: string, amountMinor = 1_000n, extra: Partial<Transfer> = {}): Transfer =>
  move(id, 'wallet', 'x', amountMinor, { flags: { pending: true }, ...extra });
const post = (id: string, pendingId: string, amountMinor = 0n, extra: Partial<Transfer> = {}): Transfer =>
  transfer({ id, pendingId, amountMinor, flags: { postPending: true }, ...extra });
const voidOf = (id: string, pendingId: string, extra: Partial<Transfer> = {}): Transfer =>
  transfer({ id, pendingId, flags: { voidPending: true }, ...extra });

interface Scenario {
  readonly expected: CreateTransferResult;
  readonly name: string;
  /** Batches committed before the one under test. */
  readonly before?: readonly (readonly Transfer[])[];
  readonly batch: readonly Transfer[];
  /** Which result of the batch is checked (default: the last). */
  readonly index?: number;
  readonly nowMs?: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    expected: 'ok',
    name: 'a single-phase transfer within the balance',
    batch: [move('t', 'wallet', 'x', 100n)],
  },
  {
    expected: 'exists',
    name: 'a retry with the same body',
    before: [[move('t', 'wallet', 'x', 100n)]],
    batch: [move('t', 'wallet', 'x', 100n)],
  },
  {
    expected: 'exists_with_different_fields',
    name: 'a retry with another amount',
    before: [[move('t', 'wallet', 'x', 100n)]],
    batch: [move('t', 'wallet', 'x', 101n)],
  },
  { expected: 'id_must_not_be_empty', name: 'an empty id', batch: [move('', 'wallet', 'x', 1n)] },
  {
    expected: 'id_too_long',
    name: 'an id past 128 characters',
    batch: [move('i'.repeat(129), 'wallet', 'x', 1n)],
  },
  {
    expected: 'id_reserved_for_system',
    name: 'an id in the sys: namespace',
    batch: [move('sys:mine', 'wallet', 'x', 1n)],
  },
  {
    expected: 'timestamp_must_be_zero',
    name: 'a client-set timestamp',
    batch: [move('t', 'wallet', 'x', 1n, { timestamp: 5n })],
  },
  {
    expected: 'flags_are_mutually_exclusive',
    name: 'pending and post together',
    batch: [move('t', 'wallet', 'x', 1n, { flags: { pending: true, postPending: true } })],
  },
  {
    expected: 'code_invalid',
    name: 'an unknown code',
    batch: [move('t', 'wallet', 'x', 1n, { code: 'gift' as TransferCode })],
  },
  {
    expected: 'code_reserved_for_system',
    name: 'a client hold_expiry',
    batch: [move('t', 'wallet', 'x', 1n, { code: 'hold_expiry' })],
  },
  {
    expected: 'currency_invalid',
    name: 'an unknown currency',
    batch: [move('t', 'wallet', 'x', 1n, { currency: 'GBP' as 'XAF' })],
  },
  {
    expected: 'user_data_invalid',
    name: 'more than 8 user data entries',
    batch: [
      move('t', 'wallet', 'x', 1n, {
        userData: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v'])),
      }),
    ],
  },
  {
    expected: 'amount_must_not_be_negative',
    name: 'a negative amount',
    batch: [move('t', 'wallet', 'x', -1n)],
  },
  {
    expected: 'timeout_invalid',
    name: 'a fractional timeout',
    batch: [hold('h', 1n, { timeoutSeconds: 1.5 })],
  },
  {
    expected: 'overflows_timeout',
    name: 'a timeout past u32',
    batch: [hold('h', 1n, { timeoutSeconds: 2 ** 32 })],
  },
  {
    expected: 'timeout_reserved_for_pending_transfer',
    name: 'a timeout on a single-phase transfer',
    batch: [move('t', 'wallet', 'x', 1n, { timeoutSeconds: 10 })],
  },
  {
    expected: 'pending_id_must_be_empty',
    name: 'a pendingId on a single-phase transfer',
    batch: [move('t', 'wallet', 'x', 1n, { pendingId: 'h' })],
  },
  { expected: 'pending_id_required', name: 'a post without pendingId', batch: [post('p', '')] },
  { expected: 'pending_id_must_be_different', name: 'a post naming itself', batch: [post('p', 'p')] },
  {
    expected: 'debit_account_id_must_not_be_empty',
    name: 'no debit account',
    batch: [move('t', '', 'x', 1n)],
  },
  {
    expected: 'credit_account_id_must_not_be_empty',
    name: 'no credit account',
    batch: [move('t', 'wallet', '', 1n)],
  },
  {
    expected: 'accounts_must_be_different',
    name: 'the same account on both sides',
    batch: [move('t', 'x', 'x', 1n)],
  },
  { expected: 'amount_must_not_be_zero', name: 'a zero amount', batch: [move('t', 'wallet', 'x', 0n)] },
  {
    expected: 'debit_account_not_found',
    name: 'an unknown debit account',
    batch: [move('t', 'nobody', 'x', 1n)],
  },
  {
    expected: 'credit_account_not_found',
    name: 'an unknown credit account',
    batch: [move('t', 'wallet', 'nobody', 1n)],
  },
  { expected: 'currency_mismatch', name: 'accounts of two currencies', batch: [move('t', 'x', 'usd', 1n)] },
  {
    expected: 'account_closed',
    name: 'a credit to a closed account',
    before: [[move('c', 'wallet', 'y', 1n, { flags: { closingCredit: true } })]],
    batch: [move('t', 'wallet', 'y', 1n)],
  },
  {
    expected: 'pending_transfer_not_found',
    name: 'a post of an unknown hold',
    batch: [post('p', 'nothing')],
  },
  {
    expected: 'pending_transfer_not_pending',
    name: 'a post of a single-phase transfer',
    before: [[move('t', 'wallet', 'x', 1n)]],
    batch: [post('p', 't')],
  },
  {
    expected: 'pending_transfer_has_different_accounts',
    name: 'a post naming other accounts',
    before: [[hold('h')]],
    batch: [post('p', 'h', 0n, { creditAccountId: 'y' })],
  },
  {
    expected: 'pending_transfer_has_different_currency',
    name: 'a post in another currency',
    before: [[hold('h')]],
    batch: [post('p', 'h', 0n, { currency: 'USD' })],
  },
  {
    expected: 'pending_transfer_has_different_amount',
    name: 'a void of another amount',
    before: [[hold('h')]],
    batch: [voidOf('v', 'h', { amountMinor: 1n })],
  },
  {
    expected: 'pending_transfer_already_posted',
    name: 'a second post',
    before: [[hold('h')], [post('p1', 'h')]],
    batch: [post('p2', 'h')],
  },
  {
    expected: 'pending_transfer_already_voided',
    name: 'a post after a void',
    before: [[hold('h')], [voidOf('v', 'h')]],
    batch: [post('p', 'h')],
  },
  {
    expected: 'pending_transfer_expired',
    name: 'a post at the expiry instant',
    before: [[hold('h', 1_000n, { timeoutSeconds: 60 })]],
    batch: [post('p', 'h')],
    nowMs: T0_MS + 60_001,
  },
  {
    expected: 'exceeds_pending_transfer_amount',
    name: 'a post of more than held',
    before: [[hold('h')]],
    batch: [post('p', 'h', 1_001n)],
  },
  {
    expected: 'overflows_debits_pending',
    name: 'debits pending past 2^63-1',
    before: [[move('a', 'x', 'y', MAX, { flags: { pending: true } })]],
    batch: [move('t', 'x', 'z', 1n, { flags: { pending: true } })],
  },
  {
    expected: 'overflows_credits_pending',
    name: 'credits pending past 2^63-1',
    before: [[move('a', 'x', 'y', MAX, { flags: { pending: true } })]],
    batch: [move('t', 'z', 'y', 1n, { flags: { pending: true } })],
  },
  {
    expected: 'overflows_debits_posted',
    name: 'debits posted past 2^63-1',
    before: [[move('a', 'x', 'y', MAX)]],
    batch: [move('t', 'x', 'z', 1n)],
  },
  {
    expected: 'overflows_credits_posted',
    name: 'credits posted past 2^63-1',
    before: [[move('a', 'x', 'y', MAX)]],
    batch: [move('t', 'z', 'y', 1n)],
  },
  {
    expected: 'overflows_debits',
    name: 'debits pending + posted past 2^63-1',
    before: [[move('a', 'x', 'y', 2n ** 62n)]],
    batch: [move('t', 'x', 'z', 2n ** 62n, { flags: { pending: true } })],
  },
  {
    expected: 'overflows_credits',
    name: 'credits pending + posted past 2^63-1',
    before: [[move('a', 'x', 'y', 2n ** 62n)]],
    batch: [move('t', 'z', 'y', 2n ** 62n, { flags: { pending: true } })],
  },
  {
    expected: 'exceeds_credits',
    name: 'a hold and a debit that together pass the funds',
    before: [[hold('h', 6_000n)]],
    batch: [move('t', 'wallet', 'x', 5_000n)],
  },
  {
    expected: 'exceeds_debits',
    name: 'a credit past the debits of a clearing account',
    batch: [move('t', 'x', 'clearing', 1n)],
  },
  {
    expected: 'linked_event_failed',
    name: 'a valid member of a failing chain',
    batch: [move('a', 'wallet', 'x', 1n, { flags: { linked: true } }), move('b', 'wallet', 'nobody', 1n)],
    index: 0,
  },
  {
    expected: 'linked_event_chain_open',
    name: 'a chain still open at the end of the batch',
    batch: [move('a', 'wallet', 'x', 1n, { flags: { linked: true } })],
  },
];

describe('createTransfers result codes', () => {
  for (const scenario of SCENARIOS) {
    it(`answers ${scenario.expected} for ${scenario.name}`, () => {
      const state = givenLedger();
      for (const batch of scenario.before ?? []) {
        const outcome = run(state, batch);
        expect(codes(outcome).every((code) => code === 'ok')).toBe(true);
      }
      const before = snapshotOf(state);
      const outcome = createTransfers(state, scenario.batch, scenario.nowMs ?? T0_MS);
      const index = scenario.index ?? scenario.batch.length - 1;
      expect(outcome.results[index]?.result).toBe(scenario.expected);
      expect(snapshotOf(state)).toEqual(before);
      if (scenario.expected !== 'ok') expect(outcome.accepted).toEqual([]);
    });
  }

  it('has a scenario for every result code', () => {
    const covered = new Set(SCENARIOS.map((scenario) => scenario.expected));
    expect([...CREATE_TRANSFER_RESULTS].filter((code) => !covered.has(code))).toEqual([]);
  });

  it('names the first differing field of a conflicting retry', () => {
    const state = givenLedger();
    run(state, [move('t', 'wallet', 'x', 100n, { userData: { orderId: 'o1' } })]);
    const outcome = createTransfers(
      state,
      [move('t', 'wallet', 'x', 100n, { userData: { orderId: 'o2' } })],
      T0_MS,
    );
    expect(outcome.results[0]).toMatchObject({ result: 'exists_with_different_fields', detail: 'userData' });
  });

  it('refuses a batch above 8 190 transfers instead of deciding part of it', () => {
    const state = givenLedger();
    const batch = Array.from({ length: 8_191 }, (_, index) => move(`t${index}`, 'x', 'y', 1n));
    expect(() => createTransfers(state, batch, T0_MS)).toThrow(RangeError);
  });

  it('decides a full batch of 8 190 transfers', () => {
    const state = givenLedger();
    const batch = Array.from({ length: 8_190 }, (_, index) => move(`t${index}`, 'x', 'y', 1n));
    const outcome = createTransfers(state, batch, T0_MS);
    expect(outcome.accepted).toHaveLength(8_190);
    expect(outcome.changes.accounts.get('y')?.creditsPosted).toBe(8_190n);
  });
});

describe('two-phase transfers', () => {
  it('holds the amount in the pending columns and counts it against the balance', () => {
    const state = givenLedger();
    run(state, [hold('h', 4_000n)]);
    expect(state.accounts.get('wallet')).toMatchObject({
      debitsPending: 4_000n,
      debitsPosted: 0n,
      creditsPosted: 10_000n,
    });
    expect(state.accounts.get('x')).toMatchObject({ creditsPending: 4_000n, creditsPosted: 0n });
    expect(state.holds.get('h')).toMatchObject({ status: 'pending', heldMinor: 4_000n });
    expect(codes(createTransfers(state, [move('t', 'wallet', 'y', 6_001n)], T0_MS))).toEqual([
      'exceeds_credits',
    ]);
  });

  it('posts part of a hold and releases the remainder', () => {
    const state = givenLedger();
    run(state, [hold('h', 4_000n)]);
    const outcome = run(state, [post('p', 'h', 2_500n)]);
    expect(outcome.accepted[0]).toMatchObject({
      amountMinor: 2_500n,
      debitAccountId: 'wallet',
      creditAccountId: 'x',
      pendingId: 'h',
    });
    expect(state.accounts.get('wallet')).toMatchObject({ debitsPending: 0n, debitsPosted: 2_500n });
    expect(state.accounts.get('x')).toMatchObject({ creditsPending: 0n, creditsPosted: 2_500n });
    expect(state.holds.get('h')).toMatchObject({ status: 'posted', postedMinor: 2_500n, resolvedById: 'p' });
    expect(state.openHoldIds.has('h')).toBe(false);
  });

  it('posts the whole hold when the post amount is 0, and a retry of that post is exists', () => {
    const state = givenLedger();
    run(state, [hold('h', 4_000n)]);
    expect(run(state, [post('p', 'h')]).accepted[0]?.amountMinor).toBe(4_000n);
    expect(codes(createTransfers(state, [post('p', 'h')], T0_MS))).toEqual(['exists']);
    expect(codes(createTransfers(state, [post('p', 'h', 4_000n)], T0_MS))).toEqual(['exists']);
    expect(codes(createTransfers(state, [post('p', 'h', 3_000n)], T0_MS))).toEqual([
      'exists_with_different_fields',
    ]);
  });

  it('voids a hold, giving the whole amount back', () => {
    const state = givenLedger();
    run(state, [hold('h', 4_000n)]);
    run(state, [voidOf('v', 'h')]);
    expect(state.accounts.get('wallet')).toMatchObject({ debitsPending: 0n, debitsPosted: 0n });
    expect(state.holds.get('h')).toMatchObject({ status: 'voided', postedMinor: 0n });
  });

  it('posts a hold just before its expiry', () => {
    const state = givenLedger();
    run(state, [hold('h', 1_000n, { timeoutSeconds: 60 })]);
    expect(codes(run(state, [post('p', 'h')], T0_MS + 59_999))).toEqual(['ok']);
  });

  it('expires due holds only when the sweep is called with a time, as hold_expiry voids', async () => {
    const { expirePendingTransfers } = await import('./apply.js');
    const state = givenLedger();
    run(state, [
      hold('late', 1_000n, { timeoutSeconds: 120 }),
      hold('soon', 2_000n, { timeoutSeconds: 60 }),
      hold('never', 500n),
    ]);
    expect(expirePendingTransfers(state, T0_MS + 59_999).accepted).toEqual([]);
    const sweep = expirePendingTransfers(state, T0_MS + 3_600_000);
    expect(sweep.accepted.map((entry) => [entry.id, entry.code, entry.amountMinor])).toEqual([
      ['sys:expiry:soon', 'hold_expiry', 2_000n],
      ['sys:expiry:late', 'hold_expiry', 1_000n],
    ]);
    commitChanges(state, sweep.changes);
    expect(state.holds.get('soon')?.status).toBe('expired');
    expect(state.accounts.get('wallet')).toMatchObject({ debitsPending: 500n, debitsPosted: 0n });
    expect([...state.openHoldIds]).toEqual(['never']);
    expect(codes(createTransfers(state, [post('p', 'soon')], T0_MS + 3_600_000))).toEqual([
      'pending_transfer_expired',
    ]);
  });

  it('bounds the expiry sweep and reports what remains', async () => {
    const { expirePendingTransfers } = await import('./apply.js');
    const state = givenLedger();
    run(
      state,
      Array.from({ length: 5 }, (_, index) => hold(`h${index}`, 10n, { timeoutSeconds: 1 })),
    );
    const first = expirePendingTransfers(state, T0_MS + 2_000, 3);
    expect([first.accepted.length, first.remaining]).toEqual([3, 2]);
    commitChanges(state, first.changes);
    const second = expirePendingTransfers(state, T0_MS + 2_000, 3);
    expect([second.accepted.length, second.remaining]).toEqual([2, 0]);
  });

  it('lets a void release a hold on a closed account but refuses a post into it', () => {
    const state = givenLedger();
    run(state, [hold('h1', 100n), hold('h2', 100n)]);
    run(state, [move('close', 'wallet', 'x', 1n, { flags: { closingCredit: true } })]);
    expect(codes(createTransfers(state, [post('p', 'h1')], T0_MS))).toEqual(['account_closed']);
    expect(codes(run(state, [voidOf('v', 'h2')]))).toEqual(['ok']);
  });
});

describe('linked chains', () => {
  const chain = (...transfers: Transfer[]): Transfer[] =>
    transfers.map((item, index) =>
      index < transfers.length - 1 ? { ...item, flags: { ...item.flags, linked: true } } : item,
    );

  it('applies every member when all succeed', () => {
    const state = givenLedger();
    const outcome = run(state, chain(move('a', 'wallet', 'x', 100n), move('b', 'x', 'y', 100n)));
    expect(codes(outcome)).toEqual(['ok', 'ok']);
    expect(state.accounts.get('y')?.creditsPosted).toBe(100n);
  });

  it('fails the whole chain when one member fails: its own code, linked_event_failed for the rest', () => {
    const state = givenLedger();
    const before = snapshotOf(state);
    const outcome = createTransfers(
      state,
      [
        move('solo', 'x', 'y', 1n),
        ...chain(move('a', 'wallet', 'x', 100n), move('b', 'wallet', 'y', 20_000n), move('c', 'x', 'y', 1n)),
        move('after', 'x', 'y', 2n),
      ],
      T0_MS,
    );
    expect(codes(outcome)).toEqual([
      'ok',
      'linked_event_failed',
      'exceeds_credits',
      'linked_event_failed',
      'ok',
    ]);
    expect(outcome.accepted.map((item) => item.id)).toEqual(['solo', 'after']);
    expect(outcome.changes.transfers.has('a')).toBe(false);
    expect(outcome.changes.accounts.get('wallet')).toBeUndefined();
    expect(snapshotOf(state)).toEqual(before);
  });

  it('reports exists for every member of a retried chain', () => {
    const state = givenLedger();
    const members = chain(move('a', 'wallet', 'x', 100n), move('b', 'x', 'y', 100n));
    run(state, members);
    expect(codes(createTransfers(state, members, T0_MS))).toEqual(['exists', 'exists']);
  });

  it('fails a chain that mixes an existing member with new ones, at the existing one', () => {
    const state = givenLedger();
    run(state, chain(move('a', 'wallet', 'x', 100n), move('b', 'x', 'y', 100n)));
    const outcome = createTransfers(
      state,
      chain(move('a', 'wallet', 'x', 100n), move('c', 'x', 'y', 100n)),
      T0_MS,
    );
    expect(codes(outcome)).toEqual(['exists', 'linked_event_failed']);
    expect(outcome.accepted).toEqual([]);
  });

  it('lets a member rely on what an earlier member of the same chain did', () => {
    const state = givenLedger();
    const spendFirst = chain(move('d1', 'x', 'clearing', 50n), move('c1', 'clearing', 'wallet', 50n));
    expect(codes(run(state, spendFirst))).toEqual(['exceeds_debits', 'linked_event_failed']);
    const fundFirst = chain(move('c2', 'clearing', 'wallet', 50n), move('d2', 'x', 'clearing', 50n));
    expect(codes(run(state, fundFirst))).toEqual(['ok', 'ok']);
  });
});

describe('timestamps', () => {
  it('gives each transfer a strictly increasing timestamp even when the clock goes back', () => {
    const state = givenLedger();
    const first = run(state, [move('a', 'x', 'y', 1n), move('b', 'x', 'y', 1n)], T0_MS + 10);
    const second = run(state, [move('c', 'x', 'y', 1n)], T0_MS);
    const stamps = [...first.accepted, ...second.accepted].map((item) => item.timestamp);
    expect(stamps[0]).toBe(BigInt(T0_MS + 10) * 1_000_000n);
    expect(stamps.every((stamp, index) => index === 0 || stamp > (stamps[index - 1] ?? 0n))).toBe(true);
  });
});
