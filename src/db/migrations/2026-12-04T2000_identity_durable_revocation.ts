import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Token revocation must survive Redis losing its data
// (a restart without persistence, FLUSHALL): a user's "tokens issued before this instant are
// void" mark is kept in the users row, next to the sessions' revoked_at, and both are read back
// for the access-token lifetime (15 minutes), hence the partial indexes on recent revocations.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN tokens_revoked_before timestamptz`.execute(db);
  await sql`CREATE INDEX users_tokens_revoked_before_idx ON users (tokens_revoked_before) WHERE tokens_revoked_before IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS sessions_revoked_at_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS users_tokens_revoked_before_idx`.execute(db);
  await sql`ALTER TABLE users DROP COLUMN IF EXISTS tokens_revoked_before`.execute(db);
}
