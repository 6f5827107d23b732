/**
 * The SQL of semantic search (issue #27): what the embedding job reads and writes, and the
 * bounded candidate set a query scores (ids, content hashes, full-text rank; the vectors come
 * from the in-process cache, search-service.ts).
 */
import { sql, type RawBuilder } from 'kysely';
import type { CatalogDb } from '../tables.js';
import { FISH_WORDS, MEAT_WORDS } from './rules.js';

export interface ItemToEmbed {
  id: string;
  restaurant_id: string;
  name_fr: string;
  name_en: string | null;
  description_fr: string | null;
  description_en: string | null;
  price: number;
  cuisines: string[];
  content_hash: string | null;
  model: string | null;
}

export interface RestaurantToEmbed {
  id: string;
  name: string;
  description_fr: string | null;
  description_en: string | null;
  cuisines: string[];
  price_average: number;
  content_hash: string | null;
  model: string | null;
}

export interface EmbeddingRow {
  kind: 'item' | 'restaurant';
  id: string;
  restaurantId: string;
  contentHash: string;
  model: string;
  embedding: number[];
}

export interface CandidateQuery {
  /** Any-word prefix tsquery; undefined: no full-text half (a sentence of stop words only). */
  tsquery?: string;
  /** Only these restaurants (the ones delivering to the point); undefined: every active one. */
  restaurantIds?: string[];
  maxPrice?: number;
  noMeat: boolean;
  noFish: boolean;
  place?: string;
  /** Only rows the full text matches (the fallback: no semantic score to rank the rest). */
  fullTextOnly: boolean;
  model: string;
  limit: number;
}

export interface CandidateRow {
  id: string;
  restaurant_id: string;
  restaurant_name: string;
  name_fr: string;
  name_en: string | null;
  price: number;
  discount_price: number | null;
  image: string | null;
  full_text: number;
  place_match: boolean;
  item_hash: string | null;
  restaurant_hash: string | null;
}

/** A word-boundary regular expression over normalised dish names (`search_text`). */
function anyWordPattern(words: readonly string[]): string {
  return `\\m(${words.join('|')})\\M`;
}

/** The embedding job's advisory lock: one run at a time over every instance (indexer.ts). */
export const INDEX_LOCK_KEY = 'catalog-search-embeddings';

export function createSemanticRepository(db: CatalogDb) {
  return {
    async itemsToEmbed(restaurantIds?: readonly string[]): Promise<ItemToEmbed[]> {
      const only = restaurantIds === undefined ? sql`true` : sql`r.id = ANY(${[...restaurantIds]}::uuid[])`;
      const result = await sql<ItemToEmbed>`
        SELECT i.id, i.restaurant_id, i.name_fr, i.name_en, i.description_fr, i.description_en,
               i.price::float8 AS price, r.cuisines, e.content_hash, e.model
        FROM menu_items i
        JOIN restaurants r ON r.id = i.restaurant_id AND r.status = 'active'
        LEFT JOIN catalog_search_embeddings e ON e.kind = 'item' AND e.id = i.id
        WHERE i.archived_at IS NULL AND ${only}
        ORDER BY i.id`.execute(db);
      return result.rows;
    },

    async restaurantsToEmbed(restaurantIds?: readonly string[]): Promise<RestaurantToEmbed[]> {
      const only = restaurantIds === undefined ? sql`true` : sql`r.id = ANY(${[...restaurantIds]}::uuid[])`;
      const result = await sql<RestaurantToEmbed>`
        SELECT r.id, r.name, r.description_fr, r.description_en, r.cuisines, r.price_average::float8 AS price_average,
               e.content_hash, e.model
        FROM restaurants r
        LEFT JOIN catalog_search_embeddings e ON e.kind = 'restaurant' AND e.id = r.id
        WHERE r.status = 'active' AND ${only}
        ORDER BY r.id`.execute(db);
      return result.rows;
    },

    /** Writes (or replaces) embeddings; a row whose hash is already stored is left as is. */
    async saveEmbeddings(rows: readonly EmbeddingRow[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('catalog_search_embeddings')
        .values(
          rows.map((row) => ({
            kind: row.kind,
            id: row.id,
            restaurant_id: row.restaurantId,
            content_hash: row.contentHash,
            model: row.model,
            embedding: row.embedding,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(['kind', 'id']).doUpdateSet((eb) => ({
            content_hash: eb.ref('excluded.content_hash'),
            model: eb.ref('excluded.model'),
            embedding: eb.ref('excluded.embedding'),
            restaurant_id: eb.ref('excluded.restaurant_id'),
            updated_at: sql`now()`,
          })),
        )
        .execute();
    },

    /**
     * Runs `work` holding the embedding job's lock across instances (INDEX_LOCK_KEY), a session
     * advisory lock on one connection pinned for the run; undefined, without running it, when
     * another session holds the lock. The lock lives as long as the session: a holder that
     * crashes or loses its connection frees it at once (the session sets short TCP keepalives,
     * so a vanished machine's session ends in seconds too, as the ledger writer's lease does).
     * `held()` asks the pinned session: false once it is gone, and so is the lock.
     */
    async withIndexLock<T>(work: (held: () => Promise<boolean>) => Promise<T>): Promise<T | undefined> {
      return db.connection().execute(async (connection) => {
        const taken = await sql<{ locked: boolean }>`
          SELECT pg_try_advisory_lock(hashtextextended(${INDEX_LOCK_KEY}, 0)) AS locked`.execute(connection);
        if (taken.rows[0]?.locked !== true) return undefined;
        try {
          await sql`SELECT set_config('tcp_keepalives_idle', '5', false),
                           set_config('tcp_keepalives_interval', '2', false),
                           set_config('tcp_keepalives_count', '3', false)`.execute(connection);
          return await work(async () => {
            try {
              await sql`SELECT 1`.execute(connection);
              return true;
            } catch {
              return false;
            }
          });
        } finally {
          // A session already gone took the lock with it; the pool discards its connection.
          await sql`SELECT pg_advisory_unlock(hashtextextended(${INDEX_LOCK_KEY}, 0)),
                           set_config('tcp_keepalives_idle', '0', false),
                           set_config('tcp_keepalives_interval', '0', false),
                           set_config('tcp_keepalives_count', '0', false)`
            .execute(connection)
            .catch(() => undefined);
        }
      });
    },

    /** Drops embeddings of archived dishes and of restaurants no longer active. */
    async pruneEmbeddings(): Promise<number> {
      const result = await sql`
        DELETE FROM catalog_search_embeddings e
        WHERE (e.kind = 'item' AND NOT EXISTS (
                 SELECT 1 FROM menu_items i WHERE i.id = e.id AND i.archived_at IS NULL))
           OR NOT EXISTS (SELECT 1 FROM restaurants r WHERE r.id = e.restaurant_id AND r.status = 'active')`.execute(
        db,
      );
      return Number(result.numAffectedRows ?? 0);
    },

    /** Vectors by (kind, id), for the cache. */
    async vectors(kind: 'item' | 'restaurant', ids: readonly string[], model: string) {
      if (ids.length === 0) return [];
      const result = await sql<{ id: string; content_hash: string; embedding: number[] }>`
        SELECT id, content_hash, embedding FROM catalog_search_embeddings
        WHERE kind = ${kind} AND id = ANY(${[...ids]}::uuid[]) AND model = ${model}`.execute(db);
      return result.rows;
    },

    /**
     * Orderable dishes of active restaurants under the sentence's filters, best full-text rank
     * first, at most `limit` (SEMANTIC_CANDIDATES): one indexed scan of menu_items' live rows.
     */
    async candidates(query: CandidateQuery): Promise<CandidateRow[]> {
      const filters: RawBuilder<unknown>[] = [
        sql`i.archived_at IS NULL`,
        sql`i.is_available`,
        sql`(i.stock IS NULL OR i.stock > 0)`,
      ];
      if (query.restaurantIds !== undefined) filters.push(sql`r.id = ANY(${query.restaurantIds}::uuid[])`);
      if (query.maxPrice !== undefined)
        filters.push(sql`coalesce(i.discount_price, i.price) <= ${query.maxPrice}`);
      if (query.noMeat) filters.push(sql`i.search_text !~ ${anyWordPattern(MEAT_WORDS)}`);
      if (query.noFish) filters.push(sql`i.search_text !~ ${anyWordPattern(FISH_WORDS)}`);
      const rank =
        query.tsquery === undefined
          ? sql<number>`0::float8`
          : sql<number>`ts_rank(i.search_vector, to_tsquery('simple', ${query.tsquery}))::float8`;
      if (query.fullTextOnly) {
        if (query.tsquery === undefined) return [];
        filters.push(sql`i.search_vector @@ to_tsquery('simple', ${query.tsquery})`);
      }
      const place =
        query.place === undefined
          ? sql<boolean>`false`
          : sql<boolean>`catalog_normalize(r.address) LIKE ${`%${query.place}%`}`;
      const result = await sql<CandidateRow>`
        SELECT i.id, i.restaurant_id, r.name AS restaurant_name, i.name_fr, i.name_en,
               i.price::float8 AS price, i.discount_price::float8 AS discount_price, i.images[1] AS image,
               ${rank} AS full_text, ${place} AS place_match,
               ei.content_hash AS item_hash, er.content_hash AS restaurant_hash
        FROM menu_items i
        JOIN restaurants r ON r.id = i.restaurant_id AND r.status = 'active'
        LEFT JOIN catalog_search_embeddings ei ON ei.kind = 'item' AND ei.id = i.id AND ei.model = ${query.model}
        LEFT JOIN catalog_search_embeddings er ON er.kind = 'restaurant' AND er.id = r.id AND er.model = ${query.model}
        WHERE ${sql.join(filters, sql` AND `)}
        ORDER BY full_text DESC, place_match DESC, r.rating_average DESC, i.id
        LIMIT ${query.limit}`.execute(db);
      return result.rows;
    },
  };
}

export type SemanticRepository = ReturnType<typeof createSemanticRepository>;
