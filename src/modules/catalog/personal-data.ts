import type { CatalogDb } from './tables.js';
import type { PersonalDataHook } from '../../platform/context.js';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { MenuCache } from './menu-cache.js';
import { CONTACT_EMAIL, CONTACT_PHONE } from './repository.js';

/**
 * The catalog's share of one person's data (GDPR export and erasure, issue #15).
 *
 * Export: the reviews and driver ratings the person wrote, the reviews they found helpful, the
 * ratings they received as a driver, and the restaurants they own with their contact details.
 *
 * Erasure: the text the person wrote (review and rating comments) is deleted; the star ratings
 * stay, attached to the pseudonymous user id, so restaurants' and drivers' averages do not move.
 * The contact phone and e-mail of the restaurants they own are erased (the restaurant itself, its
 * menu and its money records stay: they belong to the business). Idempotent.
 */
export const EXPORT_ROWS_MAX = 1_000;

export function catalogPersonalData(options: {
  db: CatalogDb;
  menuCache: Pick<MenuCache, 'invalidate'>;
  fields: FieldCipher;
}): PersonalDataHook {
  const { db, fields } = options;
  return {
    async export(userId) {
      const [reviews, driverRatingsGiven, helpfulVotes, driverRatingsReceived, restaurants] =
        await Promise.all([
          db
            .selectFrom('restaurant_reviews')
            .select(['id', 'restaurant_id', 'order_id', 'rating', 'comment', 'reply', 'created_at'])
            .where('customer_id', '=', userId)
            .orderBy('created_at', 'desc')
            .limit(EXPORT_ROWS_MAX)
            .execute(),
          db
            .selectFrom('driver_ratings')
            .select(['id', 'driver_id', 'order_id', 'rating', 'comment', 'created_at'])
            .where('customer_id', '=', userId)
            .orderBy('created_at', 'desc')
            .limit(EXPORT_ROWS_MAX)
            .execute(),
          db
            .selectFrom('review_helpful_votes')
            .select(['review_id', 'created_at'])
            .where('user_id', '=', userId)
            .limit(EXPORT_ROWS_MAX)
            .execute(),
          db
            .selectFrom('driver_ratings')
            .select(['order_id', 'rating', 'created_at'])
            .where('driver_id', '=', userId)
            .orderBy('created_at', 'desc')
            .limit(EXPORT_ROWS_MAX)
            .execute(),
          db
            .selectFrom('restaurants')
            .select(['id', 'name', 'legal_name', 'contact_phone', 'contact_email', 'status', 'created_at'])
            .where('owner_id', '=', userId)
            .limit(EXPORT_ROWS_MAX)
            .execute(),
        ]);
      return {
        reviews: reviews.map((row) => ({
          id: row.id,
          restaurantId: row.restaurant_id,
          orderId: row.order_id,
          rating: row.rating,
          comment: row.comment,
          reply: row.reply,
          createdAt: row.created_at.toISOString(),
        })),
        driverRatingsGiven: driverRatingsGiven.map((row) => ({
          id: row.id,
          driverId: row.driver_id,
          orderId: row.order_id,
          rating: row.rating,
          comment: row.comment,
          createdAt: row.created_at.toISOString(),
        })),
        helpfulVotes: helpfulVotes.map((row) => ({
          reviewId: row.review_id,
          createdAt: row.created_at.toISOString(),
        })),
        driverRatingsReceived: driverRatingsReceived.map((row) => ({
          orderId: row.order_id,
          rating: row.rating,
          createdAt: row.created_at.toISOString(),
        })),
        restaurantsOwned: restaurants.map((row) => ({
          id: row.id,
          name: row.name,
          legalName: row.legal_name,
          contact: {
            phone: fields.decrypt(CONTACT_PHONE, row.contact_phone),
            email: fields.decrypt(CONTACT_EMAIL, row.contact_email),
          },
          status: row.status,
          createdAt: row.created_at.toISOString(),
        })),
      };
    },

    async erase(userId) {
      const owned = await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('restaurant_reviews')
          .set({ comment: null })
          .where('customer_id', '=', userId)
          .where('comment', 'is not', null)
          .execute();
        await trx
          .updateTable('driver_ratings')
          .set({ comment: null })
          .where('customer_id', '=', userId)
          .where('comment', 'is not', null)
          .execute();
        return trx
          .updateTable('restaurants')
          .set({ contact_phone: null, contact_email: null, updated_at: new Date() })
          .where('owner_id', '=', userId)
          .where((eb) => eb.or([eb('contact_phone', 'is not', null), eb('contact_email', 'is not', null)]))
          .returning('id')
          .execute();
      });
      for (const { id } of owned) options.menuCache.invalidate(id);
      return { restaurantsContactErased: owned.length };
    },
  };
}

/**
 * Personal data at rest, the catalog's boot step (issue #15 item 14): restaurant contact phones
 * and e-mails written in clear before encryption, or under an older key, are (re-)encrypted under
 * the current key. Idempotent; SKIP LOCKED batches.
 */
export async function encryptRestaurantContactsAtRest(
  db: CatalogDb,
  fields: FieldCipher,
): Promise<{ encrypted: number }> {
  const current = `pii1.${fields.currentKeyId}.%`;
  const clear = (purpose: string, value: string | null) =>
    value === null || !fields.isCiphertext(value) ? value : fields.decrypt(purpose, value);
  let encrypted = 0;
  for (;;) {
    const count = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('restaurants')
        .select(['id', 'contact_phone', 'contact_email'])
        .where((eb) =>
          eb.or([
            eb.and([eb('contact_phone', 'is not', null), eb('contact_phone', 'not like', current)]),
            eb.and([eb('contact_email', 'is not', null), eb('contact_email', 'not like', current)]),
          ]),
        )
        .limit(500)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows)
        await trx
          .updateTable('restaurants')
          .set({
            contact_phone: fields.encrypt(CONTACT_PHONE, clear(CONTACT_PHONE, row.contact_phone)),
            contact_email: fields.encrypt(CONTACT_EMAIL, clear(CONTACT_EMAIL, row.contact_email)),
          })
          .where('id', '=', row.id)
          .execute();
      return rows.length;
    });
    encrypted += count;
    if (count < 500) break;
  }
  return { encrypted };
}
