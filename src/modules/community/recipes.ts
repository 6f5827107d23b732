/**
 * Recipe sharing (issue #27, docs/community.md "Recipes"). A restaurant's owner (or an admin)
 * publishes recipes tied to the restaurant's dishes; anyone reads the visible ones; signed-in
 * customers comment and rate them (a rating only by a customer who received an order from that
 * restaurant, the catalog reviews' rule without its 30-day window); anyone signed in reports a
 * recipe or a comment once; support staff hide or restore reported items, each action audited.
 *
 * Not inventory's recipes (a dish's bill of ingredients): these are texts for people to cook from.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../shared/time-id-cursor.js';
import { communityErrors } from './errors.js';
import type { PageCursor, RecipeContent, RecipeRepository, RecipeRow } from './recipe-repository.js';
import type { CommunityTables, ReportedKind } from './tables.js';

export const RECIPE_MAX_DISHES = 10;
export const RECIPE_MAX_INGREDIENTS = 60;
export const RECIPE_MAX_STEPS = 40;
export const RECIPE_TITLE_MAX = 120;
export const RECIPE_INTRO_MAX = 2_000;
export const RECIPE_LINE_MAX = 300;
export const RECIPE_STEP_MAX = 1_000;
export const COMMENT_MAX = 1_000;
export const REPORT_REASON_MAX = 500;
export const MODERATION_REASON_MAX = 500;
/** Per person and rolling hour (beside the general per-user request limit). */
export const COMMENTS_PER_HOUR = 20;
export const REPORTS_PER_HOUR = 20;
export const RECIPES_PAGE_MAX = 50;
const HOUR_MS = 3_600_000;

export interface RecipeActor {
  userId: string;
  isAdmin: boolean;
}

export interface RecipeInput {
  dishIds: string[];
  title: string;
  intro: string;
  ingredients: string[];
  steps: string[];
  prepMinutes: number;
  cookMinutes: number;
  servings: number;
  language: 'fr' | 'en';
}

/** What recipes use of the catalog: dishes' and restaurants' public cards, a restaurant's owner. */
export interface RecipeCatalogPort {
  restaurantExists(restaurantId: string): Promise<boolean>;
  restaurantOwnerId(restaurantId: string): Promise<string | undefined>;
  /** The restaurant of each dish that exists (archived or not). */
  dishRestaurants(dishIds: readonly string[]): Promise<Map<string, string>>;
}

/** What recipes use of orders: whether a customer received an order from a restaurant. */
export interface RecipeOrdersPort {
  hasReceivedFrom(customerId: string, restaurantId: string): Promise<boolean>;
}

export type RecipeAudit = (
  entry: {
    action: string;
    actorId: string;
    subjectUserId?: string | null;
    resource: string;
    newValue: unknown;
  },
  transaction: Transaction<CommunityTables>,
) => Promise<void>;

export interface RecipeDependencies {
  repository: RecipeRepository;
  catalog: RecipeCatalogPort;
  orders: () => RecipeOrdersPort;
  audit: RecipeAudit;
  now?: () => Date;
}

const notFound = () => communityErrors.of('not_found', 'recipe_not_found', 'There is no such recipe.');
const commentNotFound = () =>
  communityErrors.of('not_found', 'recipe_comment_not_found', 'There is no such comment.');

/** The average to two decimals, null without ratings (exact from the kept sum and count). */
export function averageOf(sum: bigint, count: number): number | null {
  return count === 0 ? null : Math.round((Number(sum) * 100) / count) / 100;
}

export function recipeView(row: RecipeRow) {
  return {
    id: row.id,
    restaurantId: row.restaurant_id,
    dishIds: row.dish_ids,
    title: row.title,
    intro: row.intro,
    ingredients: row.ingredients,
    steps: row.steps,
    prepMinutes: row.prep_minutes,
    cookMinutes: row.cook_minutes,
    servings: row.servings,
    language: row.language,
    published: row.published,
    hidden: row.hidden,
    rating: { average: averageOf(row.rating_sum, row.rating_count), count: row.rating_count },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type RecipeView = ReturnType<typeof recipeView>;

function cursorOf(cursor: string | undefined): PageCursor | undefined {
  if (cursor === undefined) return undefined;
  const decoded = decodeTimeIdCursor(cursor);
  if (decoded === undefined)
    throw communityErrors.of(
      'validation',
      'invalid_cursor',
      'The cursor is malformed or belongs to another list.',
    );
  return { at: new Date(decoded.t), id: decoded.i };
}

function page<T, R>(rows: T[], limit: number, key: (row: T) => PageCursor, view: (row: T) => R) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(view),
    nextCursor:
      rows.length > limit && last !== undefined ? encodeTimeIdCursor(key(last).at, key(last).id) : null,
  };
}

/** Trimmed text; a blank one is refused (the schema already refused control characters). */
function text(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw communityErrors.of('validation', 'text_blank', `${field} is blank.`);
  return trimmed;
}

/** The stored columns of what was sent, texts trimmed (a blank one refused). */
function content(input: Partial<RecipeInput>): Partial<RecipeContent> {
  const out: Partial<RecipeContent> = {};
  if (input.title !== undefined) out.title = text(input.title, 'title');
  if (input.intro !== undefined) out.intro = text(input.intro, 'intro');
  if (input.ingredients !== undefined)
    out.ingredients = input.ingredients.map((line) => text(line, 'ingredient'));
  if (input.steps !== undefined) out.steps = input.steps.map((step) => text(step, 'step'));
  if (input.prepMinutes !== undefined) out.prep_minutes = input.prepMinutes;
  if (input.cookMinutes !== undefined) out.cook_minutes = input.cookMinutes;
  if (input.servings !== undefined) out.servings = input.servings;
  if (input.language !== undefined) out.language = input.language;
  return out;
}

export function createRecipes(deps: RecipeDependencies) {
  const { repository, catalog } = deps;
  const db = repository.db;
  const now = deps.now ?? (() => new Date());

  async function assertOwner(actor: RecipeActor, restaurantId: string): Promise<void> {
    if (actor.isAdmin) return;
    if ((await catalog.restaurantOwnerId(restaurantId)) !== actor.userId)
      throw communityErrors.of(
        'forbidden',
        'recipe_not_owner',
        "Only the restaurant's owner (or an admin) may publish or change its recipes.",
      );
  }

  async function assertDishes(restaurantId: string, dishIds: string[]): Promise<string[]> {
    const wanted = [...new Set(dishIds)];
    const found = await catalog.dishRestaurants(wanted);
    const foreign = wanted.filter((id) => found.get(id) !== restaurantId);
    if (foreign.length > 0)
      throw communityErrors.of(
        'unprocessable',
        'recipe_dish_invalid',
        'Every dish must be one of the restaurant’s own dishes.',
        { details: { dishIds: foreign } },
      );
    return wanted;
  }

  /** A recipe the public may see, else 404 (its owner and admins see their own anyway). */
  function visible(row: RecipeRow | undefined, viewer?: RecipeActor, ownerId?: string): RecipeRow {
    if (row === undefined) throw notFound();
    if (row.published && !row.hidden) return row;
    if (viewer !== undefined && (viewer.isAdmin || viewer.userId === ownerId)) return row;
    throw notFound();
  }

  async function editable(actor: RecipeActor, id: string, transaction: Transaction<CommunityTables>) {
    const row = await repository.find(transaction, id, true);
    if (row === undefined) throw notFound();
    await assertOwner(actor, row.restaurant_id);
    return row;
  }

  async function commentsPage(id: string, query: { cursor?: string; limit?: number }, known?: RecipeRow) {
    if (known === undefined) visible(await repository.find(db, id));
    const limit = Math.min(query.limit ?? 20, RECIPES_PAGE_MAX);
    const rows = await repository.comments(id, cursorOf(query.cursor), limit);
    return page(
      rows,
      limit,
      (row) => ({ at: row.created_at, id: row.id }),
      (row) => ({
        id: row.id,
        text: row.body,
        author: row.pseudonym,
        createdAt: row.created_at.toISOString(),
      }),
    );
  }

  return {
    async publish(actor: RecipeActor, restaurantId: string, input: RecipeInput, id: string = randomUUID()) {
      if (!(await catalog.restaurantExists(restaurantId)))
        throw communityErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
      await assertOwner(actor, restaurantId);
      const dishIds = await assertDishes(restaurantId, input.dishIds);
      const cleaned = content(input) as RecipeContent;
      return db.transaction().execute(async (transaction) => {
        const existing = await repository.find(transaction, id);
        if (existing !== undefined) return recipeView(existing); // a retried request
        await repository.insert(transaction, id, restaurantId, cleaned, dishIds);
        await deps.audit(
          {
            action: 'community.recipe.published',
            actorId: actor.userId,
            resource: `shared-recipe:${id}`,
            newValue: { restaurantId, dishIds, title: cleaned.title },
          },
          transaction,
        );
        return recipeView((await repository.find(transaction, id))!);
      });
    },

    async edit(actor: RecipeActor, id: string, input: Partial<RecipeInput>) {
      const { dishIds: wantedDishes } = input;
      const cleaned = content(input);
      return db.transaction().execute(async (transaction) => {
        const row = await editable(actor, id, transaction);
        const dishIds =
          wantedDishes === undefined ? undefined : await assertDishes(row.restaurant_id, wantedDishes);
        await repository.update(transaction, id, cleaned, dishIds);
        await deps.audit(
          {
            action: 'community.recipe.edited',
            actorId: actor.userId,
            resource: `shared-recipe:${id}`,
            newValue: { fields: [...Object.keys(cleaned), ...(dishIds === undefined ? [] : ['dishIds'])] },
          },
          transaction,
        );
        return recipeView((await repository.find(transaction, id))!);
      });
    },

    /** Publish or unpublish; setting the state it already has changes and audits nothing. */
    async setPublished(actor: RecipeActor, id: string, published: boolean) {
      return db.transaction().execute(async (transaction) => {
        const row = await editable(actor, id, transaction);
        if (row.published === published) return recipeView(row);
        await repository.update(transaction, id, { published });
        await deps.audit(
          {
            action: published ? 'community.recipe.republished' : 'community.recipe.unpublished',
            actorId: actor.userId,
            resource: `shared-recipe:${id}`,
            newValue: { published },
          },
          transaction,
        );
        return recipeView((await repository.find(transaction, id))!);
      });
    },

    /** One recipe with its first page of comments. */
    async read(id: string, viewer: RecipeActor | undefined, limit = 20) {
      const row = await repository.find(db, id);
      const ownerId =
        row !== undefined && (!row.published || row.hidden) && viewer !== undefined
          ? await catalog.restaurantOwnerId(row.restaurant_id)
          : undefined;
      const recipe = visible(row, viewer, ownerId);
      const comments = await commentsPage(id, { limit }, recipe);
      return { ...recipeView(recipe), comments };
    },

    comments: commentsPage,

    async list(
      filter: { restaurantId: string } | { dishId: string },
      query: { cursor?: string; limit?: number },
    ) {
      const limit = Math.min(query.limit ?? 20, RECIPES_PAGE_MAX);
      const rows = await repository.listVisible(filter, cursorOf(query.cursor), limit);
      return page(rows, limit, (row) => ({ at: row.created_at, id: row.id }), recipeView);
    },

    async comment(userId: string, recipeId: string, body: string, id: string = randomUUID()) {
      const cleaned = text(body, 'text');
      return db.transaction().execute(async (transaction) => {
        visible(await repository.find(transaction, recipeId));
        const again = await repository.findComment(transaction, id);
        if (again !== undefined) {
          if (again.author_id !== userId || again.recipe_id !== recipeId) throw commentNotFound();
          return { id: again.id, recipeId, text: again.body, createdAt: again.created_at.toISOString() };
        }
        await repository.lockPerson(transaction, 'recipe-comments', userId);
        const recent = await repository.commentsSince(
          transaction,
          userId,
          new Date(now().getTime() - HOUR_MS),
        );
        if (recent >= COMMENTS_PER_HOUR)
          throw communityErrors.rateLimited(
            `At most ${COMMENTS_PER_HOUR} comments an hour; wait a little.`,
            HOUR_MS / 1000,
          );
        const inserted = await repository.insertComment(transaction, {
          id,
          recipeId,
          authorId: userId,
          body: cleaned,
        });
        return { id, recipeId, text: cleaned, createdAt: (inserted?.created_at ?? now()).toISOString() };
      });
    },

    /**
     * One rating per customer and recipe, changeable. The recipe's row is locked while the rating
     * and the totals change together, so concurrent ratings keep sum / count exact.
     */
    async rate(userId: string, recipeId: string, rating: number) {
      const row = visible(await repository.find(db, recipeId));
      if (!(await deps.orders().hasReceivedFrom(userId, row.restaurant_id)))
        throw communityErrors.of(
          'forbidden',
          'recipe_rating_not_allowed',
          'Only a customer who received an order from this restaurant may rate its recipes.',
        );
      return db.transaction().execute(async (transaction) => {
        visible(await repository.find(transaction, recipeId, true));
        const before = await repository.rating(transaction, recipeId, userId);
        await repository.putRating(transaction, recipeId, userId, rating);
        const totals = await repository.addToTotals(
          transaction,
          recipeId,
          rating - (before?.rating ?? 0),
          before === undefined ? 1 : 0,
        );
        return {
          rating,
          average: averageOf(BigInt(totals.rating_sum), Number(totals.rating_count)),
          count: Number(totals.rating_count),
        };
      });
    },

    /** A report of a visible recipe or comment, once per person and item (409 the second time). */
    async report(userId: string, kind: ReportedKind, itemId: string, reason: string) {
      const cleaned = text(reason, 'reason');
      return db.transaction().execute(async (transaction) => {
        let recipeId = itemId;
        if (kind === 'comment') {
          const comment = await repository.findComment(transaction, itemId);
          if (comment === undefined || comment.hidden) throw commentNotFound();
          recipeId = comment.recipe_id;
        }
        visible(await repository.find(transaction, recipeId));
        await repository.lockPerson(transaction, 'recipe-reports', userId);
        const recent = await repository.reportsSince(
          transaction,
          userId,
          new Date(now().getTime() - HOUR_MS),
        );
        if (recent >= REPORTS_PER_HOUR)
          throw communityErrors.rateLimited(
            `At most ${REPORTS_PER_HOUR} reports an hour; wait a little.`,
            3600,
          );
        const inserted = await repository.insertReport(transaction, {
          id: randomUUID(),
          kind,
          itemId,
          recipeId,
          reporterId: userId,
          reason: cleaned,
        });
        if (inserted === undefined)
          throw communityErrors.of('conflict', 'report_duplicate', 'You have already reported this.');
        return { id: inserted.id, kind, itemId, createdAt: inserted.created_at.toISOString() };
      });
    },

    async queue(query: { cursor?: string; limit?: number }) {
      const limit = Math.min(query.limit ?? 20, RECIPES_PAGE_MAX);
      const rows = await repository.openReports(cursorOf(query.cursor), limit);
      return page(
        rows,
        limit,
        (row) => ({ at: new Date(row.first_at as unknown as Date), id: row.item_id }),
        (row) => ({
          kind: row.item_kind,
          id: row.item_id,
          recipeId: row.recipe_id,
          restaurantId: row.restaurant_id,
          title: row.title,
          comment: row.comment,
          hidden: row.hidden,
          reports: Number(row.reports),
          reasons: row.reasons,
          firstReportedAt: new Date(row.first_at as unknown as Date).toISOString(),
        }),
      );
    },

    /**
     * Support hides or restores a recipe or comment, with a reason; the item's open reports are
     * resolved. Audited when anything changed; a repeat changes and audits nothing.
     */
    async moderate(staffId: string, kind: ReportedKind, itemId: string, hide: boolean, reason: string) {
      const cleaned = text(reason, 'reason');
      return db.transaction().execute(async (transaction) => {
        let wasHidden: boolean;
        let subjectUserId: string | null = null;
        let recipeId = itemId;
        if (kind === 'recipe') {
          const row = await repository.find(transaction, itemId, true);
          if (row === undefined) throw notFound();
          wasHidden = row.hidden;
          if (wasHidden !== hide) await repository.update(transaction, itemId, { hidden: hide });
        } else {
          const comment = await repository.findComment(transaction, itemId, true);
          if (comment === undefined) throw commentNotFound();
          wasHidden = comment.hidden;
          subjectUserId = comment.author_id;
          recipeId = comment.recipe_id;
          if (wasHidden !== hide) await repository.setCommentHidden(transaction, itemId, hide);
        }
        const resolved = await repository.resolveReports(
          transaction,
          kind,
          itemId,
          hide ? 'hidden' : 'restored',
        );
        const changed = wasHidden !== hide || resolved > 0;
        if (changed)
          await deps.audit(
            {
              action: `community.recipe_${kind === 'recipe' ? 'item' : 'comment'}.${hide ? 'hidden' : 'restored'}`,
              actorId: staffId,
              subjectUserId,
              resource: kind === 'recipe' ? `shared-recipe:${itemId}` : `shared-recipe-comment:${itemId}`,
              newValue: { recipeId, hidden: hide, reason: cleaned, resolvedReports: resolved },
            },
            transaction,
          );
        return { kind, id: itemId, hidden: hide, changed, resolvedReports: resolved };
      });
    },

    personalData: {
      async export(userId: string) {
        const { comments, ratings, reports } = await repository.ofPerson(userId);
        if (comments.length === 0 && ratings.length === 0 && reports.length === 0) return null;
        return {
          comments: comments.map((row) => ({
            id: row.id,
            recipeId: row.recipe_id,
            text: row.body,
            hidden: row.hidden,
            at: row.created_at.toISOString(),
          })),
          ratings: ratings.map((row) => ({
            recipeId: row.recipe_id,
            rating: row.rating,
            at: row.updated_at.toISOString(),
          })),
          reports: reports.map((row) => ({
            kind: row.item_kind,
            itemId: row.item_id,
            reason: row.reason,
            at: row.created_at.toISOString(),
          })),
        };
      },
      /**
       * Comments are deleted (with the reports about them), ratings removed from their recipes'
       * totals under each recipe's lock, and the person's reports kept without their id.
       */
      async erase(userId: string) {
        return db.transaction().execute(async (transaction) => {
          const rated = await transaction
            .selectFrom('shared_recipe_ratings')
            .select(['recipe_id', 'rating'])
            .where('user_id', '=', userId)
            .orderBy('recipe_id')
            .execute();
          for (const row of rated) {
            await repository.find(transaction, row.recipe_id, true);
            await transaction
              .deleteFrom('shared_recipe_ratings')
              .where('recipe_id', '=', row.recipe_id)
              .where('user_id', '=', userId)
              .execute();
            await repository.addToTotals(transaction, row.recipe_id, -row.rating, -1);
          }
          const comments = await transaction
            .deleteFrom('shared_recipe_comments')
            .where('author_id', '=', userId)
            .returning('id')
            .execute();
          if (comments.length > 0)
            await transaction
              .deleteFrom('shared_recipe_reports')
              .where('item_kind', '=', 'comment')
              .where(
                'item_id',
                'in',
                comments.map((row) => row.id),
              )
              .execute();
          const reports = await transaction
            .updateTable('shared_recipe_reports')
            .set({ reporter_id: null })
            .where('reporter_id', '=', userId)
            .executeTakeFirst();
          return {
            recipeComments: comments.length,
            recipeRatings: rated.length,
            recipeReports: Number(reports.numUpdatedRows),
          };
        });
      },
    },
  };
}

export type Recipes = ReturnType<typeof createRecipes>;
