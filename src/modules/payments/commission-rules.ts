/**
 * When an admin's commission change may take effect: from now (no date) or a moment not in the
 * past (a minute of clock skew allowed) and at most a year ahead. Pure: the routes map the refusal
 * to a 400 problem.
 */
export const EFFECTIVE_PAST_TOLERANCE_MS = 60_000;
export const EFFECTIVE_MAX_AHEAD_MS = 366 * 24 * 60 * 60 * 1000;

export type EffectiveDecision =
  | { ok: true; effectiveFrom: Date }
  | { ok: false; code: 'commission_effective_past' | 'commission_effective_too_far' };

export function effectiveFromOf(requested: string | undefined, now: Date): EffectiveDecision {
  if (requested === undefined) return { ok: true, effectiveFrom: now };
  const at = new Date(requested);
  if (at.getTime() < now.getTime() - EFFECTIVE_PAST_TOLERANCE_MS)
    return { ok: false, code: 'commission_effective_past' };
  if (at.getTime() > now.getTime() + EFFECTIVE_MAX_AHEAD_MS)
    return { ok: false, code: 'commission_effective_too_far' };
  // A moment within the tolerance is "now": a change never takes effect before it was made.
  return { ok: true, effectiveFrom: at.getTime() < now.getTime() ? now : at };
}

/** Two rates as decimal strings ("0.1" and "0.100000"), or null, are the same rate. */
export function sameRate(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  return Number(a) === Number(b);
}
