import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The admin context (issue #23): run-time configuration
// persisted in PostgreSQL so every instance reads the same values. Feature flags (per role, a
// percentage of users by stable hashing, per city) and settings by key (maintenance mode). Each
// row carries a version bumped by every change (a change applies to the version it was made on).
// Who changed what is in identity's audit log, written in the same transaction.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_feature_flags (
      key text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.-]{1,63}$'),
      description text NOT NULL DEFAULT '',
      enabled boolean NOT NULL,
      roles text[] NOT NULL DEFAULT '{}',
      percentage integer NOT NULL CHECK (percentage BETWEEN 0 AND 100),
      cities text[] NOT NULL DEFAULT '{}',
      version integer NOT NULL DEFAULT 1,
      updated_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE admin_settings (
      key text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.-]{1,63}$'),
      value jsonb NOT NULL,
      version integer NOT NULL DEFAULT 1,
      updated_by uuid,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_settings`.execute(db);
  await sql`DROP TABLE IF EXISTS admin_feature_flags`.execute(db);
}
