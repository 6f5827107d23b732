import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Erasure in two durable steps (issue #15): `deleted_at`
// closes the account at once (no sign-in, no token); `erased_at` says every context erased its
// share and the row's contact fields were cleared. A row deleted but not erased is an erasure a
// crash interrupted; identity's sweep finishes it. Accounts deleted before were erased at once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN erased_at timestamptz`.execute(db);
  await sql`UPDATE users SET erased_at = coalesce(deleted_at, now()) WHERE status = 'deleted'`.execute(db);
  await sql`CREATE INDEX users_erasure_pending_idx ON users (deleted_at) WHERE status = 'deleted' AND erased_at IS NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS users_erasure_pending_idx`.execute(db);
  await sql`ALTER TABLE users DROP COLUMN IF EXISTS erased_at`.execute(db);
}
