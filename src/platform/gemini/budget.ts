/**
 * One daily budget of Gemini calls for every feature, shared by every instance through one counter
 * row per UTC day (`gemini_calls`): a call is made only when incrementing the day's total keeps it
 * within GEMINI_DAILY_CALL_BUDGET (one conditional upsert, so two instances cannot both take the
 * last call). The same statement counts the call under its feature (`by_feature`), which says who
 * spent the day's budget. A call is counted when it is attempted, failed or not: the budget bounds
 * the spend. Once spent, the model refuses at once and each feature answers its fallback.
 *
 * Shared rather than per feature on purpose: the budget bounds what one key costs a day, which is
 * one figure for the operator; a feature that finds it spent still answers (its fallback).
 */
import { sql, type Kysely } from 'kysely';
import { ModelError, type TextModel } from './model.js';
import type { GeminiTables } from './tables.js';

export interface ModelBudget {
  /** Takes one call from today's budget for `feature`: false when it is spent. */
  take(feature: string): Promise<boolean>;
  /** Today's calls so far, in all and by feature. */
  used(): Promise<{ calls: number; byFeature: Record<string, number> }>;
}

const dayOf = (at: Date): string => at.toISOString().slice(0, 10);
export const FEATURE_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;

/** `db`: any database that has the `gemini_calls` table (the runtime's, or the application's). */
export function createModelBudget<Tables extends GeminiTables>(deps: {
  db: Kysely<Tables>;
  dailyCalls: number;
  now?: () => Date;
}): ModelBudget {
  const now = deps.now ?? (() => new Date());
  const db = deps.db as unknown as Kysely<GeminiTables>;
  return {
    async take(feature) {
      if (!FEATURE_PATTERN.test(feature)) throw new RangeError(`bad Gemini feature name ${feature}`);
      if (deps.dailyCalls <= 0) return false;
      const row = await sql<{ calls: number }>`
        INSERT INTO gemini_calls (day, calls, by_feature)
        VALUES (${dayOf(now())}::date, 1, jsonb_build_object(${feature}::text, 1))
        ON CONFLICT (day) DO UPDATE SET
          calls = gemini_calls.calls + 1,
          by_feature = gemini_calls.by_feature || jsonb_build_object(
            ${feature}::text, COALESCE((gemini_calls.by_feature ->> ${feature}::text)::int, 0) + 1)
          WHERE gemini_calls.calls < ${deps.dailyCalls}
        RETURNING calls`.execute(db);
      return row.rows.length === 1;
    },
    async used() {
      const row = await db
        .selectFrom('gemini_calls')
        .select(['calls', 'by_feature'])
        .where(sql<boolean>`day = ${dayOf(now())}::date`)
        .executeTakeFirst();
      return { calls: row?.calls ?? 0, byFeature: row?.by_feature ?? {} };
    },
  };
}

/** The model behind the budget for one feature: a call beyond it fails fast (ModelError, 429) without leaving. */
export function budgetedModel(model: TextModel, budget: ModelBudget, feature: string): TextModel {
  return {
    name: model.name,
    async generate(request) {
      if (!(await budget.take(feature))) throw new ModelError('the daily Gemini call budget is spent', 429);
      return model.generate(request);
    },
  };
}
