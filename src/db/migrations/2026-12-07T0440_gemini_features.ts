import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Gemini for every context (issue #22):
// - `gemini_calls` replaces support's `support_model_calls`: the Gemini calls made each UTC day,
//   counted across instances and features, so GEMINI_DAILY_CALL_BUDGET bounds the spend of all
//   features together; `by_feature` says who spent it. Support's counts are carried over.
// - `catalog_description_drafts`: a menu item's description draft (one per item, replaced by the
//   next), never published until its owner confirms it.
// - `admin_fraud_summaries`: one weekly summary of fraud signals and cases per week (Monday, Douala).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE gemini_calls (
      day date PRIMARY KEY,
      calls integer NOT NULL CHECK (calls >= 0),
      by_feature jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(by_feature) = 'object')
    )`.execute(db);
  await sql`
    INSERT INTO gemini_calls (day, calls, by_feature)
    SELECT day, calls, jsonb_build_object('support', calls) FROM support_model_calls`.execute(db);
  await sql`DROP TABLE support_model_calls`.execute(db);

  await sql`
    CREATE TABLE catalog_description_drafts (
      item_id uuid PRIMARY KEY REFERENCES menu_items (id) ON DELETE CASCADE,
      id uuid NOT NULL UNIQUE,
      restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
      description_fr text NOT NULL CHECK (char_length(description_fr) BETWEEN 1 AND 1000),
      description_en text NOT NULL CHECK (char_length(description_en) BETWEEN 1 AND 1000),
      source text NOT NULL CHECK (source IN ('model', 'template')),
      model text,
      input_hash text NOT NULL,
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      confirmed_at timestamptz,
      confirmed_by uuid
    )`.execute(db);

  await sql`
    CREATE TABLE admin_fraud_summaries (
      id uuid PRIMARY KEY,
      week_start date NOT NULL UNIQUE,
      period_start timestamptz NOT NULL,
      period_end timestamptz NOT NULL CHECK (period_end > period_start),
      figures jsonb NOT NULL,
      summary_fr text NOT NULL CHECK (char_length(summary_fr) BETWEEN 1 AND 4000),
      summary_en text NOT NULL CHECK (char_length(summary_en) BETWEEN 1 AND 4000),
      source text NOT NULL CHECK (source IN ('model', 'template')),
      model text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE admin_fraud_summaries`.execute(db);
  await sql`DROP TABLE catalog_description_drafts`.execute(db);
  await sql`
    CREATE TABLE support_model_calls (
      day date PRIMARY KEY,
      calls integer NOT NULL CHECK (calls >= 0)
    )`.execute(db);
  await sql`
    INSERT INTO support_model_calls (day, calls)
    SELECT day, COALESCE((by_feature ->> 'support')::int, 0) FROM gemini_calls`.execute(db);
  await sql`DROP TABLE gemini_calls`.execute(db);
}
