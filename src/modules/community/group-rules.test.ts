import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GROUP_CODE_LENGTH,
  groupCode,
  normalizedCode,
  refundTransfer,
  shareAmounts,
  shareTransfer,
} from './group-rules.js';

describe('group orders: who pays what', () => {
  it('splits the total in proportion to each member’s food, exactly to the franc', () => {
    const shares = shareAmounts(6_301n, 'host', 'split', [
      { userId: 'host', weightMinor: 1_000n },
      { userId: 'ana', weightMinor: 2_500n },
      { userId: 'ben', weightMinor: 2_500n },
    ]);
    expect(shares.reduce((sum, share) => sum + share.amountMinor, 0n)).toBe(6_301n);
    expect(shares.map((share) => share.payerId)).toEqual(['host', 'ana', 'ben']);
    expect(shares[0]!.amountMinor).toBeLessThan(shares[1]!.amountMinor);
  });

  it('the host owes everything when paying for all, or when nobody has a weight; members without lines owe nothing', () => {
    expect(shareAmounts(5_000n, 'host', 'host', [{ userId: 'ana', weightMinor: 10n }])).toEqual([
      { payerId: 'host', amountMinor: 5_000n },
    ]);
    expect(shareAmounts(5_000n, 'host', 'split', [{ userId: 'ana', weightMinor: 0n }])).toEqual([
      { payerId: 'host', amountMinor: 5_000n },
    ]);
    expect(
      shareAmounts(5_000n, 'host', 'split', [
        { userId: 'ana', weightMinor: 0n },
        { userId: 'ben', weightMinor: 7n },
      ]),
    ).toEqual([{ payerId: 'ben', amountMinor: 5_000n }]);
  });

  it('always sums to the total, every share positive (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        fc.array(fc.bigInt({ min: 0n, max: 1_000_000n }), { minLength: 1, maxLength: 10 }),
        (total, weights) => {
          const shares = shareAmounts(
            total,
            'host',
            'split',
            weights.map((weightMinor, index) => ({ userId: `u${index}`, weightMinor })),
          );
          expect(shares.reduce((sum, share) => sum + share.amountMinor, 0n)).toBe(total);
          for (const share of shares) expect(share.amountMinor > 0n).toBe(true);
        },
      ),
    );
  });

  it('refuses a total that is not positive', () => {
    expect(() => shareAmounts(0n, 'host', 'split', [])).toThrow(RangeError);
  });
});

describe('group orders: codes and transfers', () => {
  it('draws codes a person can type, and reads them back however typed', () => {
    const code = groupCode();
    expect(code).toHaveLength(GROUP_CODE_LENGTH);
    expect(normalizedCode(code.toLowerCase())).toBe(code);
    expect(normalizedCode(`${code.slice(0, 4)}-${code.slice(4)}`)).toBe(code);
    expect(normalizedCode('O0O0O0O0')).toBeNull();
    expect(normalizedCode('ABC')).toBeNull();
    expect(normalizedCode('ABCD\u0000EFG')).toBeNull();
  });

  it('names each share and refund by the cart, payer and kind, and refunds from where the money is', () => {
    const share = shareTransfer('c1', 'u1', 'share', 700n);
    expect(share).toMatchObject({
      id: 'group-share:c1:u1:share',
      debitAccountId: 'wallet:customer:u1:XAF',
      creditAccountId: 'escrow:group:c1:XAF',
    });
    expect(refundTransfer({ id: 'c1', hostId: 'h', released: false }, 'u1', 'share', 700n)).toMatchObject({
      id: 'group-refund:c1:u1:share',
      debitAccountId: 'escrow:group:c1:XAF',
      creditAccountId: 'wallet:customer:u1:XAF',
    });
    expect(
      refundTransfer({ id: 'c1', hostId: 'h', released: true }, 'u1', 'share', 700n).debitAccountId,
    ).toBe('wallet:customer:h:XAF');
  });
});
