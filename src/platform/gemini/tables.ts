import type { ColumnType } from 'kysely';

/**
 * Gemini calls made per UTC day across instances and features (budget.ts): the total bounds the
 * spend (GEMINI_DAILY_CALL_BUDGET), `by_feature` says who spent it (`{"support": 12, …}`).
 */
export interface GeminiCallsTable {
  day: ColumnType<Date, string, string>;
  calls: number;
  by_feature: ColumnType<Record<string, number>, string | undefined, string>;
}

export interface GeminiTables {
  gemini_calls: GeminiCallsTable;
}
