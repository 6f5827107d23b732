/**
 * Fraud rules (pure): each counts signals of one kind per subject within a window and trips at a
 * stated threshold from config (docs/admin.md, "Fraud detection"). A case's score is 50 at the
 * threshold and grows with the count, capped at 100.
 */
export const FRAUD_RULES = [
  'failed_payments_per_phone',
  'failed_payments_per_account',
  'topups_per_account',
  'orders_per_account',
  'accounts_per_phone',
  'cancels_per_account',
  'dispute_rate',
  'refund_rate',
  'coupon_accounts_per_phone',
  'coupon_accounts_per_address',
  'driver_customer_collusion',
  'impossible_movement',
  'referrals_per_device',
  'referrals_per_phone',
  'referrals_per_address',
  'accounts_per_device',
  'orders_per_device',
] as const;
export type FraudRule = (typeof FRAUD_RULES)[number];
/** Rules that compare a count with the account's orders in a longer window (refund and dispute abuse). */
export const RATE_RULES = ['dispute_rate', 'refund_rate'] as const;
export type RateRule = (typeof RATE_RULES)[number];
/**
 * Rules that count over days rather than minutes: promotion abuse (distinct accounts redeeming one
 * coupon from one payment phone or one delivery point), collusion (troubled orders between one
 * driver and one customer) and referral abuse (referrals credited to one referrer whose referees share
 * a device, a payment phone or a delivery point), and accounts signing in on one device.
 */
export const LONG_RULES = [
  'coupon_accounts_per_phone',
  'coupon_accounts_per_address',
  'driver_customer_collusion',
  'referrals_per_device',
  'referrals_per_phone',
  'referrals_per_address',
  'accounts_per_device',
] as const;
export type LongRule = (typeof LONG_RULES)[number];
export type VelocityRule = Exclude<FraudRule, RateRule | LongRule>;
export const isRateRule = (rule: FraudRule): rule is RateRule =>
  (RATE_RULES as readonly string[]).includes(rule);
export const isLongRule = (rule: FraudRule): rule is LongRule =>
  (LONG_RULES as readonly string[]).includes(rule);

export interface VelocityThreshold {
  /** Signals within the window that trip the rule. */
  count: number;
  windowMinutes: number;
}

export interface RateThreshold {
  /** Disputes (or refunds) within the window before the rate is judged at all. */
  minCount: number;
  /** The share of the account's orders in the window, 0-1, that trips the rule. */
  rate: number;
  windowDays: number;
}

export interface LongThreshold {
  /** Signals (or distinct accounts) within the window that trip the rule. */
  count: number;
  windowDays: number;
}

export type FraudThresholds = Record<VelocityRule, VelocityThreshold> &
  Record<RateRule, RateThreshold> &
  Record<LongRule, LongThreshold>;

export interface Verdict {
  trips: boolean;
  score: number;
  reason: string;
}

const WHAT: Record<FraudRule, string> = {
  failed_payments_per_phone: 'failed payments from one payment phone',
  failed_payments_per_account: 'failed payments by one account',
  topups_per_account: 'top-ups started by one account',
  orders_per_account: 'orders placed by one account',
  accounts_per_phone: 'accounts paying from one payment phone',
  cancels_per_account: 'orders cancelled by their customer',
  dispute_rate: 'orders disputed by their customer',
  refund_rate: 'orders refunded after a dispute',
  coupon_accounts_per_phone: 'accounts redeeming one coupon from one payment phone',
  coupon_accounts_per_address: 'accounts redeeming one coupon at one delivery point',
  driver_customer_collusion: 'disputed or failed deliveries between one driver and one customer',
  impossible_movement: 'impossible moves (position fixes faster than the vehicle allows) by one driver',
  referrals_per_device: 'referrals credited to one referrer whose referees signed in on one device',
  referrals_per_phone: 'referrals credited to one referrer whose referees paid from one payment phone',
  referrals_per_address: 'referrals credited to one referrer whose referees ordered to one delivery point',
  accounts_per_device: 'accounts signing in on one device',
  orders_per_device: 'orders placed by the accounts signed in on one device',
};

/** Rules that count distinct accounts behind a subject rather than its signals. */
export const DISTINCT_ACCOUNT_RULES: ReadonlySet<FraudRule> = new Set<FraudRule>([
  'accounts_per_phone',
  'coupon_accounts_per_phone',
  'coupon_accounts_per_address',
  'accounts_per_device',
]);

/** Whether a case's score puts a hold on the person's payouts (FRAUD_PAYOUT_HOLD_SCORE; 0: never). */
export function holdsPayouts(score: number, holdScore: number): boolean {
  return holdScore > 0 && score >= holdScore;
}

/**
 * Refund and dispute abuse: `count` disputes (refunds) out of the account's `orders` in the window.
 * Trips at `minCount` and a share of at least `rate`; the score is 50 at the rate and grows with
 * it, capped at 100. An account's orders before the window, or placed as a guest, are not counted.
 */
export function rateVerdict(
  rule: RateRule,
  count: number,
  orders: number,
  threshold: RateThreshold,
): Verdict {
  const placed = Math.max(orders, count);
  const share = placed === 0 ? 0 : count / placed;
  const percent = (value: number) => `${Math.round(value * 100)} %`;
  return {
    trips: count >= threshold.minCount && share >= threshold.rate,
    score: Math.min(100, Math.round((50 * share) / threshold.rate)),
    reason: `${count} of ${placed} ${WHAT[rule]} within ${threshold.windowDays} days (${percent(share)}; threshold ${threshold.minCount} and ${percent(threshold.rate)})`,
  };
}

export function velocityVerdict(rule: VelocityRule, count: number, threshold: VelocityThreshold): Verdict {
  const score = Math.min(100, Math.round((50 * count) / threshold.count));
  return {
    trips: count >= threshold.count,
    score,
    reason: `${count} ${WHAT[rule]} within ${threshold.windowMinutes} minutes (threshold ${threshold.count})`,
  };
}

/** A count over days (promotion abuse, collusion): 50 at the threshold, growing with it, capped at 100. */
export function longVerdict(rule: LongRule, count: number, threshold: LongThreshold): Verdict {
  return {
    trips: count >= threshold.count,
    score: Math.min(100, Math.round((50 * count) / threshold.count)),
    reason: `${count} ${WHAT[rule]} within ${threshold.windowDays} days (threshold ${threshold.count})`,
  };
}

/**
 * The delivery point a coupon rule compares: latitude and longitude rounded to 4 decimals (about
 * 11 m, one building), so that one address typed differently is still one place. Undefined for an
 * erased or malformed address.
 */
export function deliveryPointKey(delivery: unknown): string | undefined {
  const point = delivery as { latitude?: unknown; longitude?: unknown } | null;
  if (typeof point !== 'object' || point === null) return undefined;
  const { latitude, longitude } = point;
  if (typeof latitude !== 'number' || typeof longitude !== 'number') return undefined;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return undefined;
  return `${latitude.toFixed(4)},${longitude.toFixed(4)}`;
}

export const CASE_DECISIONS = ['dismiss', 'confirm'] as const;
export type CaseDecision = (typeof CASE_DECISIONS)[number];

/** An open case is decided once: dismissed (a false alarm) or confirmed (fraud). */
export function decideCase(
  status: 'open' | 'dismissed' | 'confirmed',
  decision: CaseDecision,
): { ok: true; status: 'dismissed' | 'confirmed' } | { ok: false; code: 'case_already_decided' } {
  if (status !== 'open') return { ok: false, code: 'case_already_decided' };
  return { ok: true, status: decision === 'dismiss' ? 'dismissed' : 'confirmed' };
}
