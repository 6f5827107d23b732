import type { RestaurantStatus } from '../tables.js';

/** What an admin decides about a restaurant. */
export const STATUS_DECISIONS = ['verify', 'reject', 'suspend', 'reinstate'] as const;
export type StatusDecision = (typeof STATUS_DECISIONS)[number];

export type StatusOutcome =
  | { ok: true; status: RestaurantStatus; reason: string | null }
  | { ok: false; code: 'reason_required' | 'invalid_status_transition'; detail: string };

/**
 * The verification life cycle: pending → active (verify) or rejected (reject, with a reason);
 * a rejected restaurant that fixed its documents may be verified later; active ↔ suspended.
 */
export function decideStatus(
  current: RestaurantStatus,
  decision: StatusDecision,
  reason: string | undefined,
): StatusOutcome {
  const trimmed = reason?.trim() ?? '';
  const needsReason = decision === 'reject' || decision === 'suspend';
  if (needsReason && trimmed.length === 0) {
    return { ok: false, code: 'reason_required', detail: `A ${decision} decision needs a reason.` };
  }
  const allowed: Record<StatusDecision, RestaurantStatus[]> = {
    verify: ['pending_verification', 'rejected'],
    reject: ['pending_verification'],
    suspend: ['active'],
    reinstate: ['suspended'],
  };
  if (!allowed[decision].includes(current)) {
    return {
      ok: false,
      code: 'invalid_status_transition',
      detail: `Cannot ${decision} a restaurant that is ${current}.`,
    };
  }
  switch (decision) {
    case 'verify':
    case 'reinstate':
      return { ok: true, status: 'active', reason: null };
    case 'reject':
      return { ok: true, status: 'rejected', reason: trimmed };
    case 'suspend':
      return { ok: true, status: 'suspended', reason: trimmed };
    default: {
      const never: never = decision;
      throw new Error(`unknown decision ${String(never)}`);
    }
  }
}
