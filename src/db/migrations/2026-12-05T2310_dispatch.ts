import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Drivers' availability and last accepted fix, the
// audit trail of their shifts, flagged fixes (impossible speed) and the trail of an order while
// a driver carries it (issue #20).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE driver_availability (
      driver_id uuid PRIMARY KEY,
      online boolean NOT NULL,
      vehicle text NOT NULL CHECK (vehicle IN ('motorbike', 'car', 'bicycle')),
      since timestamptz NOT NULL,
      last_latitude double precision,
      last_longitude double precision,
      last_accuracy_meters real,
      last_heading real,
      last_speed_kmh real,
      last_recorded_at timestamptz,
      last_accepted_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE driver_shift_events (
      id bigserial PRIMARY KEY,
      driver_id uuid NOT NULL,
      online boolean NOT NULL,
      vehicle text NOT NULL,
      at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX driver_shift_events_driver_idx ON driver_shift_events (driver_id, at)`.execute(db);
  await sql`
    CREATE TABLE driver_location_flags (
      id bigserial PRIMARY KEY,
      driver_id uuid NOT NULL,
      reason text NOT NULL,
      latitude double precision NOT NULL,
      longitude double precision NOT NULL,
      recorded_at timestamptz NOT NULL,
      previous_latitude double precision,
      previous_longitude double precision,
      previous_recorded_at timestamptz,
      speed_kmh double precision,
      limit_kmh double precision,
      vehicle text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX driver_location_flags_driver_idx ON driver_location_flags (driver_id, created_at)`.execute(
    db,
  );
  await sql`
    CREATE TABLE order_driver_trails (
      order_id uuid NOT NULL,
      seq integer NOT NULL,
      driver_id uuid NOT NULL,
      latitude double precision NOT NULL,
      longitude double precision NOT NULL,
      recorded_at timestamptz NOT NULL,
      PRIMARY KEY (order_id, seq)
    )`.execute(db);
  await sql`CREATE INDEX order_driver_trails_driver_idx ON order_driver_trails (driver_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS order_driver_trails, driver_location_flags, driver_shift_events, driver_availability`.execute(
    db,
  );
}
