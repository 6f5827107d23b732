import { describe, expect, it } from 'vitest';
import {
  decideCase,
  deliveryPointKey,
  DISTINCT_ACCOUNT_RULES,
  holdsPayouts,
  isLongRule,
  isRateRule,
  longVerdict,
  rateVerdict,
  velocityVerdict,
} from './fraud-rules.js';

describe('velocity rules', () => {
  const threshold = { count: 5, windowMinutes: 60 };

  it('below the threshold: no case, the score says how close', () => {
    expect(velocityVerdict('failed_payments_per_phone', 4, threshold)).toMatchObject({
      trips: false,
      score: 40,
    });
    expect(velocityVerdict('failed_payments_per_account', 0, threshold)).toMatchObject({
      trips: false,
      score: 0,
    });
  });

  it('at the threshold: a case scored 50, with a reason naming the count, window and threshold', () => {
    expect(velocityVerdict('failed_payments_per_phone', 5, threshold)).toEqual({
      trips: true,
      score: 50,
      reason: '5 failed payments from one payment phone within 60 minutes (threshold 5)',
    });
  });

  it('above it: the score grows with the count, capped at 100', () => {
    expect(velocityVerdict('failed_payments_per_account', 8, threshold)).toMatchObject({
      trips: true,
      score: 80,
    });
    expect(velocityVerdict('failed_payments_per_account', 50, threshold)).toMatchObject({
      trips: true,
      score: 100,
    });
  });
});

describe('case decisions', () => {
  it('an open case is dismissed or confirmed once', () => {
    expect(decideCase('open', 'dismiss')).toEqual({ ok: true, status: 'dismissed' });
    expect(decideCase('open', 'confirm')).toEqual({ ok: true, status: 'confirmed' });
    expect(decideCase('dismissed', 'confirm')).toEqual({ ok: false, code: 'case_already_decided' });
    expect(decideCase('confirmed', 'dismiss')).toEqual({ ok: false, code: 'case_already_decided' });
  });
});

describe('the new rules and payout holds', () => {
  it('words each rule in its reason and trips at its threshold', () => {
    const threshold = { count: 3, windowMinutes: 30 };
    expect(velocityVerdict('orders_per_account', 2, threshold).trips).toBe(false);
    expect(velocityVerdict('orders_per_account', 3, threshold)).toMatchObject({
      trips: true,
      score: 50,
      reason: '3 orders placed by one account within 30 minutes (threshold 3)',
    });
    expect(velocityVerdict('accounts_per_phone', 6, threshold)).toMatchObject({ trips: true, score: 100 });
    expect(velocityVerdict('cancels_per_account', 3, threshold).reason).toContain(
      'cancelled by their customer',
    );
    expect(velocityVerdict('topups_per_account', 3, threshold).reason).toContain('top-ups');
  });

  it('orders per device: counts orders (not accounts) in minutes, a velocity rule', () => {
    const threshold = { count: 3, windowMinutes: 30 };
    expect(isLongRule('orders_per_device')).toBe(false);
    expect(isRateRule('orders_per_device')).toBe(false);
    expect(DISTINCT_ACCOUNT_RULES.has('orders_per_device')).toBe(false);
    expect(velocityVerdict('orders_per_device', 2, threshold)).toMatchObject({ trips: false, score: 33 });
    expect(velocityVerdict('orders_per_device', 3, threshold)).toEqual({
      trips: true,
      score: 50,
      reason: '3 orders placed by the accounts signed in on one device within 30 minutes (threshold 3)',
    });
  });

  it('holds payouts from the configured score on, never with 0', () => {
    expect(holdsPayouts(74, 75)).toBe(false);
    expect(holdsPayouts(75, 75)).toBe(true);
    expect(holdsPayouts(100, 0)).toBe(false);
  });
});

describe('refund and dispute rate rules', () => {
  const threshold = { minCount: 3, rate: 0.3, windowDays: 30 };

  it('trips at the minimum count and the rate: 3 disputes of 5 orders', () => {
    expect(rateVerdict('dispute_rate', 3, 5, threshold)).toEqual({
      trips: true,
      score: 100,
      reason: '3 of 5 orders disputed by their customer within 30 days (60 %; threshold 3 and 30 %)',
    });
    expect(rateVerdict('refund_rate', 3, 10, threshold)).toMatchObject({ trips: true, score: 50 });
  });

  it('must not trip: a high rate on too few, or many on a low rate', () => {
    expect(rateVerdict('dispute_rate', 2, 2, threshold)).toMatchObject({ trips: false });
    expect(rateVerdict('dispute_rate', 3, 11, threshold)).toMatchObject({ trips: false, score: 45 });
    expect(rateVerdict('refund_rate', 0, 0, threshold)).toMatchObject({ trips: false, score: 0 });
  });

  it('orders never count fewer than disputes (orders before the window, or as a guest)', () => {
    expect(rateVerdict('dispute_rate', 4, 1, threshold)).toMatchObject({
      trips: true,
      reason: expect.stringContaining('4 of 4 orders'),
    });
  });
});

describe('promotion abuse and collusion (counted over days)', () => {
  const threshold = { count: 3, windowDays: 30 };

  it('trips at the threshold with a reason in days; below it, no case', () => {
    expect(longVerdict('coupon_accounts_per_address', 2, threshold)).toMatchObject({
      trips: false,
      score: 33,
    });
    expect(longVerdict('coupon_accounts_per_phone', 3, threshold)).toEqual({
      trips: true,
      score: 50,
      reason: '3 accounts redeeming one coupon from one payment phone within 30 days (threshold 3)',
    });
    expect(longVerdict('driver_customer_collusion', 9, threshold)).toMatchObject({ trips: true, score: 100 });
  });

  it('referral abuse: referrals credited to one referrer per shared device, phone or point, in days', () => {
    expect(longVerdict('referrals_per_device', 2, threshold)).toMatchObject({ trips: false, score: 33 });
    expect(longVerdict('referrals_per_phone', 4, threshold)).toEqual({
      trips: true,
      score: 67,
      reason:
        '4 referrals credited to one referrer whose referees paid from one payment phone within 30 days (threshold 3)',
    });
    expect(longVerdict('referrals_per_address', 3, threshold).reason).toBe(
      '3 referrals credited to one referrer whose referees ordered to one delivery point within 30 days (threshold 3)',
    );
  });

  it('a delivery point is the place to about 11 m; an erased or malformed address is none', () => {
    expect(deliveryPointKey({ latitude: 4.06111, longitude: 9.77191, text: 'Rue 1' })).toBe('4.0611,9.7719');
    expect(deliveryPointKey({ latitude: 4.061104, longitude: 9.771904, text: 'Rue un' })).toBe(
      '4.0611,9.7719',
    );
    expect(deliveryPointKey({ latitude: 4.0621, longitude: 9.7719 })).not.toBe('4.0611,9.7719');
    for (const erased of ['[redacted]', null, undefined, {}, { latitude: Number.NaN, longitude: 1 }])
      expect(deliveryPointKey(erased)).toBeUndefined();
  });

  it('the coupon rules count distinct accounts; collusion counts troubled orders', () => {
    expect(DISTINCT_ACCOUNT_RULES.has('coupon_accounts_per_phone')).toBe(true);
    expect(DISTINCT_ACCOUNT_RULES.has('coupon_accounts_per_address')).toBe(true);
    expect(DISTINCT_ACCOUNT_RULES.has('driver_customer_collusion')).toBe(false);
  });
});
