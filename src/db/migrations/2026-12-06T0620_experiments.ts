import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A/B experiments (issue #24): each experiment with its
// weighted variants, and one row per person exposed (first and last exposure, the variant seen),
// from which conversions (an order within the session after an exposure) are counted.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE experiments (
      key text PRIMARY KEY,
      description text NOT NULL,
      variants jsonb NOT NULL,
      control text NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'stopped')),
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      stopped_at timestamptz
    )`.execute(db);
  await sql`
    CREATE TABLE experiment_exposures (
      experiment_key text NOT NULL REFERENCES experiments (key),
      subject_id uuid NOT NULL,
      variant text NOT NULL,
      first_exposed_at timestamptz NOT NULL,
      last_exposed_at timestamptz NOT NULL,
      exposures integer NOT NULL DEFAULT 1,
      PRIMARY KEY (experiment_key, subject_id)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS experiment_exposures`.execute(db);
  await sql`DROP TABLE IF EXISTS experiments`.execute(db);
}
