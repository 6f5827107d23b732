import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Semantic search (issue #27): one embedding per dish
// and per restaurant, computed by Gemini's embedding API when a key is set, kept with the hash
// of the text it was computed from (a dish whose text has not changed is never embedded again)
// and the model that computed it (a new model re-embeds everything). float4[] rather than a
// vector type: there is no pgvector here; cosine runs in the application over a bounded
// candidate set. And the daily count of the catalog's Gemini calls (one row per UTC day).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE catalog_search_embeddings (
      kind text NOT NULL CHECK (kind IN ('item', 'restaurant')),
      id uuid NOT NULL,
      restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
      content_hash text NOT NULL CHECK (length(content_hash) = 64),
      model text NOT NULL,
      embedding float4[] NOT NULL CHECK (cardinality(embedding) BETWEEN 1 AND 4096),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (kind, id)
    )`.execute(db);
  await sql`CREATE INDEX catalog_search_embeddings_restaurant ON catalog_search_embeddings (restaurant_id)`.execute(
    db,
  );
  await sql`
    CREATE TABLE catalog_search_ai_calls (
      day date PRIMARY KEY,
      calls integer NOT NULL CHECK (calls >= 0)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE catalog_search_ai_calls`.execute(db);
  await sql`DROP TABLE catalog_search_embeddings`.execute(db);
}
