import { type Kysely, sql } from 'kysely';

/**
 * The catalog: restaurants, menus, reviews and driver ratings (state-stored, audited by identity's
 * audit log). Frozen in time: no application imports.
 *
 * Search: `unaccent` is only STABLE (its dictionary could change), so indexes go through an
 * IMMUTABLE wrapper that names the dictionary explicitly. Search columns are plain columns that
 * the repository recomputes on every write, so the text a restaurant is found by can include its
 * dishes (an aggregate no generated column can express).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION catalog_normalize(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$`.execute(db);

  await sql`
    CREATE TABLE restaurants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id uuid NOT NULL,
      name text NOT NULL,
      legal_name text NOT NULL,
      tax_id text NOT NULL,
      description_fr text,
      description_en text,
      documents jsonb NOT NULL DEFAULT '[]',
      contact_phone text,
      contact_email text,
      cuisines text[] NOT NULL,
      city text NOT NULL,
      address text NOT NULL,
      latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
      longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
      delivery_radius_m integer NOT NULL CHECK (delivery_radius_m > 0 AND delivery_radius_m <= 50000),
      prep_time_minutes integer NOT NULL CHECK (prep_time_minutes BETWEEN 1 AND 240),
      opening_hours jsonb NOT NULL,
      closures jsonb NOT NULL DEFAULT '[]',
      open_week_minutes int4multirange NOT NULL DEFAULT '{}',
      closed_periods tstzmultirange NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'pending_verification'
        CHECK (status IN ('pending_verification', 'active', 'rejected', 'suspended')),
      status_reason text,
      status_changed_at timestamptz,
      status_changed_by uuid,
      rating_sum bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
      rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
      rating_average double precision GENERATED ALWAYS AS
        (CASE WHEN rating_count = 0 THEN 0 ELSE round(rating_sum::numeric / rating_count, 2)::float8 END) STORED,
      price_average integer NOT NULL DEFAULT 0 CHECK (price_average >= 0),
      dish_text text NOT NULL DEFAULT '',
      search_text text NOT NULL DEFAULT '',
      search_vector tsvector NOT NULL DEFAULT ''::tsvector,
      menu_version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX restaurants_owner_idx ON restaurants (owner_id)`.execute(db);
  await sql`CREATE INDEX restaurants_status_rating_idx ON restaurants (status, rating_average DESC, id)`.execute(
    db,
  );
  await sql`CREATE INDEX restaurants_active_location_idx ON restaurants (latitude, longitude) WHERE status = 'active'`.execute(
    db,
  );
  await sql`CREATE INDEX restaurants_cuisines_idx ON restaurants USING gin (cuisines)`.execute(db);
  await sql`CREATE INDEX restaurants_search_vector_idx ON restaurants USING gin (search_vector)`.execute(db);
  await sql`CREATE INDEX restaurants_search_trgm_idx ON restaurants USING gin (search_text gin_trgm_ops)`.execute(
    db,
  );
  await sql`CREATE INDEX restaurants_name_trgm_idx ON restaurants USING gin (catalog_normalize(name) gin_trgm_ops)`.execute(
    db,
  );

  await sql`
    CREATE TABLE menu_categories (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
      name_fr text NOT NULL,
      name_en text,
      position integer NOT NULL DEFAULT 0,
      schedule jsonb,
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX menu_categories_restaurant_idx ON menu_categories (restaurant_id, position)`.execute(
    db,
  );

  await sql`
    CREATE TABLE menu_items (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
      category_id uuid NOT NULL REFERENCES menu_categories (id),
      name_fr text NOT NULL,
      name_en text,
      description_fr text,
      description_en text,
      price bigint NOT NULL CHECK (price >= 0),
      discount_price bigint CHECK (discount_price >= 0 AND discount_price <= price),
      cost_price bigint CHECK (cost_price >= 0),
      images text[] NOT NULL DEFAULT '{}',
      allergens text[] NOT NULL DEFAULT '{}',
      nutrition jsonb,
      prep_time_minutes integer CHECK (prep_time_minutes BETWEEN 1 AND 240),
      schedule jsonb,
      stock integer CHECK (stock >= 0),
      is_available boolean NOT NULL DEFAULT true,
      position integer NOT NULL DEFAULT 0,
      search_text text NOT NULL DEFAULT '',
      search_vector tsvector NOT NULL DEFAULT ''::tsvector,
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX menu_items_restaurant_idx ON menu_items (restaurant_id, category_id, position)`.execute(
    db,
  );
  await sql`CREATE INDEX menu_items_search_vector_idx ON menu_items USING gin (search_vector)`.execute(db);
  await sql`CREATE INDEX menu_items_search_trgm_idx ON menu_items USING gin (search_text gin_trgm_ops)`.execute(
    db,
  );

  await sql`
    CREATE TABLE menu_modifier_groups (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
      item_id uuid NOT NULL REFERENCES menu_items (id) ON DELETE CASCADE,
      name_fr text NOT NULL,
      name_en text,
      min_selections integer NOT NULL CHECK (min_selections >= 0),
      max_selections integer NOT NULL CHECK (max_selections >= 1),
      options jsonb NOT NULL,
      position integer NOT NULL DEFAULT 0,
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (min_selections <= max_selections)
    )`.execute(db);
  await sql`CREATE INDEX menu_modifier_groups_item_idx ON menu_modifier_groups (item_id, position)`.execute(
    db,
  );
  await sql`CREATE INDEX menu_modifier_groups_restaurant_idx ON menu_modifier_groups (restaurant_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE restaurant_reviews (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
      order_id uuid NOT NULL UNIQUE,
      customer_id uuid NOT NULL,
      rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
      comment text,
      helpful_count integer NOT NULL DEFAULT 0,
      reply text,
      replied_at timestamptz,
      replied_by uuid,
      -- Millisecond precision: the list's keyset cursor round-trips through a JavaScript Date.
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
    )`.execute(db);
  await sql`CREATE INDEX restaurant_reviews_list_idx ON restaurant_reviews (restaurant_id, created_at DESC, id DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE review_helpful_votes (
      review_id uuid NOT NULL REFERENCES restaurant_reviews (id) ON DELETE CASCADE,
      user_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (review_id, user_id)
    )`.execute(db);

  await sql`
    CREATE TABLE driver_ratings (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      driver_id uuid NOT NULL,
      order_id uuid NOT NULL UNIQUE,
      customer_id uuid NOT NULL,
      rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
      comment text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX driver_ratings_driver_idx ON driver_ratings (driver_id, created_at DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE driver_rating_summaries (
      driver_id uuid PRIMARY KEY,
      rating_sum bigint NOT NULL DEFAULT 0,
      rating_count integer NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'driver_rating_summaries',
    'driver_ratings',
    'review_helpful_votes',
    'restaurant_reviews',
    'menu_modifier_groups',
    'menu_items',
    'menu_categories',
    'restaurants',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await sql`DROP FUNCTION IF EXISTS catalog_normalize(text)`.execute(db);
}
