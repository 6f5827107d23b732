import { sql } from 'kysely';
import type { CommunityDb, FavouriteKind } from './tables.js';

/** A customer keeps at most this many favourites of each kind (a list the app shows at once). */
export const MAX_FAVOURITES_PER_KIND = 100;

export function createFavouritesRepository(db: CommunityDb) {
  return {
    /**
     * Adds a favourite unless the customer already has MAX_FAVOURITES_PER_KIND of that kind.
     * Answers 'added', 'exists' or 'full'. The person's rows are locked by an advisory lock for
     * the count, so two adds at once cannot pass the limit together.
     */
    async add(userId: string, kind: FavouriteKind, targetId: string): Promise<'added' | 'exists' | 'full'> {
      return db.transaction().execute(async (transaction) => {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`favourites:${userId}`}, 0))`.execute(
          transaction,
        );
        const existing = await transaction
          .selectFrom('favourites')
          .select(({ fn }) => [
            fn.countAll<string>().as('total'),
            fn.countAll<string>().filterWhere('target_id', '=', targetId).as('same'),
          ])
          .where('user_id', '=', userId)
          .where('kind', '=', kind)
          .executeTakeFirstOrThrow();
        if (Number(existing.same) > 0) return 'exists';
        if (Number(existing.total) >= MAX_FAVOURITES_PER_KIND) return 'full';
        await transaction
          .insertInto('favourites')
          .values({ user_id: userId, kind, target_id: targetId })
          .execute();
        return 'added';
      });
    },
    async remove(userId: string, kind: FavouriteKind, targetId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('favourites')
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .where('target_id', '=', targetId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async has(userId: string, kind: FavouriteKind, targetId: string): Promise<boolean> {
      const row = await db
        .selectFrom('favourites')
        .select('target_id')
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .where('target_id', '=', targetId)
        .executeTakeFirst();
      return row !== undefined;
    },
    /** Newest first, at most MAX_FAVOURITES_PER_KIND of each kind. */
    async list(userId: string): Promise<{ kind: FavouriteKind; targetId: string; createdAt: Date }[]> {
      const rows = await db
        .selectFrom('favourites')
        .select(['kind', 'target_id', 'created_at'])
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('target_id')
        .limit(MAX_FAVOURITES_PER_KIND * 2)
        .execute();
      return rows.map((row) => ({ kind: row.kind, targetId: row.target_id, createdAt: row.created_at }));
    },
    async erase(userId: string): Promise<number> {
      const result = await db.deleteFrom('favourites').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type FavouritesRepository = ReturnType<typeof createFavouritesRepository>;
