import { sql } from 'kysely';
import type { Logger } from 'pino';
import { MAINTENANCE_OFF, type FeatureFlag, type Maintenance } from './rules.js';
import type { AdminDb } from './tables.js';

export const MAINTENANCE_KEY = 'maintenance';
export const RATE_LIMITS_KEY = 'rate_limits';

/** The API's rate-limit tiers an admin may change at run time (docs/admin.md "Rate limits"). */
export const RATE_LIMIT_TIERS = ['anonymous', 'user', 'auth', 'payment'] as const;
export type RateLimitTier = (typeof RATE_LIMIT_TIERS)[number];
export type RateLimitOverrides = Partial<Record<RateLimitTier, number>>;

/**
 * Writes one run-time setting as its next version, naming who changed it (null for the service
 * itself): the one upsert every setting change makes, inside the caller's transaction.
 */
export async function writeSetting(
  db: AdminDb,
  key: string,
  json: string,
  updatedBy: string | null,
): Promise<void> {
  await db
    .insertInto('admin_settings')
    .values({ key, value: json, updated_by: updatedBy })
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet({
        value: json,
        updated_by: updatedBy,
        version: sql<number>`admin_settings.version + 1`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

export interface StoredFlag extends FeatureFlag {
  description: string;
  version: number;
  updatedBy: string | null;
  updatedAt: Date;
}

export interface Snapshot {
  flags: ReadonlyMap<string, StoredFlag>;
  maintenance: Maintenance & { version: number; updatedAt: Date | null };
  rateLimits: { overrides: RateLimitOverrides; version: number; updatedAt: Date | null };
}

/**
 * The run-time configuration as this instance sees it. Every instance reads PostgreSQL, the one
 * truth, at most once per `ttlMs` (concurrent readers share one load); a change made here
 * drops this instance's copy at once, and other instances see it within `ttlMs`. When a reload
 * fails and a copy exists, the copy keeps serving (logged) until PostgreSQL answers again.
 */
export function createSnapshotCache(options: {
  db: AdminDb;
  ttlMs: number;
  logger: Logger;
  now?: () => number;
}) {
  const { db, ttlMs, logger } = options;
  const now = options.now ?? Date.now;
  let current: { snapshot: Snapshot; loadedAtMs: number } | undefined;
  let loading: Promise<Snapshot> | undefined;
  let generation = 0;

  async function load(): Promise<Snapshot> {
    const started = generation;
    const [flags, settings] = await Promise.all([
      db.selectFrom('admin_feature_flags').selectAll().orderBy('key').execute(),
      // One statement for every cached setting: the rate limits ride along with maintenance.
      db
        .selectFrom('admin_settings')
        .selectAll()
        .where('key', 'in', [MAINTENANCE_KEY, RATE_LIMITS_KEY])
        .execute(),
    ]);
    const snapshot: Snapshot = {
      flags: new Map(flags.map((row) => [row.key, flagOf(row)])),
      maintenance: maintenanceOf(settings.find((row) => row.key === MAINTENANCE_KEY)),
      rateLimits: rateLimitsOf(settings.find((row) => row.key === RATE_LIMITS_KEY)),
    };
    // A change made while this load ran must not be hidden by the older copy it read.
    if (started === generation) current = { snapshot, loadedAtMs: now() };
    return snapshot;
  }

  return {
    async get(): Promise<Snapshot> {
      if (current !== undefined && now() - current.loadedAtMs < ttlMs) return current.snapshot;
      loading ??= load().finally(() => (loading = undefined));
      try {
        return await loading;
      } catch (error) {
        if (current === undefined) throw error;
        logger.warn({ err: error }, 'admin settings reload failed; serving the last copy');
        return current.snapshot;
      }
    },
    invalidate(): void {
      generation += 1;
      current = undefined;
    },
  };
}

export type SnapshotCache = ReturnType<typeof createSnapshotCache>;

type FlagRow = {
  key: string;
  description: string;
  enabled: boolean;
  roles: string[];
  percentage: number;
  cities: string[];
  version: number;
  updated_by: string | null;
  updated_at: Date;
};

export function flagOf(row: FlagRow): StoredFlag {
  return {
    key: row.key,
    description: row.description,
    enabled: row.enabled,
    roles: row.roles,
    percentage: row.percentage,
    cities: row.cities,
    version: row.version,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

function maintenanceOf(
  row: { value: unknown; version: number; updated_at: Date } | undefined,
): Snapshot['maintenance'] {
  if (row === undefined) return { ...MAINTENANCE_OFF, version: 0, updatedAt: null };
  const value = row.value as { enabled?: unknown; message?: unknown; until?: unknown };
  return {
    enabled: value.enabled === true,
    message: typeof value.message === 'string' ? value.message : '',
    until: typeof value.until === 'string' ? new Date(value.until) : null,
    version: row.version,
    updatedAt: row.updated_at,
  };
}

/** The stored overrides; anything not a positive integer for a known tier is ignored. */
export function rateLimitsOf(
  row: { value: unknown; version: number; updated_at: Date } | undefined,
): Snapshot['rateLimits'] {
  const value = (row?.value ?? {}) as Record<string, unknown>;
  const overrides: RateLimitOverrides = {};
  for (const tier of RATE_LIMIT_TIERS) {
    const max = value[tier];
    if (typeof max === 'number' && Number.isInteger(max) && max > 0) overrides[tier] = max;
  }
  return { overrides, version: row?.version ?? 0, updatedAt: row?.updated_at ?? null };
}

/** Locks the flag's row (if any) for the rest of the transaction. */
export async function lockedFlag(db: AdminDb, key: string): Promise<StoredFlag | undefined> {
  const row = await db
    .selectFrom('admin_feature_flags')
    .selectAll()
    .where('key', '=', key)
    .forUpdate()
    .executeTakeFirst();
  return row === undefined ? undefined : flagOf(row);
}

export async function countFlags(db: AdminDb): Promise<number> {
  const row = await db
    .selectFrom('admin_feature_flags')
    .select(sql<string>`count(*)`.as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
