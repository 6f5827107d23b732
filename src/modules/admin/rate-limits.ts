import type { Actor } from '../identity/index.js';
import { adminErrors } from './errors.js';
import type { AdminIdentityPort } from './ports.js';
import {
  RATE_LIMIT_TIERS,
  RATE_LIMITS_KEY,
  type RateLimitOverrides,
  type RateLimitTier,
  type SnapshotCache,
  writeSetting,
} from './store.js';
import type { AdminDb } from './tables.js';

/**
 * API rate limits per tier at run time (issue #23, docs/admin.md "Rate limits"): an admin's
 * override of a tier's maximum per window, persisted in `admin_settings` (key `rate_limits`),
 * audited, and read by the rate limiter from the settings cache (every instance within
 * ADMIN_SETTINGS_CACHE_MS; no statement per request).
 */
export const RATE_LIMIT_MAX = 1_000_000;

export interface RateLimitsInput {
  /** A number sets the tier's maximum; null goes back to the configured default. */
  limits: Partial<Record<RateLimitTier, number | null>>;
  expectedVersion?: number | undefined;
}

export function createRateLimitSettings(deps: {
  db: AdminDb;
  cache: SnapshotCache;
  identity: Pick<AdminIdentityPort, 'audit'>;
}) {
  const { db, cache, identity } = deps;

  async function set(input: RateLimitsInput, actor: Actor) {
    for (const [tier, max] of Object.entries(input.limits)) {
      if (!(RATE_LIMIT_TIERS as readonly string[]).includes(tier))
        throw adminErrors.of(
          'validation',
          'rate_limit_tier_unknown',
          `No rate-limit tier is called ${tier}.`,
        );
      if (max !== null && (max === undefined || !Number.isInteger(max) || max < 1 || max > RATE_LIMIT_MAX))
        throw adminErrors.of(
          'validation',
          'rate_limit_out_of_range',
          `A tier allows 1 to ${RATE_LIMIT_MAX}.`,
        );
    }
    await db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('admin_settings')
        .select(['value', 'version'])
        .where('key', '=', RATE_LIMITS_KEY)
        .forUpdate()
        .executeTakeFirst();
      const version = before?.version ?? 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== version)
        throw adminErrors.of(
          'conflict',
          'rate_limits_changed',
          'The rate limits changed since they were read.',
          {
            details: { version },
          },
        );
      const next: RateLimitOverrides = { ...((before?.value ?? {}) as RateLimitOverrides) };
      for (const [tier, max] of Object.entries(input.limits) as [RateLimitTier, number | null][])
        if (max === null) delete next[tier];
        else next[tier] = max;
      const json = JSON.stringify(next);
      await writeSetting(trx, RATE_LIMITS_KEY, json, actor.userId ?? null);
      await identity.audit(
        {
          action: 'admin.rate_limits_changed',
          actor,
          resource: 'setting:rate_limits',
          oldValue: before?.value ?? null,
          newValue: next,
        },
        trx,
      );
    });
    cache.invalidate();
    return (await cache.get()).rateLimits;
  }

  return {
    /** The cached overrides (what the limiter applies; never a statement per request). */
    async current(): Promise<RateLimitOverrides> {
      return (await cache.get()).rateLimits.overrides;
    },
    /** The stored overrides, read from the database (admin reads). */
    async stored() {
      cache.invalidate();
      return (await cache.get()).rateLimits;
    },
    set,
  };
}

export type RateLimitSettings = ReturnType<typeof createRateLimitSettings>;
