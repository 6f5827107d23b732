import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Issue #20:
// - dispatch_speed_alerts: one row per speeding leg of a carried order (the fix that closed it),
//   its id derived from the order and that fix's time, so two instances (or a retried check)
//   store it once. Staff read these rows; the driver is told from them.
// - dispatch_daily_runs: one row per daily job and Douala day it completed (the 06:00 reminder
//   round, the nightly incentive settlement), so a day every instance missed is caught up.
// - dispatch_geofence_arrivals gets an index on its time for the clean-up job.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE dispatch_speed_alerts (
      id uuid PRIMARY KEY,
      driver_id uuid NOT NULL,
      order_id uuid NOT NULL,
      vehicle text NOT NULL CHECK (vehicle IN ('motorbike', 'car', 'bicycle')),
      speed_kmh integer NOT NULL CHECK (speed_kmh >= 0),
      limit_kmh integer NOT NULL CHECK (limit_kmh > 0),
      from_latitude double precision NOT NULL,
      from_longitude double precision NOT NULL,
      from_recorded_at timestamptz NOT NULL,
      to_latitude double precision NOT NULL,
      to_longitude double precision NOT NULL,
      to_recorded_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX dispatch_speed_alerts_driver_idx
    ON dispatch_speed_alerts (driver_id, to_recorded_at DESC, id DESC)`.execute(db);
  await sql`
    CREATE TABLE dispatch_daily_runs (
      job text NOT NULL CHECK (job IN ('reminders', 'incentives')),
      day text NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
      completed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (job, day)
    )`.execute(db);
  await sql`CREATE INDEX dispatch_geofence_arrivals_at_idx ON dispatch_geofence_arrivals (at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX dispatch_geofence_arrivals_at_idx`.execute(db);
  await sql`DROP TABLE dispatch_daily_runs`.execute(db);
  await sql`DROP TABLE dispatch_speed_alerts`.execute(db);
}
