import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Drivers' applications (onboarding and review), the
// incentive rules admins set, safety reports (emergencies and incidents), and the driver's photo
// as a kind of driver document (issue #20).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE driver_applications (
      user_id uuid PRIMARY KEY,
      status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'more_info')),
      vehicle text NOT NULL CHECK (vehicle IN ('motorbike', 'car', 'bicycle')),
      plate text,
      licence_expires_on date NOT NULL,
      insurance_expires_on date,
      documents jsonb NOT NULL,
      background_check text NOT NULL DEFAULT 'not_started'
        CHECK (background_check IN ('not_started', 'clear', 'flagged')),
      reason text,
      reviewed_by uuid,
      reviewed_at timestamptz,
      submitted_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX driver_applications_queue_idx ON driver_applications (status, submitted_at)`.execute(
    db,
  );
  await sql`
    CREATE TABLE driver_incentive_rules (
      id uuid PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('fuel_per_km', 'peak_hour', 'bonus_challenge')),
      name text NOT NULL,
      amount_minor int8 NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 1000000),
      params jsonb NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE driver_safety_reports (
      id uuid PRIMARY KEY,
      driver_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('emergency', 'incident')),
      category text,
      order_id uuid,
      description text,
      latitude double precision,
      longitude double precision,
      position_recorded_at timestamptz,
      photos jsonb NOT NULL DEFAULT '[]',
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX driver_safety_reports_driver_idx ON driver_safety_reports (driver_id, created_at)`.execute(
    db,
  );
  await sql`CREATE INDEX driver_safety_reports_queue_idx ON driver_safety_reports (status, created_at)`.execute(
    db,
  );
  await sql`
    CREATE TABLE driver_delivery_failures (
      order_id uuid PRIMARY KEY,
      driver_id uuid NOT NULL,
      reason text NOT NULL CHECK (reason IN ('customer_absent', 'wrong_address', 'unsafe')),
      photo_file_id uuid NOT NULL,
      latitude double precision NOT NULL,
      longitude double precision NOT NULL,
      accuracy_meters real NOT NULL,
      recorded_at timestamptz NOT NULL,
      note text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX driver_delivery_failures_driver_idx ON driver_delivery_failures (driver_id)`.execute(
    db,
  );
  await sql`ALTER TABLE files DROP CONSTRAINT IF EXISTS files_document_kind_check`.execute(db);
  await sql`ALTER TABLE files ADD CONSTRAINT files_document_kind_check
    CHECK (document_kind IN ('identity', 'licence', 'vehicle_registration', 'insurance', 'photo'))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS driver_delivery_failures, driver_safety_reports, driver_incentive_rules, driver_applications`.execute(
    db,
  );
}
