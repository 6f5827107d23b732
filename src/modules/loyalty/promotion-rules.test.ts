import { describe, expect, it } from 'vitest';
import {
  bestPromotion,
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
});
