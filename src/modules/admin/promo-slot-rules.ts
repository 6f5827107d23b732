/**
 * Promotional slots, the pure part (docs/admin.md "Promotional slots"): what a placement's period
 * must satisfy. No I/O.
 */

/** Positions on a city's home feed that can be sold (1 is the first card). */
export const PROMO_POSITIONS = 5;
/** A placement runs at most this many days (a longer deal is several placements). */
export const PROMO_MAX_DAYS = 92;
/** A placement starts at most this many days ahead. */
export const PROMO_MAX_LEAD_DAYS = 366;
/** The agreed price (XAF) is at most this. */
export const PROMO_PRICE_MAX_MINOR = 100_000_000;
/** Up to a minute of clock skew between the admin's screen and us counts as now. */
const SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

export type PeriodRefusal = 'end_before_start' | 'ended' | 'start_past' | 'too_long' | 'too_far';

/**
 * Why a period is refused, or undefined. `startUnchanged`: an edit that keeps a start already past
 * (a running placement may be shortened or extended, not moved back in time).
 */
export function periodRefusal(
  period: { startsAt: Date; endsAt: Date },
  now: Date,
  startUnchanged = false,
): PeriodRefusal | undefined {
  const starts = period.startsAt.getTime();
  const ends = period.endsAt.getTime();
  if (Number.isNaN(starts) || Number.isNaN(ends) || ends <= starts) return 'end_before_start';
  if (ends <= now.getTime()) return 'ended';
  if (!startUnchanged && starts < now.getTime() - SKEW_MS) return 'start_past';
  if (ends - starts > PROMO_MAX_DAYS * DAY_MS) return 'too_long';
  if (starts > now.getTime() + PROMO_MAX_LEAD_DAYS * DAY_MS) return 'too_far';
  return undefined;
}
