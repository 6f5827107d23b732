import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A driver's vehicle maintenance plan (issue #20): a due
// date and/or a mileage interval from the last service, set by the driver or an administrator,
// with the odometer the driver last reported. The daily round reminds from it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE driver_vehicle_maintenance (
      driver_id uuid PRIMARY KEY,
      due_on date,
      interval_km integer CHECK (interval_km BETWEEN 100 AND 100000),
      last_service_km integer CHECK (last_service_km BETWEEN 0 AND 2000000),
      odometer_km integer CHECK (odometer_km BETWEEN 0 AND 2000000),
      updated_by uuid,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (interval_km IS NULL OR last_service_km IS NOT NULL),
      CHECK (odometer_km IS NULL OR last_service_km IS NULL OR odometer_km >= last_service_km)
    )`.execute(db);
  await sql`CREATE INDEX driver_vehicle_maintenance_due_idx ON driver_vehicle_maintenance (due_on)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS driver_vehicle_maintenance`.execute(db);
}
