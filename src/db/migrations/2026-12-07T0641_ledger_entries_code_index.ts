import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The drivers' earnings settlement reads every driver fee
// of a period from `ledger_entries` by `code` (issue #20), which had no index. The ledger
// projection's setup creates it in every new generation; this adds it to the generations that
// exist already (the active one, and a rebuild under way), so no rebuild is needed. A fresh
// database has none yet: nothing to do.
export async function up(db: Kysely<any>): Promise<void> {
  const present = await sql<{ present: boolean }>`
    SELECT to_regclass('public.projection_generations') IS NOT NULL AS present`.execute(db);
  if (present.rows[0]?.present !== true) return;
  const generations = await sql<{ schema_name: string }>`
    SELECT schema_name FROM projection_generations
    WHERE name = 'ledger' AND status IN ('active', 'building')
      AND to_regclass(quote_ident(schema_name) || '.ledger_entries') IS NOT NULL`.execute(db);
  for (const { schema_name: schema } of generations.rows)
    await sql`CREATE INDEX IF NOT EXISTS ledger_entries_credit_code_time_idx
      ON ${sql.id(schema, 'ledger_entries')} (code, timestamp_ns) WHERE side = 'credit'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const generations = await sql<{ schema_name: string }>`
    SELECT schema_name FROM projection_generations WHERE name = 'ledger'`.execute(db);
  for (const { schema_name: schema } of generations.rows)
    await sql`DROP INDEX IF EXISTS ${sql.id(schema, 'ledger_entries_credit_code_time_idx')}`.execute(db);
}
