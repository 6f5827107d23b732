import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Every ledger verification (the CLI, the admin route,
// the nightly schedule) leaves one row, so /metrics and the alert on a failed verification see
// runs made by any process, and finance can show when the ledger was last proven.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE ledger_verifications (
    id bigserial PRIMARY KEY,
    verified_at timestamptz NOT NULL DEFAULT now(),
    source text NOT NULL CHECK (source IN ('cli', 'admin', 'schedule', 'export', 'other')),
    ok boolean NOT NULL,
    stream text NOT NULL,
    events int8 NOT NULL,
    transfers int8 NOT NULL,
    final_hash text NOT NULL,
    mismatches int4 NOT NULL,
    duration_ms int4 NOT NULL
  )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ledger_verifications`.execute(db);
}
