import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Cities as data (issue #26): a city is a row an admin
// adds without a deploy, with its time zone, currency, languages, centre and bounding box, and
// per-city rules (JSON, each one falling back to the global config when absent). Douala and
// Yaoundé are seeded. `restaurants.city` (free text until now, stored normalised: lower case,
// no accents, spaces as '-') becomes a reference to `cities.id`: the known names already are
// the seeded ids; any other value found gets an INACTIVE city of its own (bounds around its
// restaurants), so no restaurant is lost and an admin can review, rename or activate it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE cities (
      id text PRIMARY KEY,
      name_fr text NOT NULL,
      name_en text NOT NULL,
      country text NOT NULL DEFAULT 'CM',
      time_zone text NOT NULL DEFAULT 'Africa/Douala',
      currency text NOT NULL DEFAULT 'XAF',
      languages text[] NOT NULL DEFAULT ARRAY['fr', 'en'],
      active boolean NOT NULL DEFAULT false,
      center_latitude double precision NOT NULL,
      center_longitude double precision NOT NULL,
      south double precision NOT NULL,
      west double precision NOT NULL,
      north double precision NOT NULL,
      east double precision NOT NULL,
      rules jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT cities_id_slug CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
      CONSTRAINT cities_names_bounded CHECK (
        char_length(name_fr) BETWEEN 1 AND 60 AND char_length(name_en) BETWEEN 1 AND 60),
      CONSTRAINT cities_country_code CHECK (country ~ '^[A-Z]{2}$'),
      CONSTRAINT cities_currency_xaf CHECK (currency = 'XAF'),
      CONSTRAINT cities_bounds_ordered CHECK (
        south >= -90 AND north <= 90 AND west >= -180 AND east <= 180 AND south < north AND west < east),
      CONSTRAINT cities_center_inside CHECK (
        center_latitude BETWEEN south AND north AND center_longitude BETWEEN west AND east),
      CONSTRAINT cities_rules_object CHECK (jsonb_typeof(rules) = 'object')
    )`.execute(db);
  await sql`
    INSERT INTO cities (id, name_fr, name_en, active, center_latitude, center_longitude, south, west, north, east)
    VALUES
      ('douala', 'Douala', 'Douala', true, 4.0511, 9.7679, 3.90, 9.55, 4.20, 9.90),
      ('yaounde', 'Yaoundé', 'Yaounde', true, 3.848, 11.5021, 3.70, 11.35, 4.00, 11.65)`.execute(db);
  // Free text that is not a seeded city: one inactive city per distinct value.
  await sql`
    WITH legacy AS (
      SELECT city,
             CASE WHEN city ~ '^[a-z0-9][a-z0-9-]{1,39}$' THEN city
                  ELSE 'city-' || left(md5(city), 12) END AS id,
             min(latitude) AS south, max(latitude) AS north,
             min(longitude) AS west, max(longitude) AS east
      FROM restaurants
      WHERE city NOT IN (SELECT id FROM cities)
      GROUP BY city
    )
    INSERT INTO cities (id, name_fr, name_en, active, center_latitude, center_longitude, south, west, north, east)
    SELECT id, left(city, 60), left(city, 60), false, (south + north) / 2, (west + east) / 2,
           greatest(south - 0.1, -90), greatest(west - 0.1, -180), least(north + 0.1, 90), least(east + 0.1, 180)
    FROM legacy
    ON CONFLICT (id) DO NOTHING`.execute(db);
  await sql`
    UPDATE restaurants SET city = 'city-' || left(md5(city), 12)
    WHERE city !~ '^[a-z0-9][a-z0-9-]{1,39}$'`.execute(db);
  await sql`
    ALTER TABLE restaurants
      ADD CONSTRAINT restaurants_city_fk FOREIGN KEY (city) REFERENCES cities (id) ON UPDATE CASCADE`.execute(
    db,
  );
  await sql`CREATE INDEX IF NOT EXISTS restaurants_city_idx ON restaurants (city)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS restaurants_city_idx`.execute(db);
  await sql`ALTER TABLE restaurants DROP CONSTRAINT IF EXISTS restaurants_city_fk`.execute(db);
  await sql`DROP TABLE IF EXISTS cities`.execute(db);
}
