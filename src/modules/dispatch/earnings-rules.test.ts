import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chartAccount,
  createAccounts,
  createTransfers,
  commitChanges,
  deliveryExpenseId,
  driverPayableId,
  emptyLedgerState,
  type LedgerState,
} from '../../../ledger/rules/index.js';
import {
  fuelMinor,
  incentiveTransfers,
  inPeak,
  periodStart,
  summarize,
  type BookedDelivery,
  type IncentiveRule,
} from './earnings-rules.js';

const DRIVERS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
const FUEL: IncentiveRule = { id: 'fuel-1', kind: 'fuel_per_km', name: 'fuel', amountMinor: 100n };
const EVENING: IncentiveRule = {
  id: 'peak-1',
  kind: 'peak_hour',
  name: 'dinner',
  amountMinor: 250n,
  weekdays: [5, 6],
  startHour: 18,
  endHour: 22,
};
// Friday 2026-12-04 19:30 in Douala = 18:30 UTC.
const FRIDAY_EVENING = Date.parse('2026-12-04T18:30:00Z');

describe('incentive rules', () => {
  it('fuel is paid per km carried, rounded to the franc', () => {
    expect(fuelMinor(2_345, 100n)).toBe(235n);
    expect(fuelMinor(0, 100n)).toBe(0n);
    expect(fuelMinor(-5, 100n)).toBe(0n);
  });

  it('peak hours are Douala weekdays and hours, the end hour excluded', () => {
    expect(inPeak(EVENING as Extract<IncentiveRule, { kind: 'peak_hour' }>, FRIDAY_EVENING)).toBe(true);
    expect(
      inPeak(EVENING as Extract<IncentiveRule, { kind: 'peak_hour' }>, Date.parse('2026-12-04T21:00:00Z')),
    ).toBe(false); // 22:00
    expect(
      inPeak(EVENING as Extract<IncentiveRule, { kind: 'peak_hour' }>, Date.parse('2026-12-03T18:30:00Z')),
    ).toBe(false); // Thursday
  });

  it('a challenge pays each driver who reached the target inside its window, once', () => {
    const challenge: IncentiveRule = {
      id: 'ch-1',
      kind: 'bonus_challenge',
      name: 'three a day',
      amountMinor: 1_000n,
      target: 3,
      fromMs: FRIDAY_EVENING - 3_600_000,
      toMs: FRIDAY_EVENING + 3_600_000,
    };
    const deliveries: BookedDelivery[] = [0, 1, 2, 3].map((index) => ({
      orderId: `o${index}`,
      driverId: index < 3 ? DRIVERS[0]! : DRIVERS[1]!,
      bookedAtMs: FRIDAY_EVENING + index * 60_000,
      distanceMeters: 0,
    }));
    const transfers = incentiveTransfers(deliveries, [challenge]);
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({
      id: `drv:bonus_challenge:ch-1:${DRIVERS[0]}`,
      amountMinor: 1_000n,
      debitAccountId: deliveryExpenseId('XAF'),
      creditAccountId: driverPayableId(DRIVERS[0]!, 'XAF'),
      code: 'driver_incentive',
      userData: { incentive: 'bonus_challenge', ruleId: 'ch-1' },
    });
  });

  it('weeks start on Monday and months on the 1st, in Douala', () => {
    expect(periodStart(Date.parse('2026-12-06T12:00:00Z'), 'week')).toBe('2026-11-30');
    expect(periodStart(Date.parse('2026-11-30T23:30:00Z'), 'month')).toBe('2026-12-01');
  });
});

const deliveryArbitrary = fc.record({
  orderId: fc.uuid({ version: 4 }),
  driverId: fc.constantFrom(...DRIVERS),
  bookedAtMs: fc.integer({ min: FRIDAY_EVENING - 86_400_000, max: FRIDAY_EVENING + 86_400_000 }),
  distanceMeters: fc.integer({ min: 0, max: 40_000 }),
});
const rulesArbitrary = fc.subarray<IncentiveRule>([
  FUEL,
  EVENING,
  {
    id: 'ch-2',
    kind: 'bonus_challenge',
    name: 'two',
    amountMinor: 700n,
    target: 2,
    fromMs: FRIDAY_EVENING - 86_400_000,
    toMs: FRIDAY_EVENING + 86_400_000,
  },
]);

function book(state: LedgerState, transfers: ReturnType<typeof incentiveTransfers>) {
  const outcome = createTransfers(state, transfers, 1_800_000_000_000);
  return {
    results: outcome.results.map((entry) => entry.result),
    state: commitChanges(state, outcome.changes),
  };
}

describe('settlement on the ledger (property)', () => {
  it('moves exactly what the drivers receive out of the delivery expense; booking again moves nothing', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(deliveryArbitrary, { selector: (d) => d.orderId, maxLength: 12 }),
        rulesArbitrary,
        (deliveries, rules) => {
          const accounts = [
            deliveryExpenseId('XAF'),
            ...DRIVERS.map((driver) => driverPayableId(driver, 'XAF')),
          ];
          const opened = createAccounts(
            emptyLedgerState(),
            accounts.map((id) => chartAccount(id)!),
          );
          let state = commitChanges(emptyLedgerState(), opened.changes);
          const transfers = incentiveTransfers(deliveries, rules);
          // Deterministic: the same deliveries in another order give the same transfers.
          expect(incentiveTransfers([...deliveries].reverse(), rules)).toEqual(transfers);
          const first = book(state, transfers);
          expect(first.results.every((result) => result === 'ok')).toBe(true);
          state = first.state;
          const expense = state.accounts.get(deliveryExpenseId('XAF'))!;
          const paid = DRIVERS.reduce(
            (sum, driver) => sum + state.accounts.get(driverPayableId(driver, 'XAF'))!.creditsPosted,
            0n,
          );
          const total = transfers.reduce((sum, transfer) => sum + transfer.amountMinor, 0n);
          expect(expense.debitsPosted).toBe(total);
          expect(paid).toBe(total);
          let debits = 0n;
          let credits = 0n;
          for (const account of state.accounts.values()) {
            debits += account.debitsPosted;
            credits += account.creditsPosted;
          }
          expect(debits).toBe(credits);
          const again = book(state, incentiveTransfers(deliveries, rules));
          expect(again.results.every((result) => result === 'exists')).toBe(true);
          for (const [id, account] of again.state.accounts) expect(account).toEqual(state.accounts.get(id));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('every franc of the statement is in exactly one bucket', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              transferId: fc.string(),
              code: fc.constantFrom('driver_fee', 'tip', 'driver_incentive'),
              amountMinor: fc.bigInt({ min: 1n, max: 100_000n }),
              atMs: fc.integer({ min: FRIDAY_EVENING - 40 * 86_400_000, max: FRIDAY_EVENING }),
              orderId: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }),
              incentive: fc.constant(null),
              reason: fc.constant(null),
            }),
            // A fee reversed after a dispute: a debit, negative, counted in fees and never as a delivery.
            fc.record({
              transferId: fc.string(),
              code: fc.constant('driver_fee_reversal'),
              amountMinor: fc.bigInt({ min: -100_000n, max: -1n }),
              atMs: fc.integer({ min: FRIDAY_EVENING - 40 * 86_400_000, max: FRIDAY_EVENING }),
              orderId: fc.constantFrom('a', 'b', 'c'),
              incentive: fc.constant(null),
              reason: fc.constant(null),
            }),
          ),
          { maxLength: 30 },
        ),
        fc.constantFrom('day' as const, 'week' as const, 'month' as const),
        (entries, period) => {
          const summary = summarize(entries, period);
          const total = entries.reduce((sum, entry) => sum + entry.amountMinor, 0n);
          expect(summary.totals.totalMinor).toBe(total);
          expect(summary.buckets.reduce((sum, bucket) => sum + bucket.totalMinor, 0n)).toBe(total);
          expect(summary.totals.feesMinor + summary.totals.tipsMinor + summary.totals.incentivesMinor).toBe(
            total,
          );
          const fees = entries.filter((entry) => entry.code === 'driver_fee');
          expect(summary.buckets.reduce((sum, bucket) => sum + bucket.deliveries, 0)).toBeLessThanOrEqual(
            fees.length,
          );
          expect(summary.totals.feesMinor).toBe(
            entries
              .filter((entry) => entry.code === 'driver_fee' || entry.code === 'driver_fee_reversal')
              .reduce((sum, entry) => sum + entry.amountMinor, 0n),
          );
        },
      ),
    );
  });
});
