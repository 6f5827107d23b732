/**
 * The catalog's daily budget of Gemini calls (semantic, voice and photo search and the
 * embedding job), shared by every instance through one counter row per UTC day
 * (`catalog_search_ai_calls`): a call is made only when incrementing the day's count keeps it
 * within SEARCH_AI_DAILY_CALL_BUDGET (one conditional upsert: two instances cannot both take the
 * last call). A call is counted when attempted, failed or not. Support keeps its own budget
 * (GEMINI_DAILY_CALL_BUDGET): a busy search day never silences agents' drafts.
 */
import { sql } from 'kysely';
import type { CatalogDb } from '../tables.js';
import { SearchAiError, type SearchAi } from './port.js';

export interface SearchAiBudget {
  take(): Promise<boolean>;
  used(): Promise<number>;
}

const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

export function createSearchAiBudget(db: CatalogDb, dailyCalls: number, now: () => Date): SearchAiBudget {
  return {
    async take() {
      if (dailyCalls <= 0) return false;
      const row = await sql<{ calls: number }>`
        INSERT INTO catalog_search_ai_calls (day, calls) VALUES (${dayOf(now())}::date, 1)
        ON CONFLICT (day) DO UPDATE SET calls = catalog_search_ai_calls.calls + 1
          WHERE catalog_search_ai_calls.calls < ${dailyCalls}
        RETURNING calls`.execute(db);
      return row.rows.length === 1;
    },
    async used() {
      const row = await sql<{ calls: number }>`
        SELECT calls FROM catalog_search_ai_calls WHERE day = ${dayOf(now())}::date`.execute(db);
      return row.rows[0]?.calls ?? 0;
    },
  };
}

/** The model behind the budget: a call beyond it fails at once (SearchAiError 'budget_spent'). */
export function budgetedSearchAi(model: SearchAi, budget: SearchAiBudget): SearchAi {
  const spend = async () => {
    if (!(await budget.take()))
      throw new SearchAiError('budget_spent', 'the daily Gemini call budget is spent');
  };
  return {
    embeddingModel: model.embeddingModel,
    async embed(texts, purpose) {
      if (texts.length === 0) return [];
      await spend();
      return model.embed(texts, purpose);
    },
    async transcribe(audio) {
      await spend();
      return model.transcribe(audio);
    },
    async describeImage(image) {
      await spend();
      return model.describeImage(image);
    },
  };
}
