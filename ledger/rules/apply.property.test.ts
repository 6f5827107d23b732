import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTransfers, evolve } from './apply.js';
import { trialBalance } from './replay.js';
import { allocate, reversalOf } from './splits.js';
import { commitChanges, type LedgerChanges, type LedgerState } from './state.js';
import { CURRENCIES, type Account, type Transfer } from './types.js';
import { SCENARIO_ACCOUNTS, historyArbitrary, openScenario, playHistory } from './testing/arbitraries.js';
import { T0_MS, codes, snapshotOf, transfer } from './testing/fixtures.js';

const RUNS = { numRuns: 100 };

function cloneState(state: LedgerState): LedgerState {
  return {
    accounts: new Map(state.accounts),
    transfers: new Map(state.transfers),
    holds: new Map(state.holds),
    openHoldIds: new Set(state.openHoldIds),
    lastTimestampNs: state.lastTimestampNs,
  };
}

function accountsAfter(before: LedgerState, changes: LedgerChanges): Account[] {
  const merged = new Map(before.accounts);
  for (const [id, account] of changes.accounts) merged.set(id, account);
  return [...merged.values()];
}

/** What an account is worth and has on hold, ignoring how much passed through it. */
function netPosition(account: Account): [bigint, bigint, bigint] {
  return [account.creditsPosted - account.debitsPosted, account.debitsPending, account.creditsPending];
}

function netPositions(state: LedgerState): Map<string, [bigint, bigint, bigint]> {
  return new Map([...state.accounts.values()].map((account) => [account.id, netPosition(account)]));
}

const accountIndex = fc.integer({ min: 0, max: SCENARIO_ACCOUNTS.length - 1 });
const idOf = (index: number): string => SCENARIO_ACCOUNTS[index]?.id ?? 'none';
const currencyOf = (index: number) => SCENARIO_ACCOUNTS[index]?.currency ?? 'XAF';

describe('ledger properties over random histories', () => {
  it('keeps Σ debits = Σ credits per currency, posted and pending, after every batch', () => {
    fc.assert(
      fc.property(historyArbitrary, (plan) => {
        playHistory(plan, ({ before, changes }) => {
          const totals = trialBalance(accountsAfter(before, changes));
          for (const currency of CURRENCIES) {
            expect(totals[currency].debitsPosted).toBe(totals[currency].creditsPosted);
            expect(totals[currency].debitsPending).toBe(totals[currency].creditsPending);
          }
        });
      }),
      RUNS,
    );
  });

  it('never lets a bounded account cross its limit, pending debits and credits counted', () => {
    fc.assert(
      fc.property(historyArbitrary, (plan) => {
        playHistory(plan, ({ before, changes }) => {
          for (const account of accountsAfter(before, changes)) {
            if (account.flags.debitsMustNotExceedCredits) {
              expect(account.debitsPending + account.debitsPosted).toBeLessThanOrEqual(account.creditsPosted);
            }
            if (account.flags.creditsMustNotExceedDebits) {
              expect(account.creditsPending + account.creditsPosted).toBeLessThanOrEqual(
                account.debitsPosted,
              );
            }
          }
        });
      }),
      RUNS,
    );
  });

  it('answers exists to every accepted transfer sent again, and conflicts on any other body, changing nothing', () => {
    fc.assert(
      fc.property(historyArbitrary, (plan) => {
        const acceptedInputs = new Map<string, Transfer>();
        const { state, accepted } = playHistory(plan, ({ transfers, outcome }) => {
          outcome?.results.forEach((entry) => {
            const input = transfers[entry.index];
            if (entry.result === 'ok' && input !== undefined) acceptedInputs.set(entry.id, input);
          });
        });
        const again = accepted.flatMap((item) => acceptedInputs.get(item.id) ?? []);
        const before = snapshotOf(state);
        const retried = createTransfers(state, again, T0_MS);
        expect(retried.results.every((entry) => entry.result === 'exists')).toBe(true);
        expect([
          retried.changes.accounts.size,
          retried.changes.transfers.size,
          retried.changes.holds.size,
        ]).toEqual([0, 0, 0]);
        // Another code (not another amount: a post or void of 0 means "the whole hold" and may match).
        const altered = again.map((item): Transfer => ({
          ...item,
          code: item.code === 'refund' ? 'adjustment' : 'refund',
          flags: { ...item.flags, linked: false },
        }));
        const conflicted = createTransfers(state, altered, T0_MS);
        expect(conflicted.results.every((entry) => entry.result === 'exists_with_different_fields')).toBe(
          true,
        );
        expect(conflicted.changes.accounts.size).toBe(0);
        expect(snapshotOf(state)).toEqual(before);
      }),
      RUNS,
    );
  });

  it('resolves each hold at most once, posts at most what it held, and releases the rest', () => {
    fc.assert(
      fc.property(historyArbitrary, (plan) => {
        const { state, accepted } = playHistory(plan);
        const resolutions = new Map<string, number>();
        for (const item of accepted) {
          if (item.pendingId !== undefined)
            resolutions.set(item.pendingId, (resolutions.get(item.pendingId) ?? 0) + 1);
        }
        expect([...resolutions.values()].every((count) => count === 1)).toBe(true);
        const heldBy = new Map<string, bigint>();
        for (const hold of state.holds.values()) {
          expect(hold.postedMinor).toBeLessThanOrEqual(hold.heldMinor);
          expect(hold.status === 'pending').toBe(state.openHoldIds.has(hold.transferId));
          expect(hold.status === 'pending').toBe(!resolutions.has(hold.transferId));
          if (hold.status !== 'pending') continue;
          heldBy.set(
            `d:${hold.debitAccountId}`,
            (heldBy.get(`d:${hold.debitAccountId}`) ?? 0n) + hold.heldMinor,
          );
          heldBy.set(
            `c:${hold.creditAccountId}`,
            (heldBy.get(`c:${hold.creditAccountId}`) ?? 0n) + hold.heldMinor,
          );
        }
        for (const account of state.accounts.values()) {
          expect(account.debitsPending).toBe(heldBy.get(`d:${account.id}`) ?? 0n);
          expect(account.creditsPending).toBe(heldBy.get(`c:${account.id}`) ?? 0n);
        }
      }),
      RUNS,
    );
  });

  it('leaves no trace of rejected transfers or failed chains: the batch does exactly what its accepted transfers do', () => {
    fc.assert(
      fc.property(historyArbitrary, (plan) => {
        playHistory(plan, ({ before, outcome, changes, body }) => {
          const acceptedIds = new Set(body.transfersAccepted.map((item) => item.id));
          expect(new Set(changes.transfers.keys())).toEqual(acceptedIds);
          if (outcome !== null && outcome.accepted.length === 0) {
            expect([changes.accounts.size, changes.holds.size]).toEqual([0, 0]);
          }
          const committed = commitChanges(cloneState(before), changes);
          const evolved = evolve(cloneState(before), body);
          expect(snapshotOf(committed)).toEqual(snapshotOf(evolved));
        });
      }),
      RUNS,
    );
  });

  it('restores every net balance when a transfer is followed by its reversal', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        accountIndex,
        accountIndex,
        fc.bigInt({ min: 1n, max: 5_000n }),
        (plan, from, to, amountMinor) => {
          const { state } = playHistory(plan);
          const positions = netPositions(state);
          const sent = transfer({
            id: 'forward',
            debitAccountId: idOf(from),
            creditAccountId: idOf(to),
            amountMinor,
            currency: currencyOf(from),
          });
          const forward = createTransfers(state, [sent], T0_MS + 3_600_000);
          fc.pre(codes(forward)[0] === 'ok');
          commitChanges(state, forward.changes);
          const back = createTransfers(state, [reversalOf(sent, 'back')], T0_MS + 3_600_000);
          expect(codes(back)).toEqual(['ok']);
          commitChanges(state, back.changes);
          expect(netPositions(state)).toEqual(positions);
        },
      ),
      RUNS,
    );
  });

  it('moves the same as one whole transfer when its amount is split into linked parts', () => {
    const weights = fc
      .array(fc.bigInt({ min: 0n, max: 50n }), { minLength: 1, maxLength: 6 })
      .filter((list) => list.some((weight) => weight > 0n));
    fc.assert(
      fc.property(
        historyArbitrary,
        accountIndex,
        accountIndex,
        fc.bigInt({ min: 1n, max: 8_000n }),
        weights,
        (plan, from, to, amountMinor, parts) => {
          const { state } = playHistory(plan);
          const base = { debitAccountId: idOf(from), creditAccountId: idOf(to), currency: currencyOf(from) };
          const whole = createTransfers(state, [transfer({ id: 'whole', amountMinor, ...base })], T0_MS);
          const pieces = allocate(amountMinor, parts).filter((part) => part > 0n);
          const split = createTransfers(
            state,
            pieces.map((part, index) =>
              transfer({
                id: `part${index}`,
                amountMinor: part,
                flags: index < pieces.length - 1 ? { linked: true } : {},
                ...base,
              }),
            ),
            T0_MS,
          );
          const wholeOk = codes(whole)[0] === 'ok';
          expect(codes(split).every((code) => code === 'ok')).toBe(wholeOk);
          const afterWhole = netPositions(commitChanges(cloneState(state), whole.changes));
          const afterSplit = netPositions(commitChanges(cloneState(state), split.changes));
          expect(afterSplit).toEqual(afterWhole);
        },
      ),
      RUNS,
    );
  });
});

describe('idempotency of one transfer', () => {
  it('moves money once however many times the same transfer is sent, within and across batches', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 4 }),
        fc.bigInt({ min: 1n, max: 10_000n }),
        (copies, batches, amountMinor) => {
          const { state } = openScenario([0n, 0n, 0n]);
          const same = transfer({
            id: 'once',
            debitAccountId: 'world-xaf',
            creditAccountId: 'wallet-a',
            amountMinor,
          });
          const results: string[] = [];
          for (let batch = 0; batch < batches; batch += 1) {
            const outcome = createTransfers(
              state,
              Array.from({ length: copies }, () => same),
              T0_MS + batch,
            );
            results.push(...codes(outcome));
            commitChanges(state, outcome.changes);
          }
          expect(results.filter((code) => code === 'ok')).toHaveLength(1);
          expect(results.filter((code) => code === 'exists')).toHaveLength(copies * batches - 1);
          expect(state.accounts.get('wallet-a')?.creditsPosted).toBe(amountMinor);
          const other = createTransfers(state, [{ ...same, creditAccountId: 'wallet-b' }], T0_MS);
          expect(codes(other)).toEqual(['exists_with_different_fields']);
        },
      ),
      RUNS,
    );
  });
});
