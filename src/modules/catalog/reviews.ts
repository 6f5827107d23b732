/**
 * Reviews and driver ratings (spec §9.2). Only the customer of a completed order may review the
 * restaurant (once per order) and rate its driver (once per order). The "completed order" fact
 * belongs to the orders context, so it arrives through `CompletedOrderLookup`; until orders
 * implement it the default lookup finds nothing and every review is refused.
 * Averages are kept current in the same transaction as the review.
 */
import { sql } from 'kysely';
import { catalogErrors } from './errors.js';
import type { Caller, CatalogDependencies } from './context.js';
import { decodeCursor, encodeCursor } from './rules/cursor.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './rules/search.js';

export interface CompletedOrder {
  orderId: string;
  customerId: string;
  restaurantId: string;
  driverId: string | null;
  completedAt: Date;
}

/** Implemented by the orders context: the order if it exists and was completed (delivered), else undefined. */
export interface CompletedOrderLookup {
  findCompletedOrder(orderId: string): Promise<CompletedOrder | undefined>;
}

export const noCompletedOrders: CompletedOrderLookup = { findCompletedOrder: async () => undefined };

/** A review must come within this many days of delivery, while the meal is remembered. */
export const REVIEW_WINDOW_DAYS = 30;

export interface ReviewInput {
  orderId: string;
  rating: number;
  comment?: string;
}

function reviewable(order: CompletedOrder | undefined, caller: Caller, instant: Date): CompletedOrder {
  if (order === undefined || order.customerId !== caller.userId) {
    throw catalogErrors.of(
      'forbidden',
      'order_not_reviewable',
      'Only the customer of a completed order may review it.',
    );
  }
  if (instant.getTime() - order.completedAt.getTime() > REVIEW_WINDOW_DAYS * 86_400_000) {
    throw catalogErrors.of(
      'unprocessable',
      'review_window_closed',
      `Reviews are accepted for ${REVIEW_WINDOW_DAYS} days after delivery.`,
    );
  }
  return order;
}

function reviewView(row: {
  id: string;
  rating: number;
  comment: string | null;
  helpful_count: number;
  reply: string | null;
  replied_at: Date | null;
  created_at: Date;
}) {
  return {
    id: row.id,
    rating: row.rating,
    ...(row.comment === null ? {} : { comment: row.comment }),
    helpful: row.helpful_count,
    ...(row.reply === null ? {} : { reply: row.reply, repliedAt: row.replied_at?.toISOString() }),
    createdAt: row.created_at.toISOString(),
  };
}

export function createReviewService(deps: CatalogDependencies, lookup: () => CompletedOrderLookup) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    async reviewRestaurant(caller: Caller, restaurantId: string, input: ReviewInput) {
      const order = reviewable(await lookup().findCompletedOrder(input.orderId), caller, now());
      if (order.restaurantId !== restaurantId) {
        throw catalogErrors.of(
          'forbidden',
          'order_not_reviewable',
          'That order was not from this restaurant.',
        );
      }
      const review = await db.transaction().execute(async (transaction) => {
        const inserted = await transaction
          .insertInto('restaurant_reviews')
          .values({
            restaurant_id: restaurantId,
            order_id: order.orderId,
            customer_id: caller.userId,
            rating: input.rating,
            comment: input.comment?.trim() ?? null,
            reply: null,
            replied_at: null,
            replied_by: null,
          })
          .onConflict((conflict) => conflict.column('order_id').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (inserted === undefined)
          throw catalogErrors.of('conflict', 'already_reviewed', 'This order has already been reviewed.');
        await transaction
          .updateTable('restaurants')
          .set({ rating_sum: sql`rating_sum + ${input.rating}`, rating_count: sql`rating_count + 1` })
          .where('id', '=', restaurantId)
          .execute();
        return inserted;
      });
      return reviewView(review);
    },

    async rateDriver(caller: Caller, driverId: string, input: ReviewInput) {
      const order = reviewable(await lookup().findCompletedOrder(input.orderId), caller, now());
      if (order.driverId !== driverId)
        throw catalogErrors.of(
          'forbidden',
          'order_not_reviewable',
          'That driver did not deliver this order.',
        );
      await db.transaction().execute(async (transaction) => {
        const inserted = await transaction
          .insertInto('driver_ratings')
          .values({
            driver_id: driverId,
            order_id: order.orderId,
            customer_id: caller.userId,
            rating: input.rating,
            comment: input.comment?.trim() ?? null,
          })
          .onConflict((conflict) => conflict.column('order_id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted === undefined)
          throw catalogErrors.of('conflict', 'already_rated', "This order's driver has already been rated.");
        await transaction
          .insertInto('driver_rating_summaries')
          .values({ driver_id: driverId, rating_sum: input.rating, rating_count: 1, updated_at: new Date() })
          .onConflict((conflict) =>
            conflict.column('driver_id').doUpdateSet({
              rating_sum: sql`driver_rating_summaries.rating_sum + excluded.rating_sum`,
              rating_count: sql`driver_rating_summaries.rating_count + 1`,
              updated_at: sql`now()`,
            }),
          )
          .execute();
      });
      return this.driverRating(driverId);
    },

    /** `driverRating` for many drivers in one query (dispatch's matching scores ten at a time). */
    async driverRatingsMany(
      driverIds: readonly string[],
    ): Promise<Map<string, { driverId: string; average: number; count: number }>> {
      const ids = [...new Set(driverIds)];
      const rows =
        ids.length === 0
          ? []
          : await db
              .selectFrom('driver_rating_summaries')
              .select(['driver_id', 'rating_sum', 'rating_count'])
              .where('driver_id', 'in', ids)
              .execute();
      const found = new Map(rows.map((row) => [row.driver_id, row]));
      return new Map(
        ids.map((driverId) => {
          const row = found.get(driverId);
          const count = row?.rating_count ?? 0;
          const average = count === 0 ? 0 : Math.round((Number(row!.rating_sum) / count) * 100) / 100;
          return [driverId, { driverId, average, count }];
        }),
      );
    },

    /**
     * A driver's ratings given within [from, to): average (two decimals, 0 when none) and count;
     * dispatch's performance compares two periods with it (the rating's trend).
     */
    async driverRatingBetween(
      driverId: string,
      from: Date,
      to: Date,
    ): Promise<{ average: number; count: number }> {
      const row = await db
        .selectFrom('driver_ratings')
        .select([
          (eb) => eb.fn.countAll<string>().as('count'),
          (eb) => eb.fn.sum<string | null>('rating').as('total'),
        ])
        .where('driver_id', '=', driverId)
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .executeTakeFirst();
      const count = Number(row?.count ?? 0);
      const average = count === 0 ? 0 : Math.round((Number(row!.total) / count) * 100) / 100;
      return { average, count };
    },

    /** A driver's average (two decimals) and count; for the drivers context. */
    async driverRating(driverId: string): Promise<{ driverId: string; average: number; count: number }> {
      const row = await db
        .selectFrom('driver_rating_summaries')
        .select(['rating_sum', 'rating_count'])
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
      const count = row?.rating_count ?? 0;
      const average = count === 0 ? 0 : Math.round((Number(row!.rating_sum) / count) * 100) / 100;
      return { driverId, average, count };
    },

    async voteHelpful(caller: Caller, reviewId: string) {
      return db.transaction().execute(async (transaction) => {
        const review = await transaction
          .selectFrom('restaurant_reviews')
          .select(['id', 'customer_id'])
          .where('id', '=', reviewId)
          .executeTakeFirst();
        if (review === undefined) throw catalogErrors.of('not_found', 'review_not_found', 'No such review.');
        if (review.customer_id === caller.userId)
          throw catalogErrors.of('unprocessable', 'own_review', 'You cannot vote for your own review.');
        const vote = await transaction
          .insertInto('review_helpful_votes')
          .values({ review_id: reviewId, user_id: caller.userId })
          .onConflict((conflict) => conflict.columns(['review_id', 'user_id']).doNothing())
          .returning('review_id')
          .executeTakeFirst();
        const updated = await transaction
          .updateTable('restaurant_reviews')
          .set({ helpful_count: sql`helpful_count + ${vote === undefined ? 0 : 1}` })
          .where('id', '=', reviewId)
          .returning('helpful_count')
          .executeTakeFirstOrThrow();
        return { reviewId, helpful: updated.helpful_count, counted: vote !== undefined };
      });
    },

    async reply(caller: Caller, reviewId: string, text: string) {
      return db.transaction().execute(async (transaction) => {
        const review = await transaction
          .selectFrom('restaurant_reviews as v')
          .innerJoin('restaurants as r', 'r.id', 'v.restaurant_id')
          .select(['v.id', 'v.reply', 'r.owner_id', 'r.id as restaurant_id'])
          .where('v.id', '=', reviewId)
          .forUpdate('v')
          .executeTakeFirst();
        if (review === undefined) throw catalogErrors.of('not_found', 'review_not_found', 'No such review.');
        if (review.owner_id !== caller.userId)
          throw catalogErrors.of(
            'forbidden',
            'not_restaurant_owner',
            "Only the restaurant's owner may reply to its reviews.",
          );
        if (review.reply !== null)
          throw catalogErrors.of(
            'conflict',
            'already_replied',
            'The owner has already replied to this review.',
          );
        const updated = await transaction
          .updateTable('restaurant_reviews')
          .set({ reply: text.trim(), replied_at: new Date(), replied_by: caller.userId })
          .where('id', '=', reviewId)
          .returningAll()
          .executeTakeFirstOrThrow();
        await deps.audit(
          {
            action: 'review.replied',
            actor: caller.actor,
            subjectUserId: review.owner_id,
            resource: `review:${reviewId}`,
            newValue: { restaurantId: review.restaurant_id },
          },
          transaction,
        );
        return reviewView(updated);
      });
    },

    /** Newest first, keyset-paginated by (created_at, id). */
    async list(restaurantId: string, options: { limit?: number; cursor?: string }) {
      const limit = Math.min(options.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const cursor = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
      if (
        options.cursor !== undefined &&
        (cursor === undefined ||
          cursor.fingerprint !== restaurantId.slice(0, 8) ||
          typeof cursor.keys[0] !== 'string')
      ) {
        throw catalogErrors.of(
          'validation',
          'invalid_cursor',
          'The cursor is malformed or belongs to another list.',
        );
      }
      const rows = await db
        .selectFrom('restaurant_reviews')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .$if(cursor !== undefined, (query) =>
          query.where((eb) =>
            eb.or([
              eb('created_at', '<', new Date(cursor!.keys[0] as string)),
              eb.and([eb('created_at', '=', new Date(cursor!.keys[0] as string)), eb('id', '<', cursor!.id)]),
            ]),
          ),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(reviewView),
        ...(rows.length > limit && last !== undefined
          ? {
              nextCursor: encodeCursor({
                keys: [last.created_at.toISOString()],
                id: last.id,
                fingerprint: restaurantId.slice(0, 8),
              }),
            }
          : {}),
      };
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
