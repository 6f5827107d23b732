import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reversalSplit } from './card-reversals.js';

describe('reversalSplit: who bears a card reversal', () => {
  it('the wallet gives what it may spend, the receivable the rest, and the clearing never goes below zero', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 9n }),
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 9n }),
        (amount, walletAvailable, clearingAvailable) => {
          const split = reversalSplit(amount, walletAvailable, clearingAvailable);
          expect(split.walletMinor + split.receivableMinor).toBe(amount);
          expect(split.walletMinor).toBeGreaterThanOrEqual(0n);
          expect(split.receivableMinor).toBeGreaterThanOrEqual(0n);
          // The wallet is never overdrawn, and gives everything it may before anything is owed.
          expect(split.walletMinor <= (walletAvailable > 0n ? walletAvailable : 0n)).toBe(true);
          if (split.receivableMinor > 0n)
            expect(split.walletMinor).toBe(walletAvailable > 0n ? walletAvailable : 0n);
          // The clearing ends at zero or above, and nothing is owed to the provider that it could cover.
          const clearing = clearingAvailable > 0n ? clearingAvailable : 0n;
          expect(clearing + split.providerGapMinor - amount >= 0n).toBe(true);
          if (split.providerGapMinor > 0n) expect(clearing + split.providerGapMinor - amount).toBe(0n);
        },
      ),
    );
  });

  it('examples: covered by the wallet; half spent; a fee kept by the provider', () => {
    expect(reversalSplit(2_000n, 5_000n, 10_000n)).toEqual({
      walletMinor: 2_000n,
      receivableMinor: 0n,
      providerGapMinor: 0n,
    });
    expect(reversalSplit(2_000n, 800n, 10_000n)).toEqual({
      walletMinor: 800n,
      receivableMinor: 1_200n,
      providerGapMinor: 0n,
    });
    expect(reversalSplit(1_000n, 1_000n, 962n)).toEqual({
      walletMinor: 1_000n,
      receivableMinor: 0n,
      providerGapMinor: 38n,
    });
    expect(() => reversalSplit(0n, 1n, 1n)).toThrow(RangeError);
  });
});
