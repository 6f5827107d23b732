import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CardFundingRow } from './card-funding-repository.js';
import { reversalSplit, walletValueOf } from './card-reversals.js';

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

describe('walletValueOf: the francs a reversal of a EUR funding takes back', () => {
  const eur = (amountMinor: bigint, creditMinor: bigint) =>
    ({
      funding_id: 'f',
      currency: 'EUR',
      amount_minor: amountMinor,
      credit_minor: creditMinor,
    }) as CardFundingRow;

  it('reversals that take back the whole funding, in any parts, take back exactly the francs it credited', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 7n }),
        fc.bigInt({ min: 0n, max: 10n ** 10n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 6n }), { minLength: 1, maxLength: 8 }),
        (amount, credit, weights) => {
          const funding = eur(amount, credit);
          // Cut the funding into parts by the weights (the last part takes what is left).
          const total = weights.reduce((sum, weight) => sum + weight, 0n);
          const parts: bigint[] = [];
          let reversed = 0n;
          for (const weight of weights.slice(0, -1)) {
            const part = (amount * weight) / total;
            if (part > 0n && reversed + part < amount) {
              parts.push(part);
              reversed += part;
            }
          }
          parts.push(amount - reversed);
          let before = 0n;
          let francs = 0n;
          for (const part of parts) {
            const value = walletValueOf(funding, part, before);
            expect(value).toBeGreaterThanOrEqual(0n);
            // Never more than the part's share rounded up.
            expect(value * amount <= credit * part + amount - 1n).toBe(true);
            francs += value;
            before += part;
          }
          expect(francs).toBe(credit);
        },
      ),
    );
  });

  it('examples: €5 then €15 of €20 credited as 12 922 francs take 3 230 then 9 692; USD is the amount itself', () => {
    const funding = eur(2_000n, 12_922n);
    expect(walletValueOf(funding, 500n)).toBe(3_230n);
    expect(walletValueOf(funding, 1_500n, 500n)).toBe(9_692n); // not ⌊12 922 × 1 500 / 2 000⌋ = 9 691
    expect(walletValueOf(funding, 2_000n)).toBe(12_922n);
    expect(walletValueOf({ ...funding, currency: 'USD' } as CardFundingRow, 700n)).toBe(700n);
  });
});
