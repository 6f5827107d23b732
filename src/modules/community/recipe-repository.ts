/**
 * Recipe sharing's SQL (docs/community.md "Recipes"): `shared_recipes` and their dishes,
 * comments, ratings and reports. Every method takes an optional transaction; the service decides.
 */
import { sql, type Transaction } from 'kysely';
import type { CommunityDb, CommunityTables, ReportedKind } from './tables.js';

type Runner = CommunityDb | Transaction<CommunityTables>;

export interface RecipeRow {
  id: string;
  restaurant_id: string;
  title: string;
  intro: string;
  ingredients: string[];
  steps: string[];
  prep_minutes: number;
  cook_minutes: number;
  servings: number;
  language: 'fr' | 'en';
  published: boolean;
  hidden: boolean;
  rating_sum: bigint;
  rating_count: number;
  created_at: Date;
  updated_at: Date;
  dish_ids: string[];
}

/** What an owner writes: the row's content columns. */
export type RecipeContent = Pick<
  RecipeRow,
  'title' | 'intro' | 'ingredients' | 'steps' | 'prep_minutes' | 'cook_minutes' | 'servings' | 'language'
>;

export interface CommentRow {
  id: string;
  recipe_id: string;
  author_id: string;
  body: string;
  hidden: boolean;
  created_at: Date;
  pseudonym: string | null;
}

export interface PageCursor {
  at: Date;
  id: string;
}

const dishIdsOf = sql<
  string[]
>`coalesce((SELECT array_agg(d.dish_id ORDER BY d.dish_id) FROM shared_recipe_dishes d WHERE d.recipe_id = r.id), '{}')`;

export function createRecipeRepository(db: CommunityDb) {
  const recipes = (runner: Runner) =>
    runner.selectFrom('shared_recipes as r').selectAll('r').select(dishIdsOf.as('dish_ids'));

  return {
    db,

    async insert(
      runner: Runner,
      id: string,
      restaurantId: string,
      content: RecipeContent,
      dishIds: string[],
    ) {
      const at = new Date();
      await runner
        .insertInto('shared_recipes')
        .values({
          id,
          restaurant_id: restaurantId,
          ...content,
          ingredients: JSON.stringify(content.ingredients) as never,
          steps: JSON.stringify(content.steps) as never,
          created_at: at,
          updated_at: at,
        })
        .execute();
      await runner
        .insertInto('shared_recipe_dishes')
        .values(dishIds.map((dish_id) => ({ recipe_id: id, dish_id })))
        .execute();
    },

    async find(runner: Runner, id: string, lock = false): Promise<RecipeRow | undefined> {
      return (await recipes(runner)
        .where('r.id', '=', id)
        .$if(lock, (query) => query.forUpdate('r'))
        .executeTakeFirst()) as RecipeRow | undefined;
    },

    async update(
      runner: Runner,
      id: string,
      changes: Partial<RecipeContent> & { published?: boolean; hidden?: boolean },
      dishIds?: string[],
    ) {
      const set: Record<string, unknown> = { ...changes, updated_at: new Date() };
      if (changes.ingredients !== undefined) set.ingredients = JSON.stringify(changes.ingredients);
      if (changes.steps !== undefined) set.steps = JSON.stringify(changes.steps);
      await runner
        .updateTable('shared_recipes')
        .set(set as never)
        .where('id', '=', id)
        .execute();
      if (dishIds !== undefined) {
        await runner.deleteFrom('shared_recipe_dishes').where('recipe_id', '=', id).execute();
        await runner
          .insertInto('shared_recipe_dishes')
          .values(dishIds.map((dish_id) => ({ recipe_id: id, dish_id })))
          .execute();
      }
    },

    /** Visible recipes (published, not hidden) of a restaurant or of a dish, newest first. */
    async listVisible(
      filter: { restaurantId: string } | { dishId: string },
      cursor: PageCursor | undefined,
      limit: number,
    ): Promise<RecipeRow[]> {
      return (await recipes(db)
        .where('r.published', '=', true)
        .where('r.hidden', '=', false)
        .$if('restaurantId' in filter, (query) =>
          query.where('r.restaurant_id', '=', (filter as { restaurantId: string }).restaurantId),
        )
        .$if('dishId' in filter, (query) =>
          query.where((eb) =>
            eb.exists(
              eb
                .selectFrom('shared_recipe_dishes as d')
                .select('d.dish_id')
                .whereRef('d.recipe_id', '=', 'r.id')
                .where('d.dish_id', '=', (filter as { dishId: string }).dishId),
            ),
          ),
        )
        .$if(cursor !== undefined, (query) =>
          query.where(sql<boolean>`(r.created_at, r.id) < (${cursor!.at}::timestamptz, ${cursor!.id}::uuid)`),
        )
        .orderBy('r.created_at', 'desc')
        .orderBy('r.id', 'desc')
        .limit(limit + 1)
        .execute()) as RecipeRow[];
    },

    /** A recipe's visible comments, newest first, with the author's pseudonym if their profile is public. */
    async comments(recipeId: string, cursor: PageCursor | undefined, limit: number): Promise<CommentRow[]> {
      return db
        .selectFrom('shared_recipe_comments as c')
        .leftJoin('community_profiles as p', (join) =>
          join.onRef('p.user_id', '=', 'c.author_id').on('p.public', '=', true),
        )
        .select(['c.id', 'c.recipe_id', 'c.author_id', 'c.body', 'c.hidden', 'c.created_at', 'p.pseudonym'])
        .where('c.recipe_id', '=', recipeId)
        .where('c.hidden', '=', false)
        .$if(cursor !== undefined, (query) =>
          query.where(sql<boolean>`(c.created_at, c.id) < (${cursor!.at}::timestamptz, ${cursor!.id}::uuid)`),
        )
        .orderBy('c.created_at', 'desc')
        .orderBy('c.id', 'desc')
        .limit(limit + 1)
        .execute();
    },

    async findComment(runner: Runner, id: string, lock = false) {
      return runner
        .selectFrom('shared_recipe_comments')
        .selectAll()
        .where('id', '=', id)
        .$if(lock, (query) => query.forUpdate())
        .executeTakeFirst();
    },

    async insertComment(
      runner: Runner,
      row: { id: string; recipeId: string; authorId: string; body: string },
    ) {
      return runner
        .insertInto('shared_recipe_comments')
        .values({
          id: row.id,
          recipe_id: row.recipeId,
          author_id: row.authorId,
          body: row.body,
          created_at: new Date(),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async setCommentHidden(runner: Runner, id: string, hidden: boolean) {
      await runner.updateTable('shared_recipe_comments').set({ hidden }).where('id', '=', id).execute();
    },

    /** Serialises one person's writes of a kind (the hourly limit is counted under it). */
    async lockPerson(runner: Runner, purpose: string, userId: string) {
      await sql`SELECT pg_advisory_xact_lock(hashtext(${`${purpose}:${userId}`}))`.execute(runner);
    },

    async commentsSince(runner: Runner, userId: string, since: Date): Promise<number> {
      const row = await runner
        .selectFrom('shared_recipe_comments')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('author_id', '=', userId)
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async reportsSince(runner: Runner, userId: string, since: Date): Promise<number> {
      const row = await runner
        .selectFrom('shared_recipe_reports')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('reporter_id', '=', userId)
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async rating(runner: Runner, recipeId: string, userId: string) {
      return runner
        .selectFrom('shared_recipe_ratings')
        .select('rating')
        .where('recipe_id', '=', recipeId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
    },

    async putRating(runner: Runner, recipeId: string, userId: string, rating: number) {
      await runner
        .insertInto('shared_recipe_ratings')
        .values({ recipe_id: recipeId, user_id: userId, rating })
        .onConflict((conflict) =>
          conflict.columns(['recipe_id', 'user_id']).doUpdateSet({ rating, updated_at: new Date() }),
        )
        .execute();
    },

    /** Moves a recipe's totals by a delta; the caller holds the recipe row's lock. */
    async addToTotals(runner: Runner, recipeId: string, sumDelta: number, countDelta: number) {
      return runner
        .updateTable('shared_recipes')
        .set({
          rating_sum: sql`rating_sum + ${sumDelta}`,
          rating_count: sql`rating_count + ${countDelta}`,
        })
        .where('id', '=', recipeId)
        .returning(['rating_sum', 'rating_count'])
        .executeTakeFirstOrThrow();
    },

    async insertReport(
      runner: Runner,
      row: {
        id: string;
        kind: ReportedKind;
        itemId: string;
        recipeId: string;
        reporterId: string;
        reason: string;
      },
    ) {
      return runner
        .insertInto('shared_recipe_reports')
        .values({
          id: row.id,
          item_kind: row.kind,
          item_id: row.itemId,
          recipe_id: row.recipeId,
          reporter_id: row.reporterId,
          reason: row.reason,
          created_at: new Date(),
          resolved_at: null,
          resolution: null,
        })
        .onConflict((conflict) => conflict.columns(['item_kind', 'item_id', 'reporter_id']).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async resolveReports(
      runner: Runner,
      kind: ReportedKind,
      itemId: string,
      resolution: 'hidden' | 'restored',
    ) {
      const resolved = await runner
        .updateTable('shared_recipe_reports')
        .set({ resolved_at: new Date(), resolution })
        .where('item_kind', '=', kind)
        .where('item_id', '=', itemId)
        .where('resolved_at', 'is', null)
        .executeTakeFirst();
      return Number(resolved.numUpdatedRows);
    },

    /**
     * The moderation queue: items with unresolved reports, oldest first report first, keyset on
     * (first report's time, item id).
     */
    async openReports(cursor: PageCursor | undefined, limit: number) {
      const grouped = db
        .selectFrom('shared_recipe_reports')
        .select([
          'item_kind',
          'item_id',
          'recipe_id',
          (eb) => eb.fn.min('created_at').as('first_at'),
          (eb) => eb.fn.countAll<string>().as('reports'),
          sql<string[]>`(array_agg(reason ORDER BY created_at DESC))[1:3]`.as('reasons'),
        ])
        .where('resolved_at', 'is', null)
        .groupBy(['item_kind', 'item_id', 'recipe_id'])
        .as('g');
      return db
        .selectFrom(grouped)
        .innerJoin('shared_recipes as r', 'r.id', 'g.recipe_id')
        .leftJoin('shared_recipe_comments as c', (join) =>
          join.onRef('c.id', '=', 'g.item_id').on('g.item_kind', '=', 'comment'),
        )
        .select([
          'g.item_kind',
          'g.item_id',
          'g.recipe_id',
          'g.first_at',
          'g.reports',
          'g.reasons',
          'r.title',
          'r.restaurant_id',
          'c.body as comment',
          sql<boolean>`CASE WHEN g.item_kind = 'recipe' THEN r.hidden ELSE coalesce(c.hidden, true) END`.as(
            'hidden',
          ),
        ])
        .$if(cursor !== undefined, (query) =>
          query.where(
            sql<boolean>`(g.first_at, g.item_id) > (${cursor!.at}::timestamptz, ${cursor!.id}::uuid)`,
          ),
        )
        .orderBy('g.first_at')
        .orderBy('g.item_id')
        .limit(limit + 1)
        .execute();
    },

    async ofPerson(userId: string) {
      const [comments, ratings, reports] = await Promise.all([
        db
          .selectFrom('shared_recipe_comments')
          .select(['id', 'recipe_id', 'body', 'hidden', 'created_at'])
          .where('author_id', '=', userId)
          .orderBy('created_at')
          .execute(),
        db
          .selectFrom('shared_recipe_ratings')
          .select(['recipe_id', 'rating', 'updated_at'])
          .where('user_id', '=', userId)
          .orderBy('updated_at')
          .execute(),
        db
          .selectFrom('shared_recipe_reports')
          .select(['item_kind', 'item_id', 'reason', 'created_at'])
          .where('reporter_id', '=', userId)
          .orderBy('created_at')
          .execute(),
      ]);
      return { comments, ratings, reports };
    },
  };
}

export type RecipeRepository = ReturnType<typeof createRecipeRepository>;
