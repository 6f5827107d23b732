import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): the Gemini calls made each day
// (UTC), counted across instances, so GEMINI_DAILY_CALL_BUDGET bounds the spend: a call is made
// only when its increment stays within the budget.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_model_calls (
      day date PRIMARY KEY,
      calls integer NOT NULL CHECK (calls >= 0)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE support_model_calls`.execute(db);
}
