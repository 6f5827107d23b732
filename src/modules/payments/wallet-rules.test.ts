import { describe, expect, it } from 'vitest';
import { categoryOf, paymentParts } from './wallet-service.js';
import { doualaPeriods, uuidFromName } from './ids.js';

describe('wallet payment parts', () => {
  it('splits an order total into food (with tax, less discount), delivery and tips that sum to it exactly', () => {
    const parts = paymentParts({
      subtotalMinor: 6_500,
      discountMinor: 500,
      deliveryFeeMinor: 620,
      taxMinor: 1_100,
      tipMinor: 200,
      totalMinor: 7_920,
    });
    expect(parts).toEqual([
      { category: 'food', amountMinor: 7_100n },
      { category: 'delivery', amountMinor: 620n },
      { category: 'tips', amountMinor: 200n },
    ]);
  });
  it('leaves out empty parts and refuses a total the parts do not make', () => {
    expect(
      paymentParts({
        subtotalMinor: 1_000,
        discountMinor: 0,
        deliveryFeeMinor: 500,
        taxMinor: 0,
        tipMinor: 0,
        totalMinor: 1_500,
      }).map((part) => part.category),
    ).toEqual(['food', 'delivery']);
    expect(() =>
      paymentParts({
        subtotalMinor: 1_000,
        discountMinor: 0,
        deliveryFeeMinor: 500,
        taxMinor: 0,
        tipMinor: 0,
        totalMinor: 1_501,
      }),
    ).toThrow(RangeError);
  });
});

describe('statement categories', () => {
  it('uses the category a transfer declares, else its code', () => {
    expect(categoryOf('payment_capture', { category: 'delivery' })).toBe('delivery');
    expect(categoryOf('topup', null)).toBe('top-ups');
    expect(categoryOf('refund', null)).toBe('refunds');
    expect(categoryOf('tip', null)).toBe('tips');
    expect(categoryOf('adjustment', { category: 'nonsense' })).toBe('other');
  });
});

describe('ids and periods', () => {
  it('derives the same attempt id from the same key, another from another', () => {
    expect(uuidFromName('payment', 'u1\nkey-1')).toBe(uuidFromName('payment', 'u1\nkey-1'));
    expect(uuidFromName('payment', 'u1\nkey-1')).not.toBe(uuidFromName('payment', 'u2\nkey-1'));
    expect(uuidFromName('payment', 'x')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it('counts limits in Douala days (UTC+1): 23:30 UTC is already tomorrow', () => {
    expect(doualaPeriods(new Date('2026-11-30T23:30:00Z'))).toEqual({
      day: 'D2026-12-01',
      month: 'M2026-12',
    });
    expect(doualaPeriods(new Date('2026-11-30T22:30:00Z'))).toEqual({
      day: 'D2026-11-30',
      month: 'M2026-11',
    });
  });
});
