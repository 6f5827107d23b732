import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The weather history (issue #24): one reading per city
// and hour, recorded as the weather service fetches it, so the retrains label past orders with the
// weather of their hour instead of the season's. A retried write of the same city-hour changes
// nothing (the primary key); rows older than the retention are pruned by the refresh.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE weather_readings (
      city text NOT NULL,
      hour timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
      rain boolean NOT NULL,
      precipitation_mm real NOT NULL CHECK (precipitation_mm >= 0),
      weather_code smallint NOT NULL,
      observed_at timestamptz NOT NULL,
      cell text NOT NULL,
      provider text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (city, hour)
    )`.execute(db);
  await sql`CREATE INDEX weather_readings_hour ON weather_readings (hour)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS weather_readings`.execute(db);
}
