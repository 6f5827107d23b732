import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The support knowledge base (issue #22): FAQ articles in
// French and English written by support staff. A translation shares its slug. `search_vector` is a
// plain column the repository recomputes on every write (the locale's text-search configuration
// over the unaccented, lower-cased title and body), searched among published articles only.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_articles (
      id uuid PRIMARY KEY,
      slug text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
      locale text NOT NULL CHECK (locale IN ('fr', 'en')),
      title text NOT NULL,
      body text NOT NULL,
      category text CHECK (category IN ('order_problem', 'payment', 'account', 'delivery', 'other')),
      status text NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
      search_vector tsvector NOT NULL,
      version integer NOT NULL DEFAULT 0,
      created_by uuid NOT NULL,
      updated_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (slug, locale)
    )`.execute(db);
  await sql`CREATE INDEX support_articles_search_idx ON support_articles USING gin (search_vector) WHERE status = 'published'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS support_articles`.execute(db);
}
