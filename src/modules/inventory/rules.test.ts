import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, ingredientsFor, suggestReorder, takeFromLots, weekOf } from './rules.js';

describe('ingredientsFor', () => {
  it('sums each ingredient over the lines and their quantities; dishes without a recipe take nothing', () => {
    const needs = ingredientsFor(
      [
        { itemId: 'ndole', quantity: 2 },
        { itemId: 'poulet', quantity: 1 },
        { itemId: 'jus', quantity: 3 },
      ],
      [
        { itemId: 'ndole', ingredientId: 'arachide', quantity: 150n },
        { itemId: 'ndole', ingredientId: 'plantain', quantity: 1n },
        { itemId: 'poulet', ingredientId: 'plantain', quantity: 2n },
      ],
    );
    expect(needs).toEqual(
      new Map([
        ['arachide', 300n],
        ['plantain', 4n],
      ]),
    );
  });
});

describe('takeFromLots', () => {
  const at = (day: string) => new Date(`${day}T08:00:00Z`);
  it('empties the first to expire first, lots that keep last, and reports what no lot covers', () => {
    const lots = [
      { id: 'keeps', remaining: 100n, expiresOn: null, receivedAt: at('2026-12-01') },
      { id: 'late', remaining: 50n, expiresOn: '2026-12-20', receivedAt: at('2026-12-01') },
      { id: 'soon', remaining: 30n, expiresOn: '2026-12-08', receivedAt: at('2026-12-05') },
    ];
    expect(takeFromLots(lots, 60n)).toEqual({
      takes: [
        { lotId: 'soon', quantity: 30n },
        { lotId: 'late', quantity: 30n },
      ],
      uncovered: 0n,
    });
    expect(takeFromLots(lots, 200n).uncovered).toBe(20n);
  });

  it('never takes more than a lot holds nor more than asked, and takes + uncovered = asked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 1_000n }), { maxLength: 8 }),
        fc.bigInt({ min: 0n, max: 5_000n }),
        (remainders, asked) => {
          const lots = remainders.map((remaining, index) => ({
            id: `lot${index}`,
            remaining,
            expiresOn: index % 2 === 0 ? null : addDays('2026-12-01', index),
            receivedAt: new Date(Date.UTC(2026, 11, 1, index)),
          }));
          const { takes, uncovered } = takeFromLots(lots, asked);
          const taken = takes.reduce((sum, take) => sum + take.quantity, 0n);
          expect(taken + uncovered).toBe(asked);
          for (const take of takes) {
            expect(take.quantity).toBeGreaterThan(0n);
            expect(take.quantity).toBeLessThanOrEqual(lots.find((lot) => lot.id === take.lotId)!.remaining);
          }
        },
      ),
    );
  });
});

describe('suggestReorder', () => {
  const base = { threshold: 500n, windowDays: 14, leadTimeDays: 2, coverDays: 7 };
  it('suggests enough for the lead time and the cover, back up to the threshold, once the stock will not last the lead time', () => {
    // 14 kg used in 14 days: 1 kg a day; reorder point = 2 days × 1 kg + 0.5 kg safety.
    expect(suggestReorder({ ...base, onHand: 2_600n, consumed: 14_000n })).toBeUndefined();
    expect(suggestReorder({ ...base, onHand: 2_500n, consumed: 14_000n })).toEqual({
      dailyUse: 1_000n,
      reorderPoint: 2_500n,
      // (2 + 7) days × 1 kg + 0.5 kg − 2.5 kg on hand
      quantity: 7_000n,
    });
  });
  it('with no use, it asks only to refill to the threshold, and nothing above it', () => {
    expect(suggestReorder({ ...base, onHand: 100n, consumed: 0n })?.quantity).toBe(400n);
    expect(suggestReorder({ ...base, onHand: 501n, consumed: 0n })).toBeUndefined();
  });
  it('a negative stock (used more than received) is refilled too', () => {
    expect(suggestReorder({ ...base, threshold: 0n, onHand: -10n, consumed: 1_400n })?.quantity).toBe(910n);
  });
});

describe('weekOf', () => {
  it('sums receipts, consumption net of returns, wastage by reason and count corrections per ingredient', () => {
    const weeks = weekOf([
      { ingredientId: 'a', kind: 'receipt', quantity: 5_000n, reason: null },
      { ingredientId: 'a', kind: 'consumption', quantity: -1_200n, reason: null },
      { ingredientId: 'a', kind: 'return', quantity: 200n, reason: null },
      { ingredientId: 'a', kind: 'wastage', quantity: -300n, reason: 'spoiled' },
      { ingredientId: 'a', kind: 'wastage', quantity: -100n, reason: 'expired' },
      { ingredientId: 'a', kind: 'count', quantity: -50n, reason: null },
    ]);
    expect(weeks.get('a')).toEqual({
      received: 5_000n,
      consumed: 1_000n,
      wasted: 400n,
      wastedByReason: { spoiled: 300n, expired: 100n },
      counted: -50n,
    });
  });
});
