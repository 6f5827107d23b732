import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBatchEvent } from './codec.js';
import { MISMATCH_KINDS, replay, replayEncoded, type MismatchKind } from './replay.js';
import type { Account, AcceptedTransfer, LedgerBatchBody, LedgerBatchEvent } from './types.js';
import { historyArbitrary, playHistory } from './testing/arbitraries.js';
import { NO_FLAGS, WALLET_FLAGS, sealAll } from './testing/fixtures.js';

const NS = 1_767_225_600_000_000_000n;

function opened(id: string, flags = NO_FLAGS, currency: Account['currency'] = 'XAF'): Account {
  return {
    id,
    currency,
    kind: 'liability',
    flags,
    debitsPending: 0n,
    debitsPosted: 0n,
    creditsPending: 0n,
    creditsPosted: 0n,
  };
}

let clock = 0n;
function accepted(fields: Partial<AcceptedTransfer> & Pick<AcceptedTransfer, 'id'>): AcceptedTransfer {
  clock += 1n;
  return {
    debitAccountId: 'source',
    creditAccountId: 'wallet',
    amountMinor: 1n,
    currency: 'XAF',
    code: 'adjustment',
    flags: {},
    timestamp: NS + clock,
    ...fields,
  };
}

/** A sound history: open accounts, fund a wallet, hold 300 from it, post 200 of the hold. */
function soundBodies(): LedgerBatchBody[] {
  clock = 0n;
  return [
    {
      accountsCreated: [
        opened('source'),
        opened('wallet', WALLET_FLAGS),
        opened('shop'),
        opened('usd', NO_FLAGS, 'USD'),
      ],
      transfersAccepted: [accepted({ id: 'fund', amountMinor: 1_000n })],
    },
    {
      accountsCreated: [],
      transfersAccepted: [
        accepted({
          id: 'hold',
          debitAccountId: 'wallet',
          creditAccountId: 'shop',
          amountMinor: 300n,
          flags: { pending: true },
        }),
      ],
    },
    {
      accountsCreated: [],
      transfersAccepted: [
        accepted({
          id: 'post',
          debitAccountId: 'wallet',
          creditAccountId: 'shop',
          amountMinor: 200n,
          flags: { postPending: true },
          pendingId: 'hold',
        }),
      ],
    },
  ];
}

/** Adds an event of these transfers and re-seals: the chain is intact, the content is not. */
function forged(...transfers: AcceptedTransfer[]): ReturnType<typeof replay> {
  const bodies = soundBodies();
  bodies.push({
    accountsCreated: [],
    transfersAccepted: transfers.map((item) => ({ ...item, timestamp: NS + 100n + (clock += 1n) })),
  });
  return replay(sealAll(bodies));
}

describe('replay of a sound history', () => {
  it('finds no mismatch, balances the trial balance and recomputes the head hash', () => {
    const events = sealAll(soundBodies());
    const report = replay(events);
    expect(report.mismatches).toEqual([]);
    expect(report.finalHash).toBe(events.at(-1)?.hash);
    expect(report.trialBalance.XAF).toEqual({
      debitsPosted: 1_200n,
      creditsPosted: 1_200n,
      debitsPending: 0n,
      creditsPending: 0n,
    });
    expect(report.accounts.get('wallet')).toMatchObject({
      debitsPosted: 200n,
      debitsPending: 0n,
      creditsPosted: 1_000n,
    });
  });

  it('rebuilds exactly the balances the writer holds, for any history', () => {
    fc.assert(
      fc.property(historyArbitrary, (plan) => {
        const { state, bodies } = playHistory(plan);
        const report = replay(sealAll(bodies));
        expect(report.mismatches).toEqual([]);
        expect(new Map([...report.accounts].sort())).toEqual(new Map([...state.accounts].sort()));
      }),
      { numRuns: 100 },
    );
  });
});

describe('replay names what is wrong and where', () => {
  const sound = (): LedgerBatchEvent[] => sealAll(soundBodies());
  const cases: ReadonlyArray<[MismatchKind, string, () => ReturnType<typeof replay>, number]> = [
    [
      'undecodable',
      'bytes that are not an event',
      () => replayEncoded([...sound().map(encodeBatchEvent), '{"nope":1}']),
      3,
    ],
    [
      'hash_mismatch',
      'an amount edited in place',
      () => {
        const events = sound();
        const [first, second, third] = events as [LedgerBatchEvent, LedgerBatchEvent, LedgerBatchEvent];
        const edited = {
          ...second,
          transfersAccepted: second.transfersAccepted.map((item) => ({ ...item, amountMinor: 30n })),
        };
        return replay([first, edited, third]);
      },
      1,
    ],
    [
      'previous_hash_mismatch',
      'an event removed from the middle',
      () => {
        const [first, , third] = sound() as [LedgerBatchEvent, LedgerBatchEvent, LedgerBatchEvent];
        return replay([first, third]);
      },
      1,
    ],
    [
      'final_hash_mismatch',
      'a head that differs from the anchor',
      () => replay(sound(), { expectedFinalHash: 'f'.repeat(64) }),
      2,
    ],
    [
      'duplicate_account',
      'an account created twice',
      () => {
        const bodies = soundBodies();
        bodies.push({ accountsCreated: [opened('shop')], transfersAccepted: [] });
        return replay(sealAll(bodies));
      },
      3,
    ],
    [
      'account_created_with_balance',
      'an account born with money',
      () => {
        const bodies = soundBodies();
        bodies.push({ accountsCreated: [{ ...opened('gift'), creditsPosted: 5n }], transfersAccepted: [] });
        return replay(sealAll(bodies));
      },
      3,
    ],
    [
      'unbalanced',
      'money created out of nothing',
      () => {
        const bodies = soundBodies();
        bodies.push({ accountsCreated: [{ ...opened('gift'), creditsPosted: 5n }], transfersAccepted: [] });
        return replay(sealAll(bodies));
      },
      3,
    ],
    [
      'duplicate_transfer',
      'a transfer accepted twice',
      () => forged(accepted({ id: 'fund', amountMinor: 1_000n })),
      3,
    ],
    [
      'timestamp_not_increasing',
      'a timestamp from the past',
      () => {
        const bodies = soundBodies();
        bodies.push({ accountsCreated: [], transfersAccepted: [accepted({ id: 'late', timestamp: NS })] });
        return replay(sealAll(bodies));
      },
      3,
    ],
    ['invalid_amount', 'a zero amount', () => forged(accepted({ id: 'zero', amountMinor: 0n })), 3],
    [
      'unknown_account',
      'an account never created',
      () => forged(accepted({ id: 'ghost', creditAccountId: 'ghost' })),
      3,
    ],
    [
      'same_account',
      'a transfer to itself',
      () => forged(accepted({ id: 'self', debitAccountId: 'shop', creditAccountId: 'shop' })),
      3,
    ],
    [
      'currency_mismatch',
      'XAF moved into a USD account',
      () => forged(accepted({ id: 'fx', creditAccountId: 'usd' })),
      3,
    ],
    [
      'closed_account_used',
      'money into a closed account',
      () => forged(accepted({ id: 'close', flags: { closingCredit: true } }), accepted({ id: 'after' })),
      3,
    ],
    [
      'hold_not_found',
      'a post of a hold that never was',
      () => forged(accepted({ id: 'p2', flags: { postPending: true }, pendingId: 'nothing' })),
      3,
    ],
    [
      'hold_resolved_twice',
      'a hold voided after it was posted',
      () =>
        forged(
          accepted({
            id: 'p2',
            debitAccountId: 'wallet',
            creditAccountId: 'shop',
            amountMinor: 100n,
            flags: { voidPending: true },
            pendingId: 'hold',
          }),
        ),
      3,
    ],
    [
      'hold_accounts_mismatch',
      'a post into other accounts than the hold',
      () => {
        const bodies = soundBodies();
        bodies[2] = {
          accountsCreated: [],
          transfersAccepted: [
            accepted({
              id: 'post',
              debitAccountId: 'wallet',
              creditAccountId: 'source',
              amountMinor: 200n,
              flags: { postPending: true },
              pendingId: 'hold',
            }),
          ],
        };
        return replay(sealAll(bodies));
      },
      2,
    ],
    [
      'posted_exceeds_held',
      'a post of more than was held',
      () => {
        const bodies = soundBodies();
        bodies[2] = {
          accountsCreated: [],
          transfersAccepted: [
            accepted({
              id: 'post',
              debitAccountId: 'wallet',
              creditAccountId: 'shop',
              amountMinor: 301n,
              flags: { postPending: true },
              pendingId: 'hold',
            }),
          ],
        };
        return replay(sealAll(bodies));
      },
      2,
    ],
    [
      'void_amount_mismatch',
      'a void of part of a hold',
      () => {
        const bodies = soundBodies();
        bodies[2] = {
          accountsCreated: [],
          transfersAccepted: [
            accepted({
              id: 'void',
              debitAccountId: 'wallet',
              creditAccountId: 'shop',
              amountMinor: 100n,
              flags: { voidPending: true },
              pendingId: 'hold',
            }),
          ],
        };
        return replay(sealAll(bodies));
      },
      2,
    ],
    [
      'bounds_exceeded',
      'a wallet spent past its credits',
      () =>
        forged(
          accepted({ id: 'overdraft', debitAccountId: 'wallet', creditAccountId: 'shop', amountMinor: 801n }),
        ),
      3,
    ],
  ];

  for (const [kind, name, run, eventIndex] of cases) {
    it(`reports ${kind} at event ${eventIndex} for ${name}`, () => {
      const report = run();
      expect(report.mismatches.map((mismatch) => [mismatch.kind, mismatch.eventIndex])).toContainEqual([
        kind,
        eventIndex,
      ]);
    });
  }

  it('has a case for every mismatch kind', () => {
    const covered = new Set(cases.map(([kind]) => kind));
    expect(MISMATCH_KINDS.filter((kind) => !covered.has(kind))).toEqual([]);
  });

  it('names the event whose stored bytes changed, whichever byte it is', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (plan, eventPick, bytePick, xor) => {
          const stored = sealAll(playHistory(plan).bodies).map((event) =>
            new TextEncoder().encode(encodeBatchEvent(event)),
          );
          expect(replayEncoded(stored).mismatches).toEqual([]);
          const target = eventPick % stored.length;
          const bytes = Uint8Array.from(stored[target] ?? []);
          const position = bytePick % bytes.length;
          bytes[position] = (bytes[position] ?? 0) ^ xor;
          const tampered = stored.map((item, index) => (index === target ? bytes : item));
          const report = replayEncoded(tampered);
          expect(report.mismatches[0]?.eventIndex).toBe(target);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('replays a history into the same accounts whether given objects or stored bytes', () => {
    const events = sound();
    expect(new Map(replayEncoded(events.map(encodeBatchEvent)).accounts)).toEqual(
      new Map(replay(events).accounts),
    );
  });
});
