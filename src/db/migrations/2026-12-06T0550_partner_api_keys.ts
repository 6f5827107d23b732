import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Partner API keys (issue #26, spec §3.4): keys an admin
// issues to a partner (a restaurant's POS, an aggregator, a reporting tool). The key itself is
// kept only as its SHA-256 (it is 256 random bits, so a slow hash adds nothing); the HMAC signing
// secret must be readable to check signatures, so it is sealed with the master key. A rotated key
// names its successor and keeps working until `expires_at` (the grace period).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE partner_api_keys (
      key_id text PRIMARY KEY,
      label text NOT NULL,
      restaurant_id uuid,
      scopes text[] NOT NULL,
      key_sha256 bytea NOT NULL,
      signing_secret_ciphertext bytea NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      rotated_from text REFERENCES partner_api_keys (key_id),
      rotated_to text REFERENCES partner_api_keys (key_id),
      rotated_at timestamptz,
      revoked_at timestamptz,
      revoked_by uuid,
      last_used_at timestamptz,
      expiry_reminded_at timestamptz,
      issue_idempotency_key text UNIQUE,
      CONSTRAINT partner_api_keys_scopes_bounded CHECK (cardinality(scopes) BETWEEN 1 AND 20),
      CONSTRAINT partner_api_keys_label_bounded CHECK (char_length(label) BETWEEN 1 AND 100)
    )`.execute(db);
  await sql`CREATE INDEX partner_api_keys_restaurant_idx ON partner_api_keys (restaurant_id)`.execute(db);
  await sql`
    CREATE INDEX partner_api_keys_expiring_idx ON partner_api_keys (expires_at)
      WHERE revoked_at IS NULL AND rotated_to IS NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS partner_api_keys`.execute(db);
}
