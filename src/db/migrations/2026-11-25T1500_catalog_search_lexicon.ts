import { type Kysely, sql } from 'kysely';

/**
 * Typo tolerance through a lexicon: every distinct word restaurants and dishes are found by, with
 * a trigram index. A misspelt query word is corrected against this short list (fast), then the
 * full-text index does the matching. Trigram similarity against each restaurant's whole search
 * text (about 1 kB) cost close to a millisecond per row, too slow for search at load.
 * Frozen in time: no application imports.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE search_lexicon (word text PRIMARY KEY CHECK (length(word) BETWEEN 2 AND 60))`.execute(
    db,
  );
  await sql`CREATE INDEX search_lexicon_trgm_idx ON search_lexicon USING gin (word gin_trgm_ops)`.execute(db);
  await sql`
    INSERT INTO search_lexicon (word)
    SELECT DISTINCT word FROM restaurants, regexp_split_to_table(search_text, '[^a-z0-9]+') AS word
    WHERE length(word) BETWEEN 2 AND 60
    ON CONFLICT DO NOTHING`.execute(db);
  await sql`DROP INDEX IF EXISTS restaurants_search_trgm_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS restaurants_search_trgm_idx ON restaurants USING gin (search_text gin_trgm_ops)`.execute(
    db,
  );
  await db.schema.dropTable('search_lexicon').ifExists().execute();
}
