import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Sign-in with Google and Facebook (issue #26): one row
// per account linked at a provider. Only the provider's subject identifier is kept (no e-mail, no
// token): it is what a later sign-in is matched on. One account per provider per person, and a
// provider's account links to one of ours at most.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE social_identities (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      provider text NOT NULL,
      subject text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      CONSTRAINT social_identities_provider_known CHECK (provider IN ('google', 'facebook')),
      CONSTRAINT social_identities_subject_bounded CHECK (char_length(subject) BETWEEN 1 AND 255),
      CONSTRAINT social_identities_subject_unique UNIQUE (provider, subject),
      CONSTRAINT social_identities_one_per_provider UNIQUE (user_id, provider)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS social_identities`.execute(db);
}
