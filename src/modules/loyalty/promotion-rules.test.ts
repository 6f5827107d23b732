import { describe, expect, it } from 'vitest';
import {
  activeUntil,
  allocate,
  nextCameroonMinute,
  bestPromotion,
  promotionEffect,
  cameroonClock,
  promotionApplies,
  promotionProblems,
  weekdaysMask,
  type Promotion,
} from './promotion-rules.js';

// Friday 2026-12-04 17:30 UTC is 18:30 in Douala.
const friday1830 = new Date('2026-12-04T17:30:00Z');
const happyHour: Promotion = {
  id: '00000000-0000-4000-8000-000000000002',
  name: 'Happy hour',
  fundedBy: 'restaurant',
  restaurantId: 'r1',
  kind: 'percent',
  percent: '20',
  amountMinor: null,
  maxDiscountMinor: 2_000n,
  minSubtotalMinor: 0n,
  startsAt: new Date('2026-12-01T00:00:00Z'),
  endsAt: new Date('2026-12-31T00:00:00Z'),
  weekdays: weekdaysMask([5, 6]),
  startMinute: 18 * 60,
  endMinute: 20 * 60,
  disabledAt: null,
  itemIds: null,
  buyQuantity: null,
  getQuantity: null,
  comboPriceMinor: null,
};
const freeDelivery: Promotion = {
  ...happyHour,
  id: '00000000-0000-4000-8000-000000000001',
  name: 'Free delivery above 5 000',
  fundedBy: 'platform',
  restaurantId: null,
  kind: 'free_delivery',
  percent: null,
  maxDiscountMinor: null,
  minSubtotalMinor: 5_000n,
  weekdays: 127,
  startMinute: 0,
  endMinute: 1440,
};
const order = { restaurantId: 'r1', subtotalMinor: 6_000n, deliveryFeeMinor: 610n, at: friday1830 };

describe('promotion rules', () => {
  it('given a UTC instant, then the Cameroon clock is one hour ahead (day included)', () => {
    expect(cameroonClock(friday1830)).toEqual({ weekday: 5, minute: 18 * 60 + 30 });
    expect(cameroonClock(new Date('2026-12-05T23:30:00Z'))).toEqual({ weekday: 0, minute: 30 });
  });

  it('given a happy hour on Fridays and Saturdays 18:00–20:00, then it runs only then, for its restaurant', () => {
    expect(promotionApplies(happyHour, order)).toBe(true);
    expect(promotionApplies(happyHour, { ...order, at: new Date('2026-12-04T19:00:00Z') })).toBe(false); // 20:00
    expect(promotionApplies(happyHour, { ...order, at: new Date('2026-12-03T17:30:00Z') })).toBe(false); // Thursday
    expect(promotionApplies(happyHour, { ...order, restaurantId: 'r2' })).toBe(false);
    expect(promotionApplies({ ...happyHour, disabledAt: friday1830 }, order)).toBe(false);
    expect(promotionApplies({ ...happyHour, endsAt: friday1830 }, order)).toBe(false);
  });

  it('given several promotions, then the order gets the largest discount; free delivery needs its minimum', () => {
    // 20 % of 6 000 = 1 200 beats the 610 delivery fee.
    expect(bestPromotion([freeDelivery, happyHour], order)).toMatchObject({
      promotion: { id: happyHour.id },
      amountMinor: 1_200n,
    });
    // Outside happy hour, free delivery (the fee) applies above 5 000 of food, not below.
    const sunday = { ...order, at: new Date('2026-12-06T10:00:00Z') };
    expect(bestPromotion([freeDelivery, happyHour], sunday)).toMatchObject({ amountMinor: 610n });
    expect(bestPromotion([freeDelivery, happyHour], { ...sunday, subtotalMinor: 4_999n })).toBeUndefined();
    // The percent is capped by its ceiling.
    expect(bestPromotion([happyHour], { ...order, subtotalMinor: 50_000n })?.amountMinor).toBe(2_000n);
  });

  it('given bad definitions, then each problem is named', () => {
    expect(promotionProblems(happyHour)).toEqual([]);
    expect(promotionProblems(freeDelivery)).toEqual([]);
    expect(
      promotionProblems({ ...happyHour, name: ' ', weekdays: 0, startMinute: 600, endMinute: 600 }).map(
        (problem) => problem.split(':')[0],
      ),
    ).toEqual(['name', 'weekdays', 'endMinute']);
    expect(promotionProblems({ ...freeDelivery, amountMinor: 100n })).toEqual([
      expect.stringMatching(/^amountMinor: only/),
    ]);
    expect(promotionProblems({ ...happyHour, kind: 'fixed', percent: null, maxDiscountMinor: null })).toEqual(
      [expect.stringMatching(/^amountMinor: 1 to/)],
    );
  });

  const beer = '00000000-0000-4000-8000-0000000000b1';
  const fries = '00000000-0000-4000-8000-0000000000f1';
  const chicken = '00000000-0000-4000-8000-0000000000c1';
  const everyDay = { ...happyHour, weekdays: 127, startMinute: 0, endMinute: 1440, maxDiscountMinor: null };
  const buy2get1: Promotion = {
    ...everyDay,
    id: '00000000-0000-4000-8000-000000000003',
    kind: 'buy_get',
    percent: null,
    itemIds: [beer],
    buyQuantity: 2,
    getQuantity: 1,
  };
  const combo: Promotion = {
    ...everyDay,
    id: '00000000-0000-4000-8000-000000000004',
    kind: 'combo',
    percent: null,
    itemIds: [chicken, fries],
    comboPriceMinor: 3_000n,
  };
  // Lines: 4 beers at 600 (one line), 1 beer with an option at 700, 2 chickens 2 500, 1 fries 1 000.
  const lines = [
    { itemId: beer, quantity: 4, lineTotalMinor: 2_400n },
    { itemId: beer, quantity: 1, lineTotalMinor: 700n },
    { itemId: chicken, quantity: 2, lineTotalMinor: 5_000n },
    { itemId: fries, quantity: 1, lineTotalMinor: 1_000n },
  ];
  const itemOrder = { ...order, subtotalMinor: 9_100n, lines };

  it('given buy 2 get 1 on beers, then of every 3 units the cheapest is free, stated on its line', () => {
    // 5 beers: one group of 3, one free unit, the cheapest (600, on line 0).
    expect(promotionEffect(buy2get1, itemOrder)).toEqual({
      amountMinor: 600n,
      lines: [{ index: 0, discountMinor: 600n }],
    });
    // 6 beers (2 groups): two free units, both cheapest.
    const six = lines.map((line, index) =>
      index === 1 ? { ...line, quantity: 2, lineTotalMinor: 1_400n } : line,
    );
    expect(promotionEffect(buy2get1, { ...itemOrder, lines: six }).amountMinor).toBe(1_200n);
    // 2 beers: no full group, nothing.
    expect(
      promotionEffect(buy2get1, {
        ...itemOrder,
        lines: [lines[0]!].map((line) => ({ ...line, quantity: 2, lineTotalMinor: 1_200n })),
      }).amountMinor,
    ).toBe(0n);
  });

  it('given a combo of chicken and fries at 3 000, then each full set costs 3 000, split exactly over its lines', () => {
    // One set (1 fries): 2 500 + 1 000 − 3 000 = 500, split 2 500 : 1 000 (357.1 + 142.9: the franc left to the first line).
    const effect = promotionEffect(combo, itemOrder);
    expect(effect.amountMinor).toBe(500n);
    expect(effect.lines).toEqual([
      { index: 2, discountMinor: 358n },
      { index: 3, discountMinor: 142n },
    ]);
    // A combo price above the dishes' own: no discount.
    expect(promotionEffect({ ...combo, comboPriceMinor: 4_000n }, itemOrder).amountMinor).toBe(0n);
    // Without fries: no set.
    expect(promotionEffect(combo, { ...itemOrder, lines: lines.slice(0, 3) }).amountMinor).toBe(0n);
  });

  it("given an item percent promotion, then only its items' lines are discounted, per line", () => {
    const tenOnBeer: Promotion = { ...everyDay, percent: '10', itemIds: [beer] };
    expect(promotionEffect(tenOnBeer, itemOrder)).toEqual({
      amountMinor: 310n,
      lines: [
        { index: 0, discountMinor: 240n },
        { index: 1, discountMinor: 70n },
      ],
    });
    // The largest wins among item, combo and whole-food promotions.
    expect(bestPromotion([tenOnBeer, buy2get1, combo], itemOrder)).toMatchObject({
      promotion: { id: buy2get1.id },
      amountMinor: 600n,
    });
  });

  it('given any split, then allocate is exact and no part passes its line', () => {
    const weights = [
      { index: 0, discountMinor: 1n },
      { index: 4, discountMinor: 2n },
      { index: 7, discountMinor: 7n },
    ];
    for (let total = 0n; total <= 10n; total += 1n) {
      const parts = allocate(total, weights);
      expect(parts.reduce((sum, part) => sum + part.discountMinor, 0n)).toBe(total);
      for (const part of parts)
        expect(part.discountMinor).toBeLessThanOrEqual(
          weights.find((w) => w.index === part.index)!.discountMinor,
        );
    }
    expect(() => allocate(11n, weights)).toThrow(RangeError);
  });

  it('given item promotions badly defined, then each problem is named', () => {
    expect(promotionProblems(buy2get1)).toEqual([]);
    expect(promotionProblems(combo)).toEqual([]);
    expect(promotionProblems({ ...buy2get1, itemIds: null })).toEqual([
      expect.stringMatching(/^itemIds: required/),
    ]);
    expect(promotionProblems({ ...buy2get1, getQuantity: 0 })).toEqual([
      expect.stringMatching(/^buyQuantity/),
    ]);
    expect(promotionProblems({ ...combo, itemIds: [chicken] })).toEqual([
      expect.stringMatching(/^itemIds: a combo/),
    ]);
    expect(promotionProblems({ ...combo, itemIds: [chicken, chicken] })).toEqual([
      expect.stringMatching(/^itemIds: 1 to/),
    ]);
    expect(promotionProblems({ ...combo, comboPriceMinor: null })).toEqual([
      expect.stringMatching(/^comboPriceMinor/),
    ]);
    expect(promotionProblems({ ...freeDelivery, itemIds: [beer] })).toEqual([
      expect.stringMatching(/^itemIds: not/),
    ]);
    expect(promotionProblems({ ...happyHour, buyQuantity: 2 })).toEqual([
      expect.stringMatching(/^buyQuantity, getQuantity: only/),
    ]);
  });
});

describe('when a promotion stops (the menu shows it and is cached until the next edge)', () => {
  it('the next instant Cameroon’s clock reads a minute: today if still ahead, else tomorrow', () => {
    // 18:30 in Douala: 20:00 is 19:00Z today; 18:00 and 18:30 itself are tomorrow's.
    expect(nextCameroonMinute(20 * 60, friday1830).toISOString()).toBe('2026-12-04T19:00:00.000Z');
    expect(nextCameroonMinute(18 * 60, friday1830).toISOString()).toBe('2026-12-05T17:00:00.000Z');
    expect(nextCameroonMinute(18 * 60 + 30, friday1830).toISOString()).toBe('2026-12-05T17:30:00.000Z');
    // 24:00 is the next local midnight (23:00Z); 00:00 too.
    expect(nextCameroonMinute(1440, friday1830).toISOString()).toBe('2026-12-04T23:00:00.000Z');
    expect(nextCameroonMinute(0, friday1830).toISOString()).toBe('2026-12-04T23:00:00.000Z');
  });

  it('runs until the end of today’s hours or of its validity, whichever is first; null when not running', () => {
    expect(activeUntil(happyHour, friday1830)?.toISOString()).toBe('2026-12-04T19:00:00.000Z');
    const endingSooner = { ...happyHour, endsAt: new Date('2026-12-04T18:00:00Z') };
    expect(activeUntil(endingSooner, friday1830)?.toISOString()).toBe('2026-12-04T18:00:00.000Z');
    // Thursday: not one of its days.
    expect(activeUntil(happyHour, new Date('2026-12-03T17:30:00Z'))).toBeNull();
    // Friday 21:00 in Douala: after its hours.
    expect(activeUntil(happyHour, new Date('2026-12-04T20:00:00Z'))).toBeNull();
    expect(
      activeUntil({ ...happyHour, disabledAt: new Date('2026-12-04T00:00:00Z') }, friday1830),
    ).toBeNull();
  });
});
