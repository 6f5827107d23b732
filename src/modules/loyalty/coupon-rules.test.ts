import { describe, expect, it } from 'vitest';
import { discountMinor } from '../orders/index.js';
import {
  couponDiscount,
  couponRefusal,
  definitionProblems,
  normalizeCode,
  repeatRatePercent,
  returnOnDiscount,
  type Coupon,
  type CouponDefinition,
} from './coupon-rules.js';

const at = new Date('2026-12-06T12:00:00Z');
const definition: CouponDefinition = {
  code: 'WELCOME10',
  kind: 'percent',
  percent: '10',
  amountMinor: null,
  maxDiscountMinor: 1_000n,
  minSubtotalMinor: 2_000n,
  startsAt: new Date('2026-12-01T00:00:00Z'),
  endsAt: new Date('2026-12-31T00:00:00Z'),
  totalLimit: 10,
  perCustomerLimit: 1,
};
const coupon: Coupon = {
  ...definition,
  id: '00000000-0000-4000-8000-000000000001',
  fundedBy: 'platform',
  restaurantId: null,
  uses: 0,
  disabledAt: null,
};
const use = { restaurantId: 'r1', subtotalMinor: 2_500n, at, customerUses: 0 };

describe('coupon rules', () => {
  it('given a code typed in any case, when normalised, then it is trimmed upper case', () => {
    expect(normalizeCode('  welcome10 ')).toBe('WELCOME10');
  });

  it('given a valid definition, then it has no problems; given bad fields, then each is named', () => {
    expect(definitionProblems(definition)).toEqual([]);
    expect(definitionProblems({ ...definition, percent: '0' })).toEqual([expect.stringMatching(/^percent/)]);
    expect(definitionProblems({ ...definition, percent: '100.001' })).toEqual([
      expect.stringMatching(/^percent/),
    ]);
    expect(
      definitionProblems({ ...definition, kind: 'fixed', percent: null, maxDiscountMinor: null }),
    ).toEqual([expect.stringMatching(/^amountMinor/)]);
    expect(
      definitionProblems({ ...definition, endsAt: definition.startsAt, totalLimit: 0, code: 'ab' }).map(
        (problem) => problem.split(':')[0],
      ),
    ).toEqual(['code', 'endsAt', 'totalLimit']);
    expect(definitionProblems({ ...definition, endsAt: new Date('2028-01-01T00:00:00Z') })).toEqual([
      expect.stringMatching(/^endsAt: at most/),
    ]);
  });

  it('given a percent coupon with a ceiling, when priced, then the discount is rounded down and capped', () => {
    expect(discountMinor(2_505n, couponDiscount(definition))).toBe(250n);
    expect(discountMinor(50_000n, couponDiscount(definition))).toBe(1_000n);
    const fixed = {
      ...definition,
      kind: 'fixed' as const,
      percent: null,
      amountMinor: 3_000n,
      maxDiscountMinor: null,
    };
    // A fixed coupon never gives more than the food.
    expect(discountMinor(2_500n, couponDiscount(fixed))).toBe(2_500n);
  });

  it('given the window, scope, minimum and caps, then the first rule broken is the refusal', () => {
    expect(couponRefusal(coupon, use)).toBeUndefined();
    const refusal = (changes: Partial<Coupon>, useChanges: Partial<typeof use> = {}) =>
      couponRefusal({ ...coupon, ...changes }, { ...use, ...useChanges });
    expect(refusal({ startsAt: new Date('2026-12-07T00:00:00Z') })?.reason).toMatch(/not valid yet/);
    expect(refusal({ endsAt: at })?.reason).toMatch(/expired/);
    expect(refusal({ disabledAt: at })?.reason).toMatch(/withdrawn/);
    expect(refusal({ restaurantId: 'r2' })?.reason).toMatch(/another restaurant/);
    expect(refusal({ restaurantId: 'r1' })).toBeUndefined();
    expect(refusal({}, { subtotalMinor: 1_999n })?.code).toBe('coupon_invalid');
    expect(refusal({ uses: 10 })?.code).toBe('coupon_exhausted');
    expect(refusal({ uses: 9 })).toBeUndefined();
    expect(refusal({}, { customerUses: 1 })?.code).toBe('coupon_customer_limit');
    expect(
      refusal({ totalLimit: null, perCustomerLimit: null, uses: 1_000 }, { customerUses: 50 }),
    ).toBeUndefined();
  });

  it('given a campaign’s figures, then repeat rate and food per discount franc are rounded down', () => {
    expect(repeatRatePercent({ customers: 3, repeatCustomers: 1 })).toBe('33.33');
    expect(repeatRatePercent({ customers: 0, repeatCustomers: 0 })).toBe('0.00');
    expect(returnOnDiscount({ foodMinor: 2_500n, discountMinor: 250n })).toBe('10.00');
    expect(returnOnDiscount({ foodMinor: 1_000n, discountMinor: 300n })).toBe('3.33');
    expect(returnOnDiscount({ foodMinor: 1_000n, discountMinor: 0n })).toBeNull();
  });
});
