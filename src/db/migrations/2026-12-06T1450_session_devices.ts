import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Issue #21, docs/loyalty.md ("Referrals"): a session
// records a keyed hash of the app's install id (`X-Device-Id`), so a referral whose referee and
// referrer signed in on the same device is refused. The raw id is never stored.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE sessions ADD COLUMN device_hash text`.execute(db);
  await sql`CREATE INDEX sessions_user_device ON sessions (user_id, device_hash) WHERE device_hash IS NOT NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS sessions_user_device`.execute(db);
  await sql`ALTER TABLE sessions DROP COLUMN IF EXISTS device_hash`.execute(db);
}
