import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Recipe sharing (issue #27, docs/community.md "Recipes"):
// a restaurant's published recipes tied to its dishes, customers' comments and 1-5 ratings, and
// reports that support staff resolve by hiding or restoring. Named `shared_recipes` so as not to
// be confused with inventory's recipes (a dish's bill of ingredients). The ids of restaurants and
// dishes point at the catalog's rows without a foreign key (another context).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE shared_recipes (
      id uuid PRIMARY KEY,
      restaurant_id uuid NOT NULL,
      title text NOT NULL,
      intro text NOT NULL,
      ingredients jsonb NOT NULL,
      steps jsonb NOT NULL,
      prep_minutes int NOT NULL CHECK (prep_minutes BETWEEN 0 AND 1440),
      cook_minutes int NOT NULL CHECK (cook_minutes BETWEEN 0 AND 1440),
      servings int NOT NULL CHECK (servings BETWEEN 1 AND 100),
      language text NOT NULL CHECK (language IN ('fr', 'en')),
      published boolean NOT NULL DEFAULT true,
      hidden boolean NOT NULL DEFAULT false,
      rating_sum int8 NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
      rating_count int NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX shared_recipes_restaurant_idx ON shared_recipes (restaurant_id, created_at DESC, id DESC)`.execute(
    db,
  );
  await sql`
    CREATE TABLE shared_recipe_dishes (
      recipe_id uuid NOT NULL REFERENCES shared_recipes (id) ON DELETE CASCADE,
      dish_id uuid NOT NULL,
      PRIMARY KEY (recipe_id, dish_id)
    )`.execute(db);
  await sql`CREATE INDEX shared_recipe_dishes_dish_idx ON shared_recipe_dishes (dish_id, recipe_id)`.execute(
    db,
  );
  await sql`
    CREATE TABLE shared_recipe_comments (
      id uuid PRIMARY KEY,
      recipe_id uuid NOT NULL REFERENCES shared_recipes (id) ON DELETE CASCADE,
      author_id uuid NOT NULL,
      body text NOT NULL,
      hidden boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX shared_recipe_comments_recipe_idx ON shared_recipe_comments (recipe_id, created_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX shared_recipe_comments_author_idx ON shared_recipe_comments (author_id, created_at)`.execute(
    db,
  );
  await sql`
    CREATE TABLE shared_recipe_ratings (
      recipe_id uuid NOT NULL REFERENCES shared_recipes (id) ON DELETE CASCADE,
      user_id uuid NOT NULL,
      rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (recipe_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX shared_recipe_ratings_user_idx ON shared_recipe_ratings (user_id)`.execute(db);
  // One report per person and item; reporter_id becomes NULL when the reporter is erased (the
  // moderation record stays). resolved_at is set when staff hide or restore the item.
  await sql`
    CREATE TABLE shared_recipe_reports (
      id uuid PRIMARY KEY,
      item_kind text NOT NULL CHECK (item_kind IN ('recipe', 'comment')),
      item_id uuid NOT NULL,
      recipe_id uuid NOT NULL,
      reporter_id uuid,
      reason text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      resolved_at timestamptz,
      resolution text CHECK (resolution IN ('hidden', 'restored'))
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX shared_recipe_reports_once_idx ON shared_recipe_reports (item_kind, item_id, reporter_id)`.execute(
    db,
  );
  await sql`CREATE INDEX shared_recipe_reports_open_idx ON shared_recipe_reports (created_at, item_kind, item_id) WHERE resolved_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX shared_recipe_reports_reporter_idx ON shared_recipe_reports (reporter_id, created_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('shared_recipe_reports').ifExists().execute();
  await db.schema.dropTable('shared_recipe_ratings').ifExists().execute();
  await db.schema.dropTable('shared_recipe_comments').ifExists().execute();
  await db.schema.dropTable('shared_recipe_dishes').ifExists().execute();
  await db.schema.dropTable('shared_recipes').ifExists().execute();
}
