import { describe, expect, it } from 'vitest';
import {
  createAccounts,
  createTransfers,
  decideBatch,
  evolve,
  expirePendingTransfers,
  loadAccounts,
} from './apply.js';
import { LedgerInvariantError } from './errors.js';
import {
  commitChanges,
  emptyLedgerState,
  evictAccounts,
  evictable,
  missingReferences,
  type LedgerState,
} from './state.js';
import { CREATE_ACCOUNT_RESULTS, type Account, type CreateAccountResult, type NewAccount } from './types.js';
import {
  NO_FLAGS,
  T0_MS,
  WALLET_FLAGS,
  fund,
  ledgerWith,
  newAccount,
  run,
  snapshotOf,
  transfer,
} from './testing/fixtures.js';

describe('createAccounts result codes', () => {
  const cases: ReadonlyArray<[CreateAccountResult, string, NewAccount]> = [
    ['ok', 'a new account', newAccount('fresh')],
    ['exists', 'the same account again', newAccount('taken', WALLET_FLAGS)],
    ['exists_with_different_fields', 'the same id with other flags', newAccount('taken', NO_FLAGS)],
    ['id_must_not_be_empty', 'an empty id', newAccount('')],
    ['id_too_long', 'an id past 128 characters', newAccount('a'.repeat(129))],
    ['currency_invalid', 'an unknown currency', { ...newAccount('gbp'), currency: 'GBP' as 'XAF' }],
    ['kind_invalid', 'an unknown kind', { ...newAccount('odd'), kind: 'odd' as 'asset' }],
    [
      'flags_are_mutually_exclusive',
      'both balance flags',
      newAccount('both', { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true }),
    ],
    ['balances_must_be_zero', 'an opening balance', { ...newAccount('rich'), creditsPosted: 5n }],
    ['closed_must_not_be_set', 'an account born closed', { ...newAccount('shut'), closed: true }],
  ];

  for (const [expected, name, input] of cases) {
    it(`answers ${expected} for ${name}`, () => {
      const state = ledgerWith([newAccount('taken', WALLET_FLAGS)]);
      const outcome = createAccounts(state, [input]);
      expect(outcome.results[0]?.result).toBe(expected);
      expect(outcome.accepted).toHaveLength(expected === 'ok' ? 1 : 0);
    });
  }

  it('has a case for every account result code', () => {
    const covered = new Set(cases.map(([code]) => code));
    expect(CREATE_ACCOUNT_RESULTS.filter((code) => !covered.has(code))).toEqual([]);
  });
});

describe('decideBatch', () => {
  it('opens an account and moves money through it in one batch body', () => {
    const state = ledgerWith([newAccount('source')]);
    const outcome = decideBatch(
      state,
      {
        accounts: [newAccount('target', WALLET_FLAGS)],
        transfers: [
          transfer({ id: 't', debitAccountId: 'source', creditAccountId: 'target', amountMinor: 7n }),
        ],
      },
      T0_MS,
    );
    expect(outcome.transferResults.map((entry) => entry.result)).toEqual(['ok']);
    expect(outcome.body.accountsCreated.map((account) => account.id)).toEqual(['target']);
    expect(outcome.body.transfersAccepted.map((item) => item.id)).toEqual(['t']);
    expect(state.accounts.has('target')).toBe(false);
    commitChanges(state, outcome.changes);
    expect(state.accounts.get('target')?.creditsPosted).toBe(7n);
  });
});

/** Builds a history as the writer would: decide, keep the body, commit. */
function historyOfBodies(): { state: LedgerState; bodies: Array<Parameters<typeof evolve>[1]> } {
  const state = emptyLedgerState();
  const bodies: Array<Parameters<typeof evolve>[1]> = [];
  const step = (outcome: ReturnType<typeof decideBatch>): void => {
    bodies.push(outcome.body);
    commitChanges(state, outcome.changes);
  };
  step(
    decideBatch(
      state,
      { accounts: [newAccount('world'), newAccount('w', WALLET_FLAGS), newAccount('r')] },
      T0_MS,
    ),
  );
  step(
    decideBatch(
      state,
      {
        transfers: [
          transfer({ id: 'f', debitAccountId: 'world', creditAccountId: 'w', amountMinor: 1_000n }),
          transfer({
            id: 'h',
            debitAccountId: 'w',
            creditAccountId: 'r',
            amountMinor: 600n,
            flags: { pending: true },
            timeoutSeconds: 5,
          }),
          transfer({
            id: 'h2',
            debitAccountId: 'w',
            creditAccountId: 'r',
            amountMinor: 100n,
            flags: { pending: true },
          }),
        ],
      },
      T0_MS,
    ),
  );
  step(
    decideBatch(
      state,
      { transfers: [transfer({ id: 'p', pendingId: 'h2', amountMinor: 40n, flags: { postPending: true } })] },
      T0_MS,
    ),
  );
  const expiry = expirePendingTransfers(state, T0_MS + 10_000);
  bodies.push({ accountsCreated: [], transfersAccepted: expiry.accepted });
  commitChanges(state, expiry.changes);
  return { state, bodies };
}

describe('evolve', () => {
  it('rebuilds from batch bodies exactly the state the decider committed', () => {
    const { state, bodies } = historyOfBodies();
    const rebuilt = bodies.reduce((current, body) => evolve(current, body), emptyLedgerState());
    expect(snapshotOf(rebuilt)).toEqual(snapshotOf(state));
  });

  it('crashes with LedgerInvariantError on a body that breaks a balance flag', () => {
    const { bodies } = historyOfBodies();
    const rebuilt = emptyLedgerState();
    evolve(rebuilt, bodies[0] ?? { accountsCreated: [], transfersAccepted: [] });
    const overdraft = {
      accountsCreated: [],
      transfersAccepted: [
        {
          ...transfer({ id: 'x', debitAccountId: 'w', creditAccountId: 'r', amountMinor: 1n }),
          timestamp: BigInt(T0_MS) * 2_000_000n,
        },
      ],
    };
    expect(() => evolve(rebuilt, overdraft)).toThrow(LedgerInvariantError);
  });
});

describe('memory bound', () => {
  const closedAtZero: Account = {
    ...newAccount('e'),
    debitsPending: 0n,
    debitsPosted: 50n,
    creditsPending: 0n,
    creditsPosted: 50n,
    closed: true,
  };

  it('calls an account evictable only when it is closed and at zero with no holds', () => {
    expect(evictable(closedAtZero)).toBe(true);
    expect(evictable({ ...closedAtZero, closed: false })).toBe(false);
    expect(evictable({ ...closedAtZero, creditsPosted: 51n })).toBe(false);
    expect(evictable({ ...closedAtZero, debitsPending: 1n, creditsPosted: 51n })).toBe(false);
    expect(evictable({ ...closedAtZero, creditsPending: 1n })).toBe(false);
  });

  it('evicts a settled escrow, then names it as missing when a transfer refers to it again', () => {
    const state = ledgerWith([newAccount('escrow', WALLET_FLAGS), newAccount('payable', WALLET_FLAGS)]);
    fund(state, 'escrow', 300n);
    run(state, [
      transfer({
        id: 's',
        debitAccountId: 'escrow',
        creditAccountId: 'payable',
        amountMinor: 300n,
        flags: { closingDebit: true },
      }),
    ]);
    expect(evictAccounts(state, ['escrow', 'payable'])).toEqual(['escrow']);
    const late = transfer({
      id: 'late',
      debitAccountId: 'payable',
      creditAccountId: 'escrow',
      amountMinor: 1n,
    });
    expect(createTransfers(state, [late], T0_MS).results[0]?.result).toBe('credit_account_not_found');
    expect(
      missingReferences(state, [
        late,
        transfer({ id: 'p', pendingId: 'gone', flags: { postPending: true } }),
      ]),
    ).toEqual({
      accountIds: ['escrow'],
      pendingTransferIds: ['gone'],
    });
  });
});

describe('commitChanges', () => {
  it('refuses changes decided before another batch was committed', () => {
    const state = ledgerWith([newAccount('a'), newAccount('b')]);
    const first = createTransfers(
      state,
      [transfer({ id: 't1', debitAccountId: 'a', creditAccountId: 'b', amountMinor: 1n })],
      T0_MS,
    );
    const stale = createTransfers(
      state,
      [transfer({ id: 't2', debitAccountId: 'a', creditAccountId: 'b', amountMinor: 1n })],
      T0_MS,
    );
    commitChanges(state, first.changes);
    expect(() => commitChanges(state, stale.changes)).toThrow(LedgerInvariantError);
    expect(state.transfers.has('t2')).toBe(false);
  });
});

describe('loadAccounts', () => {
  it('puts reloaded accounts back, and crashes on one that breaks its balance flag', () => {
    const state = emptyLedgerState();
    const sound: Account = {
      ...newAccount('w', WALLET_FLAGS),
      debitsPending: 0n,
      debitsPosted: 5n,
      creditsPending: 0n,
      creditsPosted: 5n,
      closed: true,
    };
    loadAccounts(state, [sound]);
    expect(state.accounts.get('w')).toEqual(sound);
    expect(() => loadAccounts(state, [sound])).toThrow(LedgerInvariantError);
    expect(() => loadAccounts(state, [{ ...sound, id: 'v', debitsPosted: 6n }])).toThrow(
      LedgerInvariantError,
    );
  });
});
