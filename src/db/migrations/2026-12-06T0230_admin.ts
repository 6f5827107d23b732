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
  // Fraud detection: a checkpointed reactor follows the events, records one signal per (rule,
  // event) (a redelivered event counts once), counts a subject's signals in the rule's window, and
  // opens one case per (rule, subject) while it is open. Subjects are `user:<id>` or
  // `phone:<keyed blind index>`: no phone number is stored.
  await sql`
    CREATE TABLE admin_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE admin_fraud_signals (
      rule text NOT NULL,
      source_id text NOT NULL,
      subject text NOT NULL,
      user_id uuid,
      at timestamptz NOT NULL,
      PRIMARY KEY (rule, source_id)
    )`.execute(db);
  await sql`CREATE INDEX admin_fraud_signals_window_idx ON admin_fraud_signals (rule, subject, at)`.execute(
    db,
  );
  await sql`
    CREATE TABLE admin_fraud_cases (
      id uuid PRIMARY KEY,
      rule text NOT NULL,
      subject text NOT NULL,
      user_id uuid,
      score integer NOT NULL CHECK (score BETWEEN 0 AND 100),
      signals integer NOT NULL CHECK (signals >= 0),
      reason text NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'dismissed', 'confirmed')),
      opened_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      decided_by uuid,
      decided_at timestamptz,
      decision_note text
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX admin_fraud_cases_open_idx ON admin_fraud_cases (rule, subject) WHERE status = 'open'`.execute(
    db,
  );
  await sql`CREATE INDEX admin_fraud_cases_queue_idx ON admin_fraud_cases (status, opened_at DESC, id DESC)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['admin_fraud_cases', 'admin_fraud_signals', 'admin_reactor_checkpoints'])
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  await sql`DROP TABLE IF EXISTS admin_settings`.execute(db);
  await sql`DROP TABLE IF EXISTS admin_feature_flags`.execute(db);
}
