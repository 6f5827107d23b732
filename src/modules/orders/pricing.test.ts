import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deliveryFeeMinor,
  discountMinor,
  priceOrder,
  PricingError,
  stackedDiscount,
  taxMinor,
  taxRateFromConfig,
} from './pricing.js';

const line = (unit: bigint, quantity = 1, deltas: bigint[] = []) => ({
  unitPriceMinor: unit,
  quantity,
  modifiers: deltas.map((priceDeltaMinor) => ({ priceDeltaMinor })),
});

describe('pricing: delivery fee is 500 XAF + 100 XAF per km, per started 100 m', () => {
  it.each([
    [0, 500n],
    [1, 510n],
    [100, 510n],
    [101, 520n],
    [1_000, 600n],
    [1_050, 610n],
    [2_000, 700n],
    [12_345, 1_740n],
  ])('%i m costs %s XAF', (metres, fee) => {
    expect(deliveryFeeMinor(metres)).toBe(fee);
  });
  it('refuses fractional, negative and absurd distances', () => {
    for (const metres of [-1, 1.5, 100_001, Number.NaN])
      expect(() => deliveryFeeMinor(metres)).toThrow(PricingError);
  });
});

describe('pricing: tax rounds half up to the franc', () => {
  it.each([
    [1_000n, '19.25', 193n], // 192.5 → 193
    [1_001n, '19.25', 193n], // 192.6925 → 193
    [200n, '2.5', 5n], // exactly 5
    [20n, '2.5', 1n], // 0.5 → 1 (half up, not half even)
    [60n, '2.5', 2n], // 1.5 → 2
    [999n, '0', 0n],
  ])('%s at %s %% is %s', (base, rate, tax) => {
    expect(taxMinor(base, rate)).toBe(tax);
  });
  it('reads the configured percentage exactly (no binary float)', () => {
    expect(taxRateFromConfig(19.25)).toBe('19.25');
    expect(() => taxRateFromConfig(101)).toThrow(PricingError);
  });
});

describe('pricing: discounts never exceed the subtotal', () => {
  it('a fixed coupon is capped at the subtotal', () => {
    expect(discountMinor(1_000n, { kind: 'fixed', amountMinor: 1_500n })).toBe(1_000n);
    expect(discountMinor(1_000n, { kind: 'fixed', amountMinor: 300n })).toBe(300n);
  });
  it('a percentage coupon rounds down and honours its cap', () => {
    expect(discountMinor(1_005n, { kind: 'percent', percent: '10' })).toBe(100n);
    expect(discountMinor(10_000n, { kind: 'percent', percent: '50', maxMinor: 2_000n })).toBe(2_000n);
  });
});

describe('pricing: the whole order', () => {
  it('computes each part and a total that adds up (worked example in docs/orders.md)', () => {
    // 2 × (2,500 + 500) + 1 × 1,000 = 7,000 food; 10 % coupon = 700; 2.35 km → 500 + 24 × 10 = 740;
    // tax 19.25 % of (7,000 − 700 + 740 = 7,040) = 1,355.2 → 1,355; tip 200.
    const pricing = priceOrder({
      lines: [line(2_500n, 2, [500n]), line(1_000n)],
      distanceMetres: 2_350,
      taxRatePercent: '19.25',
      tipMinor: 200n,
      discount: { kind: 'percent', percent: '10' },
    });
    expect(pricing).toEqual({
      lineTotalsMinor: [6_000n, 1_000n],
      subtotalMinor: 7_000n,
      discountMinor: 700n,
      deliveryFeeMinor: 740n,
      taxMinor: 1_355n,
      tipMinor: 200n,
      totalMinor: 8_595n,
    });
  });
  it('a waived delivery fee (a tier free delivery) joins the discount, lowers the tax base, never passes the fee', () => {
    // Food 7 000 − 700, fee 740 waived: tax 19.25 % of 6 300 = 1 212.75 → 1 213; total 6 300 + 1 213 + 200.
    const pricing = priceOrder({
      lines: [line(2_500n, 2, [500n]), line(1_000n)],
      distanceMetres: 2_350,
      taxRatePercent: '19.25',
      tipMinor: 200n,
      discount: { kind: 'percent', percent: '10' },
      deliveryDiscountMinor: 740n,
    });
    expect(pricing).toMatchObject({ discountMinor: 1_440n, deliveryFeeMinor: 740n, taxMinor: 1_213n });
    expect(pricing.totalMinor).toBe(7_713n);
    for (const deliveryDiscountMinor of [741n, -1n])
      expect(() =>
        priceOrder({
          lines: [line(1_000n)],
          distanceMetres: 2_350,
          taxRatePercent: '0',
          tipMinor: 0n,
          discount: { kind: 'none' },
          deliveryDiscountMinor,
        }),
      ).toThrow(PricingError);
  });

  it('refuses empty orders, bad quantities, negative prices and tips', () => {
    const base = {
      distanceMetres: 0,
      taxRatePercent: '0',
      tipMinor: 0n,
      discount: { kind: 'none' } as const,
    };
    expect(() => priceOrder({ ...base, lines: [] })).toThrow(PricingError);
    expect(() => priceOrder({ ...base, lines: [line(100n, 0)] })).toThrow(PricingError);
    expect(() => priceOrder({ ...base, lines: [line(100n, 51)] })).toThrow(PricingError);
    expect(() => priceOrder({ ...base, lines: [line(-1n)] })).toThrow(PricingError);
    expect(() => priceOrder({ ...base, lines: [line(100n, 1, [-5n])] })).toThrow(PricingError);
    expect(() => priceOrder({ ...base, tipMinor: -1n, lines: [line(100n)] })).toThrow(PricingError);
  });
  it('the parts always add up to the total, to the franc (property)', () => {
    const lineArbitrary = fc.record({
      unitPriceMinor: fc.bigInt({ min: 0n, max: 50_000n }),
      quantity: fc.integer({ min: 1, max: 5 }),
      modifiers: fc.array(fc.record({ priceDeltaMinor: fc.bigInt({ min: 0n, max: 2_000n }) }), {
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(lineArbitrary, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 30_000 }),
        fc.constantFrom('0', '19.25', '5', '7.5'),
        fc.bigInt({ min: 0n, max: 5_000n }),
        fc.integer({ min: 0, max: 100 }),
        (lines, distanceMetres, taxRatePercent, tipMinor, percent) => {
          const pricing = priceOrder({
            lines,
            distanceMetres,
            taxRatePercent,
            tipMinor,
            discount: { kind: 'percent', percent: String(percent) },
          });
          const sum = pricing.lineTotalsMinor.reduce((total, amount) => total + amount, 0n);
          expect(sum).toBe(pricing.subtotalMinor);
          expect(pricing.discountMinor).toBeLessThanOrEqual(pricing.subtotalMinor);
          expect(pricing.totalMinor).toBe(
            pricing.subtotalMinor -
              pricing.discountMinor +
              pricing.deliveryFeeMinor +
              pricing.taxMinor +
              pricing.tipMinor,
          );
          expect(pricing.totalMinor).toBeGreaterThanOrEqual(500n);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('pricing: a coupon then points on one order', () => {
  it('applies the offer on its base first, then points on the food left, never past the food', () => {
    const tenPercent = { kind: 'percent' as const, percent: '10' };
    // 10 % of the 1 505 XAF of scoped lines (150, rounded down), then 1 000 points of the 2 850 left.
    expect(
      stackedDiscount({
        subtotalMinor: 3_000n,
        offer: tenPercent,
        offerBaseMinor: 1_505n,
        pointsMinor: 1_000n,
      }),
    ).toEqual({ offerMinor: 150n, pointsMinor: 1_000n, totalMinor: 1_150n });
    expect(
      stackedDiscount({
        subtotalMinor: 2_000n,
        offer: { kind: 'fixed', amountMinor: 5_000n },
        offerBaseMinor: 2_000n,
        pointsMinor: 0n,
      }).totalMinor,
    ).toBe(2_000n);
    expect(() =>
      stackedDiscount({
        subtotalMinor: 2_000n,
        offer: { kind: 'fixed', amountMinor: 1_500n },
        offerBaseMinor: 2_000n,
        pointsMinor: 501n,
      }),
    ).toThrow(PricingError);
    expect(() =>
      stackedDiscount({ subtotalMinor: 100n, offer: tenPercent, offerBaseMinor: 101n, pointsMinor: 0n }),
    ).toThrow(PricingError);
  });

  it('never makes a negative total, for any coupon, base and points (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 100_000n }),
        fc.integer({ min: 0, max: 100 }),
        fc.oneof(
          fc
            .bigInt({ min: 0n, max: 200_000n })
            .map((amountMinor) => ({ kind: 'fixed' as const, amountMinor })),
          fc
            .integer({ min: 1, max: 100 })
            .map((percent) => ({ kind: 'percent' as const, percent: String(percent) })),
        ),
        fc.integer({ min: 0, max: 100 }),
        (subtotalMinor, baseShare, offer, pointsShare) => {
          const offerBaseMinor = (subtotalMinor * BigInt(baseShare)) / 100n;
          const first = stackedDiscount({ subtotalMinor, offer, offerBaseMinor, pointsMinor: 0n });
          const pointsMinor = ((subtotalMinor - first.offerMinor) * BigInt(pointsShare)) / 100n;
          const stacked = stackedDiscount({ subtotalMinor, offer, offerBaseMinor, pointsMinor });
          expect(stacked.offerMinor).toBeLessThanOrEqual(offerBaseMinor);
          expect(stacked.totalMinor).toBe(stacked.offerMinor + stacked.pointsMinor);
          const priced = priceOrder({
            lines: [line(subtotalMinor)],
            distanceMetres: 1_000,
            taxRatePercent: '19.25',
            tipMinor: 0n,
            discount: { kind: 'fixed', amountMinor: stacked.totalMinor },
          });
          expect(priced.discountMinor).toBe(stacked.totalMinor);
          expect(priced.totalMinor).toBeGreaterThanOrEqual(0n);
        },
      ),
      { numRuns: 300 },
    );
  });
});
