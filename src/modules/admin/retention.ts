import type { Logger } from 'pino';
import type { RetentionKind } from '../../platform/context.js';
import type { Actor, AuditFunction } from '../identity/index.js';
import { adminErrors } from './errors.js';
import { writeSetting } from './store.js';
import type { AdminDb } from './tables.js';

/**
 * The data-retention policy (issue #23, docs/admin.md "Data retention"): a period per kind of data
 * (the kinds are what the contexts registered: `platform.retention`), set by admins at run time
 * (persisted in `admin_settings`, audited), and the daily job that applies it. The job deletes, per
 * kind, rows older than the period in bounded batches; running it again deletes nothing more
 * (idempotent); each run is one audit line with what it deleted. Money is never a kind: the
 * ledger, payments, payouts and the event store register none.
 */
export const RETENTION_KEY = 'retention';
export const RETENTION_QUEUE = 'admin-retention';
export const RETENTION_MAX_DAYS = 3_650;
/** Rows one purge call deletes, and calls per kind per run: a run's work has a ceiling. */
export const RETENTION_BATCH = 1_000;
export const RETENTION_MAX_BATCHES = 100;
const DAY_MS = 86_400_000;

export interface RetentionPolicyLine {
  kind: string;
  description: string;
  defaultDays: number;
  minimumDays: number;
  /** The admin's period, or null: the default applies. */
  configuredDays: number | null;
  days: number;
}

export interface RetentionRun {
  at: string;
  deleted: Record<string, number>;
  /** Kinds that hit the run's ceiling: the next run goes on. */
  unfinished: string[];
  failed: string[];
}

/** The period of each kind: the admin's where set and still valid, the default otherwise (pure). */
export function policyLines(
  kinds: readonly RetentionKind[],
  configured: Readonly<Record<string, unknown>>,
): RetentionPolicyLine[] {
  return [...kinds]
    .sort((a, b) => a.kind.localeCompare(b.kind))
    .map((kind) => {
      const value = configured[kind.kind];
      const valid =
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= kind.minimumDays &&
        value <= RETENTION_MAX_DAYS;
      return {
        kind: kind.kind,
        description: kind.description,
        defaultDays: kind.defaultDays,
        minimumDays: kind.minimumDays,
        configuredDays: valid ? value : null,
        days: valid ? value : kind.defaultDays,
      };
    });
}

export function createRetention(deps: {
  db: AdminDb;
  kinds: ReadonlyMap<string, RetentionKind>;
  audit: AuditFunction;
  logger: Logger;
}) {
  const { db, kinds, logger } = deps;

  async function stored(executor: AdminDb = db) {
    const row = await executor
      .selectFrom('admin_settings')
      .select(['value', 'version', 'updated_at'])
      .where('key', '=', RETENTION_KEY)
      .executeTakeFirst();
    const value = (row?.value ?? {}) as Record<string, unknown>;
    return { value, version: row?.version ?? 0, updatedAt: row?.updated_at ?? null };
  }

  async function policy() {
    const current = await stored();
    return {
      kinds: policyLines([...kinds.values()], current.value),
      version: current.version,
      updatedAt: current.updatedAt?.toISOString() ?? null,
    };
  }

  /** Sets (a number) or resets (null) the periods of the named kinds; the others keep theirs. */
  async function setPolicy(
    input: { days: Record<string, number | null>; expectedVersion?: number | undefined },
    actor: Actor,
  ) {
    for (const [name, days] of Object.entries(input.days)) {
      const kind = kinds.get(name);
      if (kind === undefined)
        throw adminErrors.of('validation', 'retention_kind_unknown', `No kind of data is called ${name}.`, {
          details: { kind: name, kinds: [...kinds.keys()] },
        });
      if (days !== null && (days < kind.minimumDays || days > RETENTION_MAX_DAYS))
        throw adminErrors.of(
          'validation',
          'retention_days_out_of_range',
          `${name} is kept ${kind.minimumDays} to ${RETENTION_MAX_DAYS} days.`,
          { details: { kind: name, minimumDays: kind.minimumDays, maximumDays: RETENTION_MAX_DAYS } },
        );
    }
    await db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('admin_settings')
        .select(['value', 'version'])
        .where('key', '=', RETENTION_KEY)
        .forUpdate()
        .executeTakeFirst();
      const version = before?.version ?? 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== version)
        throw adminErrors.of('conflict', 'retention_changed', 'The policy changed since it was read.', {
          details: { version },
        });
      const next: Record<string, number> = { ...((before?.value ?? {}) as Record<string, number>) };
      for (const [name, days] of Object.entries(input.days))
        if (days === null) delete next[name];
        else next[name] = days;
      const json = JSON.stringify(next);
      await writeSetting(trx, RETENTION_KEY, json, actor.userId ?? null);
      await deps.audit(
        {
          action: 'admin.retention_changed',
          actor,
          resource: 'setting:retention',
          oldValue: before?.value ?? null,
          newValue: next,
        },
        trx,
      );
    });
    return policy();
  }

  /** Purges one kind in bounded batches; whether it finished. */
  async function purgeKind(
    kind: RetentionKind,
    before: Date,
  ): Promise<{ deleted: number; finished: boolean }> {
    let deleted = 0;
    for (let batch = 0; batch < RETENTION_MAX_BATCHES; batch += 1) {
      const count = await kind.purge(before, RETENTION_BATCH);
      deleted += count;
      if (count < RETENTION_BATCH) return { deleted, finished: true };
    }
    return { deleted, finished: false };
  }

  /** Applies the policy as of `at`: the job's work (idempotent), audited as one line. */
  async function apply(at: Date): Promise<RetentionRun> {
    const run: RetentionRun = { at: at.toISOString(), deleted: {}, unfinished: [], failed: [] };
    for (const line of (await policy()).kinds) {
      const kind = kinds.get(line.kind)!;
      try {
        const outcome = await purgeKind(kind, new Date(at.getTime() - line.days * DAY_MS));
        run.deleted[line.kind] = outcome.deleted;
        if (!outcome.finished) run.unfinished.push(line.kind);
      } catch (error) {
        // One kind's failure stops no other; the job is retried (every purge is idempotent).
        logger.error({ err: error, kind: line.kind }, 'retention purge failed');
        run.failed.push(line.kind);
      }
    }
    await deps.audit({
      action: 'admin.retention_applied',
      actor: { kind: 'system' },
      resource: 'setting:retention',
      newValue: run,
    });
    logger.info(run, 'data retention applied');
    if (run.failed.length > 0) throw new Error(`retention purge failed for ${run.failed.join(', ')}`);
    return run;
  }

  return { policy, setPolicy, apply };
}

export type Retention = ReturnType<typeof createRetention>;

/** The admin context's own kind: fraud signals, needed only within the velocity window. */
export function fraudSignalsRetention(db: AdminDb, windowMinutes: number): RetentionKind {
  return {
    kind: 'admin.fraud_signals',
    description: 'fraud velocity signals (cases, their scores and decisions are kept)',
    defaultDays: 90,
    minimumDays: Math.ceil(windowMinutes / 1_440) + 1,
    async purge(before, limit) {
      const result = await db
        .deleteFrom('admin_fraud_signals')
        .where(({ eb, selectFrom }) =>
          eb(
            'source_id',
            'in',
            selectFrom('admin_fraud_signals').select('source_id').where('at', '<', before).limit(limit),
          ),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
