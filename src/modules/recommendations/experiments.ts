/**
 * A/B experiments (issue #24): admins start an experiment over variants the code serves, each
 * signed-in person is assigned a variant deterministically (experiment-rules.ts), every exposure
 * is counted on the person's row, and the report compares the variants' conversion (an order
 * placed within SESSION_MINUTES of the person's exposures) with 95 % intervals.
 *
 * The first experiment is `recommendations-ranker`: `model` (the ONNX ranker) against
 * `popularity` (the fallback ranking). docs/recommendations.md, "Experiments".
 */
import { sql, type Transaction } from 'kysely';
import type { AuditEntry } from '../identity/index.js';
import { recommendationsErrors } from './errors.js';
import {
  assignVariant,
  difference,
  EXPERIMENT_KEY,
  SESSION_MINUTES,
  variantsProblem,
  wilson,
  type Interval,
  type Variant,
} from './experiment-rules.js';
import type { RecommendationsDb, RecommendationTables } from './tables.js';

/** The experiments the code serves, with the variants each can serve. */
export const SERVED_EXPERIMENTS: Readonly<Record<string, readonly string[]>> = {
  'recommendations-ranker': ['model', 'popularity'],
};
export const RANKER_EXPERIMENT = 'recommendations-ranker';
/** How long an instance serves an experiment's definition before reading it again. */
const CACHE_MS = 5_000;
const DESCRIPTION_MAX = 500;

export interface Experiment {
  key: string;
  description: string;
  variants: Variant[];
  control: string;
  status: 'running' | 'stopped';
  createdBy: string;
  createdAt: string;
  stoppedAt: string | null;
}

export interface VariantReport {
  name: string;
  control: boolean;
  exposed: number;
  conversions: number;
  rate: number | null;
  interval: Interval | null;
  /** Against the control: the rate's difference and its 95 % interval (null for the control). */
  difference: { estimate: number; interval: Interval } | null;
}

export interface ExperimentReport {
  experiment: Experiment;
  sessionMinutes: number;
  variants: VariantReport[];
}

export interface ExperimentInput {
  key: string;
  description: string;
  variants: Variant[];
  control: string;
}

type Audit = (entry: AuditEntry, transaction?: Transaction<RecommendationTables>) => Promise<void>;
type Actor = AuditEntry['actor'] & { userId: string };

export interface Experiments {
  create(input: ExperimentInput, actor: Actor): Promise<{ experiment: Experiment; created: boolean }>;
  stop(key: string, actor: Actor): Promise<Experiment>;
  list(): Promise<Experiment[]>;
  get(key: string): Promise<Experiment>;
  report(key: string): Promise<ExperimentReport>;
  /** The variant `subjectId` sees of a running experiment (its exposure counted), or null. */
  expose(key: string, subjectId: string, at: Date): Promise<string | null>;
  /** The person's exposures (export) and their removal (erasure). */
  personalData: {
    export(subjectId: string): Promise<{ experiments: { key: string; variant: string }[] }>;
    erase(subjectId: string): Promise<void>;
  };
}

type Row = {
  key: string;
  description: string;
  variants: Variant[];
  control: string;
  status: 'running' | 'stopped';
  created_by: string;
  created_at: Date;
  stopped_at: Date | null;
};

function experimentOf(row: Row): Experiment {
  return {
    key: row.key,
    description: row.description,
    variants: row.variants,
    control: row.control,
    status: row.status,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    stoppedAt: row.stopped_at?.toISOString() ?? null,
  };
}

function sameDefinition(row: Row, input: ExperimentInput): boolean {
  return (
    row.description === input.description &&
    row.control === input.control &&
    JSON.stringify(row.variants) === JSON.stringify(input.variants)
  );
}

export function createExperiments(options: {
  db: RecommendationsDb;
  audit: Audit;
  now?: () => number;
}): Experiments {
  const { db, audit } = options;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; row: Row | undefined }>();

  const find = (key: string) =>
    db.selectFrom('experiments').selectAll().where('key', '=', key).executeTakeFirst() as Promise<
      Row | undefined
    >;

  async function running(key: string): Promise<Row | undefined> {
    const cached = cache.get(key);
    if (cached !== undefined && now() - cached.at < CACHE_MS) return cached.row;
    const row = await find(key);
    const value = row?.status === 'running' ? row : undefined;
    cache.set(key, { at: now(), row: value });
    return value;
  }

  async function required(key: string): Promise<Row> {
    const row = EXPERIMENT_KEY.test(key) ? await find(key) : undefined;
    if (row === undefined)
      throw recommendationsErrors.of('not_found', 'experiment_not_found', `No experiment is named ${key}.`);
    return row;
  }

  function check(input: ExperimentInput): void {
    const served = SERVED_EXPERIMENTS[input.key];
    if (served === undefined) {
      throw recommendationsErrors.of(
        'validation',
        'experiment_not_served',
        `No code serves an experiment named ${input.key}; served: ${Object.keys(SERVED_EXPERIMENTS).join(', ')}.`,
      );
    }
    const problem =
      input.description.trim().length === 0 || input.description.length > DESCRIPTION_MAX
        ? `The description is 1 to ${DESCRIPTION_MAX} characters.`
        : variantsProblem(input.variants, served);
    if (problem !== null) throw recommendationsErrors.of('validation', 'invalid_experiment', problem);
    if (!input.variants.some((variant) => variant.name === input.control)) {
      throw recommendationsErrors.of(
        'validation',
        'invalid_experiment',
        `The control "${input.control}" must be one of the variants.`,
      );
    }
  }

  return {
    async create(input, actor) {
      check(input);
      return db.transaction().execute(async (trx) => {
        const inserted = (await trx
          .insertInto('experiments')
          .values({
            key: input.key,
            description: input.description,
            variants: JSON.stringify(input.variants),
            control: input.control,
            status: 'running',
            created_by: actor.userId,
            stopped_at: null,
          })
          .onConflict((oc) => oc.column('key').doNothing())
          .returningAll()
          .executeTakeFirst()) as Row | undefined;
        if (inserted === undefined) {
          const existing = (await trx
            .selectFrom('experiments')
            .selectAll()
            .where('key', '=', input.key)
            .executeTakeFirstOrThrow()) as Row;
          // A retry of the same request answers the same experiment; anything else is a conflict.
          if (existing.status === 'running' && sameDefinition(existing, input))
            return { experiment: experimentOf(existing), created: false };
          throw recommendationsErrors.of(
            'conflict',
            'experiment_exists',
            existing.status === 'running'
              ? `Experiment ${input.key} is running with another definition: stop it first.`
              : `Experiment ${input.key} ran and was stopped; its figures stay. Results are per key: an experiment runs once.`,
          );
        }
        await audit(
          {
            action: 'recommendations.experiment_started',
            actor,
            resource: `experiment:${input.key}`,
            newValue: { variants: input.variants, control: input.control },
          },
          trx,
        );
        cache.delete(input.key);
        return { experiment: experimentOf(inserted), created: true };
      });
    },

    async stop(key, actor) {
      const before = await required(key);
      if (before.status === 'stopped') return experimentOf(before);
      return db.transaction().execute(async (trx) => {
        const row = (await trx
          .updateTable('experiments')
          .set({ status: 'stopped', stopped_at: sql<Date>`now()` })
          .where('key', '=', key)
          .where('status', '=', 'running')
          .returningAll()
          .executeTakeFirst()) as Row | undefined;
        // Stopped meanwhile by another admin: the same outcome.
        if (row === undefined) return experimentOf(await required(key));
        await audit(
          { action: 'recommendations.experiment_stopped', actor, resource: `experiment:${key}` },
          trx,
        );
        cache.delete(key);
        return experimentOf(row);
      });
    },

    async list() {
      const rows = (await db
        .selectFrom('experiments')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('key')
        .limit(200)
        .execute()) as Row[];
      return rows.map(experimentOf);
    },

    async get(key) {
      return experimentOf(await required(key));
    },

    async report(key) {
      const row = await required(key);
      const counts = await db
        .selectFrom('experiment_exposures as e')
        .select((eb) => [
          'e.variant',
          eb.fn.countAll<string>().as('exposed'),
          sql<string>`count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM reco_orders o
             WHERE o.customer_id = e.subject_id::text
               AND o.placed_at >= e.first_exposed_at
               AND o.placed_at <= e.last_exposed_at + make_interval(mins => ${sql.lit(SESSION_MINUTES)})))`.as(
            'conversions',
          ),
        ])
        .where('e.experiment_key', '=', key)
        .groupBy('e.variant')
        .execute();
      const byName = new Map(
        counts.map((count) => [
          count.variant,
          { exposed: Number(count.exposed), conversions: Number(count.conversions) },
        ]),
      );
      const control = byName.get(row.control) ?? { exposed: 0, conversions: 0 };
      return {
        experiment: experimentOf(row),
        sessionMinutes: SESSION_MINUTES,
        variants: row.variants.map(({ name }) => {
          const figures = byName.get(name) ?? { exposed: 0, conversions: 0 };
          return {
            name,
            control: name === row.control,
            ...figures,
            rate: figures.exposed === 0 ? null : figures.conversions / figures.exposed,
            interval: wilson(figures.conversions, figures.exposed),
            difference: name === row.control ? null : difference(figures, control),
          };
        }),
      };
    },

    async expose(key, subjectId, at) {
      const row = await running(key);
      if (row === undefined) return null;
      const variant = assignVariant(key, subjectId, row.variants);
      await db
        .insertInto('experiment_exposures')
        .values({
          experiment_key: key,
          subject_id: subjectId,
          variant,
          first_exposed_at: at,
          last_exposed_at: at,
        })
        .onConflict((oc) =>
          oc.columns(['experiment_key', 'subject_id']).doUpdateSet((eb) => ({
            last_exposed_at: sql<Date>`greatest(${eb.ref('experiment_exposures.last_exposed_at')}, ${at})`,
            exposures: sql<number>`${eb.ref('experiment_exposures.exposures')} + 1`,
          })),
        )
        .execute();
      return variant;
    },

    personalData: {
      async export(subjectId) {
        const rows = await db
          .selectFrom('experiment_exposures')
          .select(['experiment_key', 'variant'])
          .where('subject_id', '=', subjectId)
          .orderBy('experiment_key')
          .execute();
        return { experiments: rows.map((row) => ({ key: row.experiment_key, variant: row.variant })) };
      },
      async erase(subjectId) {
        await db.deleteFrom('experiment_exposures').where('subject_id', '=', subjectId).execute();
      },
    },
  };
}
