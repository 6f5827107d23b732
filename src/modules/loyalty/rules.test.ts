import { describe, expect, it } from 'vitest';
import {
  earningBaseMinor,
  expiryCutoff,
  expiryPeriodOf,
  historyKindOf,
  nextTierOf,
  pointsFor,
  tierOf,
  type TierRules,
} from './rules.js';

const rules: TierRules = {
  silverPoints: 1_000n,
  goldPoints: 5_000n,
  multipliers: { bronze: '1', silver: '1.25', gold: '1.5' },
};

describe('loyalty rules', () => {
  it('earns on the food paid (subtotal − discount), never on fees, tax or tip', () => {
    expect(earningBaseMinor({ subtotalMinor: 7_000, discountMinor: 700 })).toBe(6_300n);
  });

  it('counts a dispute refund against the food: a full refund earns nothing, a partial one the rest', () => {
    expect(earningBaseMinor({ subtotalMinor: 2_500, discountMinor: 0 }, 1_000)).toBe(1_500n);
    expect(earningBaseMinor({ subtotalMinor: 2_500, discountMinor: 0 }, 3_700)).toBe(0n);
    expect(() => earningBaseMinor({ subtotalMinor: 2_500, discountMinor: 0 }, -1)).toThrow(RangeError);
  });

  it('gives 1 point per whole 100 XAF times the multiplier, rounded down', () => {
    expect(pointsFor(6_399n, '1')).toBe(63n);
    expect(pointsFor(6_300n, '1.25')).toBe(78n); // 78.75
    expect(pointsFor(99n, '1.5')).toBe(0n);
    expect(pointsFor(10_000n, '1.5')).toBe(150n);
  });

  it('tiers by points earned in the last 12 months, with the next tier and what it still needs', () => {
    expect(tierOf(999n, rules)).toBe('bronze');
    expect(tierOf(1_000n, rules)).toBe('silver');
    expect(tierOf(5_000n, rules)).toBe('gold');
    expect(nextTierOf(400n, rules)).toEqual({ tier: 'silver', threshold: 1_000n, pointsNeeded: 600n });
    expect(nextTierOf(4_999n, rules)).toEqual({ tier: 'gold', threshold: 5_000n, pointsNeeded: 1n });
    expect(nextTierOf(9_000n, rules)).toBeNull();
  });

  it('names the expiry period by UTC day and cuts off lots earned before the day start − the expiry', () => {
    const at = new Date('2026-12-06T00:20:00Z');
    expect(expiryPeriodOf(at)).toBe('2026-12-06');
    expect(expiryCutoff(at, 30).toISOString()).toBe('2026-11-06T00:00:00.000Z');
  });

  it('reads the history kind from the ledger code and reason', () => {
    expect(historyKindOf('points_award', null)).toBe('earned');
    expect(historyKindOf('adjustment', { reason: 'points_expiry' })).toBe('expired');
    expect(historyKindOf('points_redeem', {})).toBe('redeemed');
    expect(historyKindOf('adjustment', { reason: 'referral', role: 'referee' })).toBe('referral');
    expect(historyKindOf('points_redeem', { reason: 'points_return' })).toBe('returned');
    expect(historyKindOf('adjustment', null)).toBe('other');
  });
});
