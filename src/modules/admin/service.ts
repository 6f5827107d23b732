import { sql } from 'kysely';
import type { Logger } from 'pino';
import { isDomainError } from '../../shared/errors.js';
import type { Actor } from '../identity/index.js';
import { adminErrors } from './errors.js';
import type { AdminIdentityPort } from './ports.js';
import {
  evaluateFlag,
  maintenanceDecision,
  maintenanceRetryAfterSeconds,
  planBulkItem,
  type BulkAction,
  type FlagSubject,
  type Maintenance,
  type MaintenanceRequest,
} from './rules.js';
import {
  countFlags,
  createSnapshotCache,
  flagOf,
  lockedFlag,
  MAINTENANCE_KEY,
  type StoredFlag,
  writeSetting,
} from './store.js';
import type { AdminDb } from './tables.js';
import { createRateLimitSettings } from './rate-limits.js';

const ALWAYS_ON: Maintenance = { enabled: true, message: '', until: null };

/** At most this many flags exist at once: the list is answered whole and evaluated per request. */
export const MAX_FLAGS = 200;

export interface FlagInput {
  description?: string | undefined;
  enabled: boolean;
  roles: string[];
  percentage: number;
  cities: string[];
  /** The version the change was decided on (0: the flag must not exist yet); absent: last write wins. */
  expectedVersion?: number | undefined;
}

export interface MaintenanceInput {
  enabled: boolean;
  message?: string | undefined;
  until?: string | null | undefined;
}

export interface BulkItemResult {
  userId: string;
  outcome: 'applied' | 'would_apply' | 'skipped' | 'refused' | 'failed';
  code?: string;
  detail?: string;
}

/** What other contexts may import: evaluate a flag for a subject (cached, see store.ts). */
export interface FeatureFlags {
  isEnabled(key: string, subject: FlagSubject): Promise<boolean>;
  evaluateAll(subject: FlagSubject): Promise<Record<string, boolean>>;
}

export function createAdminService(deps: {
  db: AdminDb;
  identity: AdminIdentityPort;
  settingsCacheMs: number;
  logger: Logger;
  now?: () => number;
}) {
  const { db, identity, logger } = deps;
  const now = deps.now ?? Date.now;
  const cache = createSnapshotCache({ db, ttlMs: deps.settingsCacheMs, logger, now });

  const featureFlags: FeatureFlags = {
    async isEnabled(key, subject) {
      return evaluateFlag((await cache.get()).flags.get(key), subject);
    },
    async evaluateAll(subject) {
      const { flags } = await cache.get();
      return Object.fromEntries([...flags.values()].map((flag) => [flag.key, evaluateFlag(flag, subject)]));
    },
  };

  async function putFlag(key: string, input: FlagInput, actor: Actor): Promise<StoredFlag> {
    const cities = [...new Set(input.cities.map((city) => city.toLowerCase()))].sort();
    const roles = [...new Set(input.roles)].sort();
    const written = await db.transaction().execute(async (trx) => {
      const before = await lockedFlag(trx, key);
      if (input.expectedVersion !== undefined && input.expectedVersion !== (before?.version ?? 0)) {
        throw adminErrors.of('conflict', 'flag_changed', 'The flag changed meanwhile; reload it and retry.', {
          details: { version: before?.version ?? 0 },
        });
      }
      if (before === undefined && (await countFlags(trx)) >= MAX_FLAGS) {
        throw adminErrors.of(
          'conflict',
          'too_many_flags',
          `At most ${MAX_FLAGS} feature flags exist at once; delete one first.`,
        );
      }
      const values = {
        description: input.description ?? before?.description ?? '',
        enabled: input.enabled,
        roles,
        percentage: input.percentage,
        cities,
        updated_by: actor.userId ?? null,
      };
      const row =
        before === undefined
          ? await trx
              .insertInto('admin_feature_flags')
              .values({ key, ...values })
              .onConflict((conflict) => conflict.column('key').doNothing())
              .returningAll()
              .executeTakeFirst()
          : await trx
              .updateTable('admin_feature_flags')
              .set({ ...values, version: before.version + 1, updated_at: sql<Date>`now()` })
              .where('key', '=', key)
              .returningAll()
              .executeTakeFirstOrThrow();
      // Created concurrently by another admin between our read and our insert.
      if (row === undefined)
        throw adminErrors.of('conflict', 'flag_changed', 'The flag changed meanwhile; reload it and retry.');
      const after = flagOf(row);
      await identity.audit(
        {
          action: before === undefined ? 'admin.flag_created' : 'admin.flag_changed',
          actor,
          resource: `feature_flag:${key}`,
          oldValue: before === undefined ? null : flagValue(before),
          newValue: flagValue(after),
        },
        trx,
      );
      return after;
    });
    cache.invalidate();
    return written;
  }

  async function deleteFlag(key: string, actor: Actor): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const before = await lockedFlag(trx, key);
      if (before === undefined) throw adminErrors.notFound('No such feature flag.');
      await trx.deleteFrom('admin_feature_flags').where('key', '=', key).execute();
      await identity.audit(
        { action: 'admin.flag_deleted', actor, resource: `feature_flag:${key}`, oldValue: flagValue(before) },
        trx,
      );
    });
    cache.invalidate();
  }

  async function setMaintenance(input: MaintenanceInput, actor: Actor) {
    const until = input.until === undefined || input.until === null ? null : new Date(input.until);
    if (until !== null && until.getTime() <= now())
      throw adminErrors.of(
        'validation',
        'maintenance_end_past',
        'The announced end of maintenance must be in the future.',
      );
    const message = input.message?.trim() ?? '';
    if (input.enabled && message === '')
      throw adminErrors.of(
        'validation',
        'maintenance_message_required',
        'Say what callers will read during maintenance.',
      );
    const value: Maintenance = input.enabled
      ? { enabled: true, message, until }
      : { enabled: false, message: '', until: null };
    await db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('admin_settings')
        .select(['value', 'version'])
        .where('key', '=', MAINTENANCE_KEY)
        .forUpdate()
        .executeTakeFirst();
      const json = JSON.stringify({ ...value, until: value.until?.toISOString() ?? null });
      await writeSetting(trx, MAINTENANCE_KEY, json, actor.userId ?? null);
      await identity.audit(
        {
          action: 'admin.maintenance_changed',
          actor,
          resource: 'setting:maintenance',
          oldValue: before?.value ?? null,
          newValue: JSON.parse(json) as unknown,
        },
        trx,
      );
    });
    cache.invalidate();
    return (await cache.get()).maintenance;
  }

  async function bulkUsers(
    input: { action: BulkAction; userIds: string[]; reason?: string | undefined; dryRun: boolean },
    actor: Actor & { userId: string },
  ): Promise<{ action: BulkAction; dryRun: boolean; results: BulkItemResult[] }> {
    if (input.action === 'suspend' && (input.reason?.trim().length ?? 0) < 3)
      throw adminErrors.of(
        'validation',
        'reason_required',
        'A suspension needs a reason of at least 3 characters.',
      );
    const results: BulkItemResult[] = [];
    // One at a time: each item is its own audited change, and a failure stops no other item.
    for (const userId of input.userIds) results.push(await bulkItem(input, userId, actor));
    const counts = Object.fromEntries(
      ['applied', 'would_apply', 'skipped', 'refused', 'failed'].map((outcome) => [
        outcome,
        results.filter((result) => result.outcome === outcome).length,
      ]),
    );
    await identity.audit({
      action: input.dryRun ? 'admin.bulk_users_dry_run' : 'admin.bulk_users',
      actor,
      resource: `bulk:${input.action}`,
      newValue: { action: input.action, dryRun: input.dryRun, items: input.userIds.length, ...counts },
    });
    return { action: input.action, dryRun: input.dryRun, results };
  }

  async function bulkItem(
    input: { action: BulkAction; reason?: string | undefined; dryRun: boolean },
    userId: string,
    actor: Actor & { userId: string },
  ): Promise<BulkItemResult> {
    const plan = planBulkItem(input.action, await identity.findUser(userId), actor.userId);
    if (plan.outcome === 'skip') return { userId, outcome: 'skipped', code: plan.code, detail: plan.detail };
    if (plan.outcome === 'refuse')
      return { userId, outcome: 'refused', code: plan.code, detail: plan.detail };
    if (input.dryRun) return { userId, outcome: 'would_apply' };
    try {
      if (input.action === 'suspend') await identity.suspend(userId, (input.reason ?? '').trim(), actor);
      else if (input.action === 'reinstate') await identity.reinstate(userId, actor);
      else await identity.logout(userId, actor);
      return { userId, outcome: 'applied' };
    } catch (error) {
      // A refusal decided by identity after our read (the user changed meanwhile): reported, not thrown.
      if (!isDomainError(error)) throw error;
      return { userId, outcome: 'failed', code: error.code, detail: error.message };
    }
  }

  return {
    featureFlags,
    flags: {
      async list(): Promise<StoredFlag[]> {
        return [...(await freshSnapshot()).flags.values()];
      },
      async get(key: string): Promise<StoredFlag> {
        const flag = (await freshSnapshot()).flags.get(key);
        if (flag === undefined) throw adminErrors.notFound('No such feature flag.');
        return flag;
      },
      put: putFlag,
      remove: deleteFlag,
    },
    maintenance: {
      /** The cached state (what the hook applies). */
      async current() {
        return (await cache.get()).maintenance;
      },
      set: setMaintenance,
      /** The domain error a refused write gets, or undefined when the request may go on. */
      async check(request: MaintenanceRequest) {
        // Reads, staff, sign-in, webhooks and non-API routes pass whatever the state: they never
        // wait on the settings (and /health answers even when PostgreSQL does not).
        if (maintenanceDecision(ALWAYS_ON, request) === 'allow') return undefined;
        const maintenance = (await cache.get()).maintenance;
        if (maintenanceDecision(maintenance, request) === 'allow') return undefined;
        // A 5xx never sends its own message: the admin's words travel as the `message` field.
        return adminErrors.of(
          'unavailable',
          'maintenance_mode',
          'The service is in maintenance (read-only).',
          {
            retryAfterSeconds: maintenanceRetryAfterSeconds(maintenance, now()),
            details: { message: maintenance.message, until: maintenance.until?.toISOString() ?? null },
          },
        );
      },
    },
    users: { bulk: bulkUsers },
    rateLimits: createRateLimitSettings({ db, cache, identity }),
  };

  /** Admin reads see the database, not this instance's cached copy. */
  async function freshSnapshot() {
    cache.invalidate();
    return cache.get();
  }
}

export type AdminService = ReturnType<typeof createAdminService>;

function flagValue(flag: StoredFlag) {
  return {
    enabled: flag.enabled,
    roles: flag.roles,
    percentage: flag.percentage,
    cities: flag.cities,
    description: flag.description,
    version: flag.version,
  };
}
