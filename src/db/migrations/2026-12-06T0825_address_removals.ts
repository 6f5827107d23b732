import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Delta sync of saved addresses (issue #25): a removed
// address leaves a tombstone (its id and when) for 7 days, so an app syncing with a cursor learns
// to drop it. Only ids and times: no address text is kept.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE user_address_removals (
      address_id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      removed_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX user_address_removals_user_idx ON user_address_removals (user_id, removed_at)`.execute(
    db,
  );
  await sql`CREATE INDEX user_addresses_user_updated_idx ON user_addresses (user_id, updated_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS user_addresses_user_updated_idx`.execute(db);
  await sql`DROP TABLE IF EXISTS user_address_removals`.execute(db);
}
