import { describe, expect, it } from 'vitest';
import { discountMinor } from '../orders/index.js';
import {
  couponDiscount,
  cityMatches,
  couponRefusal,
  couponScopeRefusal,
  definitionProblems,
  scopedLines,
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
  firstOrderOnly: false,
  itemIds: null,
  categoryIds: null,
  city: null,
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

  const ITEM_A = '00000000-0000-4000-8000-00000000000a';
  const ITEM_B = '00000000-0000-4000-8000-00000000000b';
  const DRINKS = '00000000-0000-4000-8000-0000000000d1';
  const lines = [
    { itemId: ITEM_A, categoryId: DRINKS, lineTotalMinor: 1_000n },
    { itemId: ITEM_B, categoryId: null, lineTotalMinor: 1_500n },
    { itemId: ITEM_A, categoryId: DRINKS, lineTotalMinor: 505n },
  ];

  it('given a coupon scoped to items or categories, then only matching lines make its base', () => {
    expect(scopedLines(definition, lines)).toEqual({ lineIndexes: [0, 1, 2], baseMinor: 3_005n });
    expect(scopedLines({ itemIds: [ITEM_B], categoryIds: null }, lines)).toEqual({
      lineIndexes: [1],
      baseMinor: 1_500n,
    });
    expect(scopedLines({ itemIds: null, categoryIds: [DRINKS] }, lines)).toEqual({
      lineIndexes: [0, 2],
      baseMinor: 1_505n,
    });
    // Either matches: an item or a category.
    expect(scopedLines({ itemIds: [ITEM_B], categoryIds: [DRINKS] }, lines).baseMinor).toBe(3_005n);
    // 10 % of the drinks only, rounded down: 150, not 300 of the whole food.
    expect(discountMinor(1_505n, couponDiscount(definition))).toBe(150n);
    expect(definitionProblems({ ...definition, itemIds: [] })).toEqual([expect.stringMatching(/^itemIds/)]);
    expect(definitionProblems({ ...definition, categoryIds: ['x'] })).toEqual([
      expect.stringMatching(/^categoryIds/),
    ]);
    expect(definitionProblems({ ...definition, city: ' - ' })).toEqual([expect.stringMatching(/^city/)]);
  });

  it('given a city typed in any way, then the comparison ignores case, accents, spaces and hyphens', () => {
    expect(cityMatches(null, 'Douala')).toBe(true);
    expect(cityMatches('Yaoundé', ' yaounde ')).toBe(true);
    expect(cityMatches('YAOUNDE', 'Yaoundé')).toBe(true);
    expect(cityMatches('Bafoussam', 'Buea')).toBe(false);
    expect(cityMatches('Kribi', null)).toBe(false);
    expect(cityMatches('Ngaoundéré', 'ngaoundere')).toBe(true);
    expect(cityMatches('Dschang-Ville', 'dschang  ville')).toBe(true);
  });

  it('given scopes, then the quote refuses another city, no matching dish, or a second order', async () => {
    const scoped = (changes: Partial<Coupon>, firstOrder = true) =>
      couponScopeRefusal(
        { ...coupon, ...changes },
        { restaurantCity: 'Douala', lines, firstOrder: async () => firstOrder },
      );
    expect(await scoped({})).toBeUndefined();
    expect((await scoped({ city: 'Yaoundé' }))?.reason).toMatch(/another city/);
    expect(await scoped({ city: 'douala' })).toBeUndefined();
    expect((await scoped({ itemIds: ['00000000-0000-4000-8000-0000000000ff'] }))?.reason).toMatch(/none/);
    expect((await scoped({ firstOrderOnly: true }, false))?.reason).toMatch(/first order/);
    expect(await scoped({ firstOrderOnly: true }, true)).toBeUndefined();
    // The order history is read only for a first-order coupon.
    let asked = 0;
    await couponScopeRefusal(coupon, {
      restaurantCity: null,
      lines,
      firstOrder: async () => (asked += 1) > 0,
    });
    expect(asked).toBe(0);
    // A first-order coupon is reserved once per customer whatever its cap.
    expect(
      couponRefusal({ ...coupon, firstOrderOnly: true, perCustomerLimit: null }, { ...use, customerUses: 1 })
        ?.code,
    ).toBe('coupon_customer_limit');
  });
});
