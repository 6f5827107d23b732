import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Loyalty points (issue #21): the earning decision per
// order (tier and multiplier fixed at the first handling, so a replay books the same transfer)
// and the award reactor's checkpoint. Balances and history are the ledger's, never stored here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE loyalty_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE loyalty_awards (
      order_id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      base_minor int8 NOT NULL CHECK (base_minor >= 0),
      tier text NOT NULL CHECK (tier IN ('bronze', 'silver', 'gold')),
      multiplier text NOT NULL,
      points int8 NOT NULL CHECK (points >= 0),
      source_event text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX ON loyalty_awards (user_id, created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['loyalty_awards', 'loyalty_reactor_checkpoints'])
    await db.schema.dropTable(table).ifExists().execute();
}
