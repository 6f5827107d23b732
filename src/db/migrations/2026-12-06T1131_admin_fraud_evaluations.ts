import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Fraud signals become one row per evaluated event
// (issue #23): the event, its account and its payment phone's keyed index, and the rules that
// fired on it, instead of one row per (rule, event). Existing rows are folded into one per event.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_fraud_signals_by_event (
      source_id text PRIMARY KEY,
      user_id uuid,
      phone_subject text,
      rules text[] NOT NULL CHECK (cardinality(rules) > 0),
      at timestamptz NOT NULL
    )`.execute(db);
  await sql`
    INSERT INTO admin_fraud_signals_by_event (source_id, user_id, phone_subject, rules, at)
    SELECT source_id,
           (array_agg(user_id) FILTER (WHERE user_id IS NOT NULL))[1],
           max(subject) FILTER (WHERE subject LIKE 'phone:%'),
           array_agg(DISTINCT rule ORDER BY rule),
           min(at)
    FROM admin_fraud_signals
    GROUP BY source_id`.execute(db);
  await sql`DROP TABLE admin_fraud_signals`.execute(db);
  await sql`ALTER TABLE admin_fraud_signals_by_event RENAME TO admin_fraud_signals`.execute(db);
  await sql`ALTER INDEX admin_fraud_signals_by_event_pkey RENAME TO admin_fraud_signals_pkey`.execute(db);
  await sql`CREATE INDEX admin_fraud_signals_user_idx ON admin_fraud_signals (user_id, at) WHERE user_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX admin_fraud_signals_phone_idx ON admin_fraud_signals (phone_subject, at) WHERE phone_subject IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX admin_fraud_signals_at_idx ON admin_fraud_signals (at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_fraud_signals_by_rule (
      rule text NOT NULL,
      source_id text NOT NULL,
      subject text NOT NULL,
      user_id uuid,
      at timestamptz NOT NULL,
      PRIMARY KEY (rule, source_id)
    )`.execute(db);
  await sql`
    INSERT INTO admin_fraud_signals_by_rule (rule, source_id, subject, user_id, at)
    SELECT rule, source_id,
           CASE WHEN rule IN ('failed_payments_per_phone', 'accounts_per_phone')
                THEN coalesce(phone_subject, 'erased')
                ELSE coalesce('user:' || user_id::text, 'erased') END,
           user_id, at
    FROM admin_fraud_signals, unnest(rules) AS rule`.execute(db);
  await sql`DROP TABLE admin_fraud_signals`.execute(db);
  await sql`ALTER TABLE admin_fraud_signals_by_rule RENAME TO admin_fraud_signals`.execute(db);
  await sql`ALTER INDEX admin_fraud_signals_by_rule_pkey RENAME TO admin_fraud_signals_pkey`.execute(db);
  await sql`CREATE INDEX admin_fraud_signals_window_idx ON admin_fraud_signals (rule, subject, at)`.execute(
    db,
  );
}
