import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Personal data at rest (issue #15 item 14): the users'
// phone, e-mail and name (and their addresses, below) are encrypted field by field by the application (AES-256-GCM, versioned
// `pii1.<key id>.…` text in the same columns); lookups and uniqueness move to keyed blind indexes
// (HMAC-SHA256): `phone_bidx` (E.164), `email_bidx` (lower-case) and `name_terms` (one index per
// word, for the admin search). Existing rows are encrypted by identity's idempotent boot step
// (src/modules/identity/pii-backfill.ts), which needs the keys this file cannot know.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN phone_bidx text, ADD COLUMN email_bidx text, ADD COLUMN name_terms text[] NOT NULL DEFAULT '{}'::text[]`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX users_phone_bidx_unique ON users (phone_bidx) WHERE phone_bidx IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX users_email_bidx_unique ON users (email_bidx) WHERE email_bidx IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX users_name_terms_idx ON users USING gin (name_terms)`.execute(db);
  // Ciphertexts of equal values differ (random IVs): uniqueness lives on the blind indexes now.
  await sql`ALTER TABLE users DROP CONSTRAINT IF EXISTS users_phone_key`.execute(db);
  await sql`DROP INDEX IF EXISTS users_email_unique`.execute(db);
  // One-time codes are now kept under the number's blind index: outstanding codes (5 minutes at
  // most) were keyed by the number in clear; they go, and a client asks for a new one.
  await sql`DELETE FROM phone_verifications`.execute(db);
  // Addresses: street lines, district, landmark, instructions and coordinates are encrypted too;
  // the coordinates become text (ciphertext), their numbers kept as decimal text until encrypted.
  await sql`ALTER TABLE user_addresses ALTER COLUMN latitude TYPE text USING latitude::text, ALTER COLUMN longitude TYPE text USING longitude::text`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  // Only plaintext rows convert back; run down before any row is encrypted, or restore a backup.
  await sql`ALTER TABLE user_addresses ALTER COLUMN latitude TYPE double precision USING latitude::double precision, ALTER COLUMN longitude TYPE double precision USING longitude::double precision`.execute(
    db,
  );
  await sql`DROP INDEX IF EXISTS users_name_terms_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS users_email_bidx_unique`.execute(db);
  await sql`DROP INDEX IF EXISTS users_phone_bidx_unique`.execute(db);
  await sql`ALTER TABLE users DROP COLUMN IF EXISTS phone_bidx, DROP COLUMN IF EXISTS email_bidx, DROP COLUMN IF EXISTS name_terms`.execute(
    db,
  );
}
