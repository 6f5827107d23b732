/** The SQL of matching, offers and ETAs (tables in offers-tables.ts). */
import { sql, type Kysely } from 'kysely';
import type { OffersTables } from './offers-tables.js';

export type OffersDb = Kysely<OffersTables>;
type OfferStatus = OffersTables['dispatch_offers']['status'];

/** How long a claimed dispatch is left to the instance that claimed it before another may retry. */
const CLAIM_LEASE_MS = 15_000;
/** Offers an acceptance rate looks back on. */
const ACCEPTANCE_WINDOW_DAYS = 30;

export function createOffersRepository(db: OffersDb) {
  return {
    /**
     * Holds a dispatch for this instance's inline work (open, the next offer after a decline): its
     * deadline moves a lease ahead, so no sweep advances it at the same time; if this instance dies,
     * the sweep takes it over when the lease ends.
     */
    async hold(orderId: string, now: Date) {
      const leased = new Date(now.getTime() + CLAIM_LEASE_MS);
      await db
        .insertInto('dispatch_work')
        .values({ order_id: orderId, next_action_at: leased })
        .onConflict((conflict) => conflict.column('order_id').doUpdateSet({ next_action_at: leased }))
        .execute();
    },

    async reschedule(orderId: string, dueAt: Date) {
      await db
        .updateTable('dispatch_work')
        .set({ next_action_at: dueAt })
        .where('order_id', '=', orderId)
        .execute();
    },

    async done(orderId: string) {
      await db.deleteFrom('dispatch_work').where('order_id', '=', orderId).execute();
    },

    /**
     * Claims up to `limit` due dispatches for this instance: their deadline moves a lease ahead, so
     * another instance's sweep skips them (SKIP LOCKED) and takes them over only if this one dies.
     */
    async claimDue(now: Date, limit: number): Promise<string[]> {
      const rows = await sql<{ order_id: string }>`
        UPDATE dispatch_work SET next_action_at = ${new Date(now.getTime() + CLAIM_LEASE_MS)},
               attempts = attempts + 1
         WHERE order_id IN (
           SELECT order_id FROM dispatch_work WHERE next_action_at <= ${now}
            ORDER BY next_action_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING order_id`.execute(db);
      return rows.rows.map((row) => row.order_id);
    },

    async pending(orderId: string) {
      return db
        .selectFrom('dispatch_work')
        .select(['next_action_at', 'attempts'])
        .where('order_id', '=', orderId)
        .executeTakeFirst();
    },

    /**
     * Records an offer as open. False when the driver already has an open offer (the unique index
     * holds across instances), so the matcher moves to the next candidate.
     */
    async openOffer(row: {
      offerId: string;
      orderId: string;
      driverId: string;
      round: number;
      score: number;
      travelSeconds: number;
      expiresAt: Date;
    }): Promise<boolean> {
      const result = await sql`
        INSERT INTO dispatch_offers (offer_id, order_id, driver_id, status, round, score, travel_seconds, expires_at)
        VALUES (${row.offerId}::uuid, ${row.orderId}::uuid, ${row.driverId}::uuid, 'open', ${row.round}, ${row.score},
                ${Math.round(row.travelSeconds)}, ${row.expiresAt})
        ON CONFLICT DO NOTHING`.execute(db);
      return Number(result.numAffectedRows ?? 0n) === 1;
    },

    /** The offer is in the dispatch's stream: the driver may see it. */
    /**
     * The offer is shown to its driver; with `work`, the dispatch's row is also due at the offer's
     * expiry, in the same statement (one round trip on the matching path, issue #20).
     */
    async offerMade(offerId: string, work?: { orderId: string; dueAt: Date }) {
      if (work === undefined) {
        await db.updateTable('dispatch_offers').set({ made: true }).where('offer_id', '=', offerId).execute();
        return;
      }
      await sql`
        WITH made AS (UPDATE dispatch_offers SET made = true WHERE offer_id = ${offerId}::uuid)
        UPDATE dispatch_work SET next_action_at = ${work.dueAt} WHERE order_id = ${work.orderId}::uuid`.execute(
        db,
      );
    },

    async forgetOffer(offerId: string) {
      await db
        .deleteFrom('dispatch_offers')
        .where('offer_id', '=', offerId)
        .where('status', '=', 'open')
        .execute();
    },

    /** Sets an offer's outcome (idempotent: only an open offer changes). */
    async closeOffer(offerId: string, status: Exclude<OfferStatus, 'open'>, at: Date) {
      await db
        .updateTable('dispatch_offers')
        .set({ status, answered_at: at })
        .where('offer_id', '=', offerId)
        .where('status', '=', 'open')
        .execute();
    },

    async offer(offerId: string) {
      return db
        .selectFrom('dispatch_offers')
        .select(['offer_id', 'order_id', 'driver_id', 'status', 'expires_at'])
        .where('offer_id', '=', offerId)
        .executeTakeFirst();
    },

    async openOffersOf(driverId: string, now: Date) {
      return db
        .selectFrom('dispatch_offers')
        .select(['offer_id', 'order_id', 'expires_at', 'travel_seconds'])
        .where('driver_id', '=', driverId)
        .where('status', '=', 'open')
        .where('made', '=', true)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .limit(10)
        .execute();
    },

    /** Drivers among `driverIds` who hold an open offer now (not asked again meanwhile). */
    async busyDrivers(driverIds: readonly string[]): Promise<Set<string>> {
      if (driverIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('dispatch_offers')
        .select('driver_id')
        .where('driver_id', 'in', driverIds)
        .where('status', '=', 'open')
        .execute();
      return new Set(rows.map((row) => row.driver_id));
    },

    /** Answered and accepted offers per driver over the last 30 days (acceptance rate). */
    async answerCounts(
      driverIds: readonly string[],
    ): Promise<Map<string, { answered: number; accepted: number }>> {
      const counts = new Map<string, { answered: number; accepted: number }>();
      if (driverIds.length === 0) return counts;
      const rows = await db
        .selectFrom('dispatch_offers')
        .select([
          'driver_id',
          sql<string>`count(*) FILTER (WHERE status IN ('accepted', 'declined', 'expired'))`.as('answered'),
          sql<string>`count(*) FILTER (WHERE status = 'accepted')`.as('accepted'),
        ])
        .where('driver_id', 'in', driverIds)
        .where('created_at', '>', sql<Date>`now() - make_interval(days => ${ACCEPTANCE_WINDOW_DAYS})`)
        .groupBy('driver_id')
        .execute();
      for (const row of rows)
        counts.set(row.driver_id, { answered: Number(row.answered), accepted: Number(row.accepted) });
      return counts;
    },

    /** A driver's offers made in [from, to), by what became of them (acceptance rate). */
    async offerOutcomes(driverId: string, from: Date, to: Date) {
      const row = await db
        .selectFrom('dispatch_offers')
        .select([
          sql<string>`count(*) FILTER (WHERE status IN ('accepted', 'declined', 'expired'))`.as('answered'),
          sql<string>`count(*) FILTER (WHERE status = 'accepted')`.as('accepted'),
        ])
        .where('driver_id', '=', driverId)
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .executeTakeFirstOrThrow();
      return { answered: Number(row.answered), accepted: Number(row.accepted) };
    },

    /** The first ETA promised for an order at a driver's acceptance (a redelivered event keeps it). */
    async promise(orderId: string, driverId: string, promisedAt: Date) {
      await db
        .insertInto('dispatch_delivery_promises')
        .values({ order_id: orderId, driver_id: driverId, promised_at: promisedAt })
        .onConflict((conflict) => conflict.column('order_id').doNothing())
        .execute();
    },

    /** The delivery of a promised order, once (the first delivery event's time stands). */
    async delivered(orderId: string, driverId: string, at: Date) {
      await db
        .updateTable('dispatch_delivery_promises')
        .set({ delivered_at: at })
        .where('order_id', '=', orderId)
        .where('driver_id', '=', driverId)
        .where('delivered_at', 'is', null)
        .execute();
    },

    /** A driver's promised deliveries made in [from, to), and how many within the grace. */
    async punctuality(driverId: string, from: Date, to: Date, graceMinutes: number) {
      const row = await db
        .selectFrom('dispatch_delivery_promises')
        .select([
          sql<string>`count(*)`.as('delivered'),
          sql<string>`count(*) FILTER (WHERE delivered_at <= promised_at + make_interval(mins => ${graceMinutes}))`.as(
            'onTime',
          ),
        ])
        .where('driver_id', '=', driverId)
        .where('delivered_at', '>=', from)
        .where('delivered_at', '<', to)
        .executeTakeFirstOrThrow();
      return { delivered: Number(row.delivered), onTime: Number(row.onTime) };
    },

    async eta(orderId: string) {
      return db
        .selectFrom('dispatch_etas')
        .select(['order_id', 'customer_id', 'driver_id', 'phase', 'eta_at', 'told_eta_at', 'updated_at'])
        .where('order_id', '=', orderId)
        .executeTakeFirst();
    },

    async saveEta(row: {
      orderId: string;
      customerId: string;
      driverId: string | null;
      phase: string;
      etaAt: Date;
      toldEtaAt: Date | null;
    }) {
      const values = {
        order_id: row.orderId,
        customer_id: row.customerId,
        driver_id: row.driverId,
        phase: row.phase,
        eta_at: row.etaAt,
        told_eta_at: row.toldEtaAt,
        updated_at: new Date(),
      };
      await db
        .insertInto('dispatch_etas')
        .values(values)
        .onConflict((conflict) => conflict.column('order_id').doUpdateSet(values))
        .execute();
    },

    async dropEta(orderId: string) {
      await db.deleteFrom('dispatch_etas').where('order_id', '=', orderId).execute();
    },

    /**
     * Erasure of a person: their offers as a driver and their ETAs as a customer. The dispatch
     * streams stay (the audit); the customer's drop point in them is crypto-shredded personal data.
     */
    async eraseSubject(userId: string) {
      const offers = await db
        .deleteFrom('dispatch_offers')
        .where('driver_id', '=', userId)
        .executeTakeFirst();
      await db
        .updateTable('dispatch_etas')
        .set({ driver_id: null })
        .where('driver_id', '=', userId)
        .execute();
      const etas = await db.deleteFrom('dispatch_etas').where('customer_id', '=', userId).executeTakeFirst();
      const promises = await db
        .deleteFrom('dispatch_delivery_promises')
        .where('driver_id', '=', userId)
        .executeTakeFirst();
      return {
        offersDeleted: Number(offers.numDeletedRows),
        etasDeleted: Number(etas.numDeletedRows),
        promisesDeleted: Number(promises.numDeletedRows),
      };
    },

    async offersOf(driverId: string, limit = 500) {
      return db
        .selectFrom('dispatch_offers')
        .select(['offer_id', 'order_id', 'status', 'score', 'created_at', 'answered_at'])
        .where('driver_id', '=', driverId)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
    },
  };
}

export type OffersRepository = ReturnType<typeof createOffersRepository>;
