import { createHash } from 'node:crypto';

/**
 * The admin context's pure rules (no I/O): feature-flag evaluation, the maintenance decision for a
 * request, and what one item of a bulk user action would do. docs/admin.md.
 */

// ---- Feature flags ----------------------------------------------------------------------------

export interface FeatureFlag {
  key: string;
  enabled: boolean;
  /** Empty: every role; otherwise the subject must hold one of them. */
  roles: readonly string[];
  /** 0-100: the share of users who get it, by a stable hash of the flag and the user. */
  percentage: number;
  /** Empty: every city; otherwise the subject's city must be one of them. */
  cities: readonly string[];
}

export interface FlagSubject {
  userId?: string | undefined;
  roles?: readonly string[] | undefined;
  city?: string | undefined;
}

/** Buckets per percentage point: 10 000 buckets give a resolution of 0.01 %. */
const BUCKETS = 10_000;

/**
 * The user's bucket for a flag, 0-9999: the first 4 bytes of SHA-256(`flag:user`). Stable across
 * instances and restarts, independent between flags (a user in the first 10 % of one flag is not
 * therefore in the first 10 % of another), and a rollout raised from 10 % to 20 % keeps the first 10 %.
 */
export function bucketOf(flagKey: string, userId: string): number {
  const digest = createHash('sha256').update(`${flagKey}:${userId}`).digest();
  return digest.readUInt32BE(0) % BUCKETS;
}

export function evaluateFlag(flag: FeatureFlag | undefined, subject: FlagSubject): boolean {
  if (flag === undefined || !flag.enabled) return false;
  if (flag.roles.length > 0 && !(subject.roles ?? []).some((role) => flag.roles.includes(role))) return false;
  if (flag.cities.length > 0) {
    const city = subject.city?.toLowerCase();
    if (city === undefined || !flag.cities.includes(city)) return false;
  }
  if (flag.percentage >= 100) return true;
  if (flag.percentage <= 0) return false;
  // Without a user there is nothing stable to hash: a partial rollout leaves anonymous callers out.
  if (subject.userId === undefined) return false;
  return bucketOf(flag.key, subject.userId) < flag.percentage * (BUCKETS / 100);
}

// ---- Maintenance mode -------------------------------------------------------------------------

export interface Maintenance {
  enabled: boolean;
  /** Shown to callers whose writes are refused. */
  message: string;
  /** An estimate of the end, if the admin gave one (the Retry-After of a refused write). */
  until: Date | null;
}

export const MAINTENANCE_OFF: Maintenance = { enabled: false, message: '', until: null };

/** Roles that keep working during maintenance. */
export const STAFF_ROLES = ['admin', 'support'] as const;

/**
 * Routes that stay writable for everyone: providers' webhooks (a payment confirmed during
 * maintenance must still be booked, or money taken from a customer goes unrecorded) and
 * authentication (staff must be able to sign in and refresh; a session changes no business state).
 */
export const MAINTENANCE_EXEMPT_PREFIXES = ['/v1/webhooks/', '/v1/auth/'] as const;

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface MaintenanceRequest {
  method: string;
  /** The route's pattern (e.g. `/v1/orders/:id`), not the raw URL. */
  route: string;
  roles: readonly string[];
}

/** 'allow' or 'refuse': a write by a non-staff caller on a business route while maintenance is on. */
export function maintenanceDecision(
  maintenance: Maintenance,
  request: MaintenanceRequest,
): 'allow' | 'refuse' {
  if (!maintenance.enabled) return 'allow';
  if (READ_METHODS.has(request.method.toUpperCase())) return 'allow';
  if (!request.route.startsWith('/v1/')) return 'allow';
  if (MAINTENANCE_EXEMPT_PREFIXES.some((prefix) => request.route.startsWith(prefix))) return 'allow';
  if (request.roles.some((role) => (STAFF_ROLES as readonly string[]).includes(role))) return 'allow';
  return 'refuse';
}

/** Seconds until the announced end, at least 1 and at most an hour; 60 when no end was given. */
export function maintenanceRetryAfterSeconds(maintenance: Maintenance, nowMs: number): number {
  if (maintenance.until === null) return 60;
  const seconds = Math.ceil((maintenance.until.getTime() - nowMs) / 1000);
  return Math.min(3_600, Math.max(1, seconds));
}

// ---- Bulk user actions ------------------------------------------------------------------------

export const BULK_ACTIONS = ['suspend', 'reinstate', 'logout'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export const BULK_MAX_ITEMS = 100;

export interface BulkTarget {
  id: string;
  status: string;
  roles: readonly string[];
}

export type BulkPlan =
  | { outcome: 'apply' }
  | { outcome: 'skip'; code: string; detail: string }
  | { outcome: 'refuse'; code: string; detail: string };

/**
 * What one item of a bulk action would do, decided on the user as read: `apply`, `skip` (already
 * in the wanted state: nothing to do, not an error) or `refuse` (not allowed). The dry run answers
 * this for every item; the real run applies the `apply` items and reports every item.
 */
export function planBulkItem(action: BulkAction, target: BulkTarget | undefined, actorId: string): BulkPlan {
  if (target === undefined || target.status === 'deleted')
    return { outcome: 'refuse', code: 'user_not_found', detail: 'No such user.' };
  if (target.id === actorId)
    return {
      outcome: 'refuse',
      code: 'cannot_target_self',
      detail: 'Admins cannot act on their own account in bulk.',
    };
  switch (action) {
    case 'suspend':
      if (target.roles.includes('admin'))
        return {
          outcome: 'refuse',
          code: 'admin_target',
          detail: 'Admins are suspended one at a time, not in bulk.',
        };
      if (target.status === 'suspended')
        return { outcome: 'skip', code: 'already_suspended', detail: 'The user is already suspended.' };
      return { outcome: 'apply' };
    case 'reinstate':
      if (target.status !== 'suspended')
        return { outcome: 'skip', code: 'not_suspended', detail: 'The user is not suspended.' };
      return { outcome: 'apply' };
    case 'logout':
      return { outcome: 'apply' };
    default: {
      const never: never = action;
      throw new Error(`unknown bulk action ${String(never)}`);
    }
  }
}
