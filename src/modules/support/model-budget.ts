/**
 * A daily budget of model (Gemini) calls, shared by every instance through one counter row per
 * UTC day: a call is made only when incrementing the day's count keeps it within
 * GEMINI_DAILY_CALL_BUDGET (one conditional upsert, so two instances cannot both take the last
 * call). A call is counted when it is attempted, failed or not: the budget bounds the spend.
 * Once spent, the model port refuses at once and the features answer their deterministic fallback.
 */
import { sql } from 'kysely';
import { AssistModelError, type AssistModel } from './gemini.js';
import type { SupportDb } from './tables.js';

export interface ModelBudget {
  /** Takes one call from today's budget: false when it is spent. */
  take(): Promise<boolean>;
  /** Today's calls so far. */
  used(): Promise<number>;
}

const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

export function createModelBudget(deps: {
  db: SupportDb;
  dailyCalls: number;
  now?: () => Date;
}): ModelBudget {
  const now = deps.now ?? (() => new Date());
  return {
    async take() {
      if (deps.dailyCalls <= 0) return false;
      const row = await sql<{ calls: number }>`
        INSERT INTO support_model_calls (day, calls) VALUES (${dayOf(now())}::date, 1)
        ON CONFLICT (day) DO UPDATE SET calls = support_model_calls.calls + 1
          WHERE support_model_calls.calls < ${deps.dailyCalls}
        RETURNING calls`.execute(deps.db);
      return row.rows.length === 1;
    },
    async used() {
      const row = await deps.db
        .selectFrom('support_model_calls')
        .select('calls')
        .where(sql<boolean>`day = ${dayOf(now())}::date`)
        .executeTakeFirst();
      return row?.calls ?? 0;
    },
  };
}

/** The model behind the budget: a call beyond it fails fast (AssistModelError, status 429) without leaving. */
export function budgetedModel(model: AssistModel, budget: ModelBudget): AssistModel {
  return {
    name: model.name,
    async generate(request) {
      if (!(await budget.take())) throw new AssistModelError('the daily Gemini call budget is spent', 429);
      return model.generate(request);
    },
  };
}
