/**
 * Profiles, badges and monthly challenges (issue #27, docs/community.md "Profiles, badges and
 * challenges").
 *
 *   count    a checkpointed reactor follows `OrderCompleted` (settled, the dispute window closed:
 *            a refunded order never completes) and, in one transaction, counts the order once
 *            (`community_counted_orders`, keyed by order), its customer's month in the
 *            restaurant's city, the cuisines tried, and the badges the new figures earn;
 *   reward   the month's challenge (COMMUNITY_CHALLENGE_ORDERS completed orders, any city) is a
 *            points transfer `challenge:<YYYY-MM>:<userId>` from the points issuance, booked
 *            after the count on every handling of the event: a crash between the two is mended
 *            by the redelivered event, and the ledger answers `exists` to a second booking.
 *   show     a profile is private until its owner makes it public; others see a pseudonym
 *            (drawn once, never the name or phone), the badges and the month's leaderboards.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { RecordedEvent } from '../../eventstore/index.js';
import type { EventStore } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import { customerPointsId, pointsIssuanceId, type Transfer } from '../../../ledger/rules/index.js';
import { ORDER_STREAM_PREFIX, orderStream, type OrderCreatedData } from '../orders/index.js';
import type { CommunityDb } from './tables.js';

export const ACHIEVEMENTS_REACTOR = 'community-achievements';
export const CHALLENGE_REASON = 'challenge';
export const LEADERBOARD_SIZE = 20;

/** Badges, in the order they are shown, with the rule each follows (pure: `badgesFor`). */
export const BADGES = {
  first_order: { fr: 'Première commande', en: 'First order', orders: 1 },
  regular: { fr: 'Habitué', en: 'Regular', orders: 10 },
  gourmet: { fr: 'Gourmet', en: 'Gourmet', orders: 50 },
  explorer: { fr: 'Explorateur : dix cuisines', en: 'Explorer: ten cuisines', cuisines: 10 },
} as const;
export type BadgeCode = keyof typeof BADGES;

export function badgesFor(figures: { orders: number; cuisines: number }): BadgeCode[] {
  return (Object.keys(BADGES) as BadgeCode[]).filter((code) => {
    const rule = BADGES[code] as { orders?: number; cuisines?: number };
    return (
      (rule.orders === undefined || figures.orders >= rule.orders) &&
      (rule.cuisines === undefined || figures.cuisines >= rule.cuisines)
    );
  });
}

/** `YYYY-MM` in Cameroon (UTC+1, no daylight saving). */
export const cameroonMonth = (at: Date): string =>
  new Date(at.getTime() + 3_600_000).toISOString().slice(0, 7);
export const normalizeCity = (city: string): string => city.trim().toLowerCase().slice(0, 80);
export const challengeTransferId = (month: string, userId: string): string => `challenge:${month}:${userId}`;

/** Pseudonyms read aloud well in French and English: a dish or fruit, then four digits. */
const PSEUDONYM_WORDS = [
  'Mangue',
  'Safou',
  'Plantain',
  'Ndole',
  'Koki',
  'Eru',
  'Beignet',
  'Papaye',
  'Goyave',
  'Ananas',
  'Corossol',
  'Piment',
  'Miondo',
  'Achu',
  'Okok',
  'Kondre',
];
const newPseudonym = () =>
  `${PSEUDONYM_WORDS[randomInt(PSEUDONYM_WORDS.length)]}-${String(randomInt(10_000)).padStart(4, '0')}`;

export interface AchievementsLedger {
  submit(transfers: readonly Transfer[]): Promise<{ result: string; detail?: string }[]>;
}

export interface AchievementsOptions {
  db: CommunityDb;
  eventStore: EventStore;
  ledger: AchievementsLedger;
  logger: Logger;
  /** The restaurant's city and cuisines (catalog's public face). */
  restaurantOf(restaurantId: string): Promise<{ city: string; cuisines: readonly string[] } | undefined>;
  challenge: { orders: number; points: bigint };
}

export type CountOutcome = 'counted' | 'already_counted' | 'not_counted';

export function createAchievements(options: AchievementsOptions) {
  const { db, eventStore, ledger, logger, challenge } = options;

  /** The customer's profile row, made (private, with a fresh pseudonym) at the first reading. */
  async function profileRow(userId: string) {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const existing = await db
        .selectFrom('community_profiles')
        .selectAll()
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (existing !== undefined) return existing;
      // A pseudonym taken by someone else: the insert does nothing and another is drawn.
      await db
        .insertInto('community_profiles')
        .values({ user_id: userId, pseudonym: newPseudonym() })
        .onConflict((c) => c.doNothing())
        .execute();
    }
    throw new Error('no pseudonym could be drawn');
  }

  async function badgesOf(userId: string, language: 'fr' | 'en') {
    const rows = await db
      .selectFrom('community_badges')
      .select(['badge', 'earned_at'])
      .where('user_id', '=', userId)
      .execute();
    const order = Object.keys(BADGES);
    return rows
      .filter((row) => row.badge in BADGES)
      .sort((a, b) => order.indexOf(a.badge) - order.indexOf(b.badge))
      .map((row) => ({
        code: row.badge,
        name: BADGES[row.badge as BadgeCode][language],
        earnedAt: row.earned_at.toISOString(),
      }));
  }

  async function monthOrders(userId: string, month: string): Promise<number> {
    const row = await db
      .selectFrom('community_monthly')
      .select(sql<string>`coalesce(sum(orders), 0)::text`.as('orders'))
      .where('user_id', '=', userId)
      .where('month', '=', month)
      .executeTakeFirstOrThrow();
    return Number(row.orders);
  }

  /** The customer's own view: profile, badges, figures, and the month's challenge. */
  async function mine(userId: string, language: 'fr' | 'en', at = new Date()) {
    const profile = await profileRow(userId);
    const month = cameroonMonth(at);
    // The count first, then what the same transaction wrote with it (badges, the month): read in
    // parallel, a count could show an order whose badge the other read had not seen yet.
    const total = await db
      .selectFrom('community_counted_orders')
      .select(sql<string>`count(*)::text`.as('orders'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    const badges = await badgesOf(userId, language);
    const progress = await monthOrders(userId, month);
    return {
      pseudonym: profile.pseudonym,
      public: profile.public,
      badges,
      completedOrders: Number(total.orders),
      challenge:
        challenge.orders === 0
          ? null
          : {
              month,
              target: challenge.orders,
              progress,
              rewardPoints: Number(challenge.points),
              achieved: progress >= challenge.orders,
            },
    };
  }

  /** Opt in or out; the pseudonym stays the same (idempotent). */
  async function setPublic(userId: string, visible: boolean, language: 'fr' | 'en') {
    await profileRow(userId);
    await db
      .updateTable('community_profiles')
      .set({ public: visible, updated_at: sql<Date>`now()` })
      .where('user_id', '=', userId)
      .where('public', '<>', visible)
      .execute();
    return mine(userId, language);
  }

  /** What anyone sees of a public profile; undefined when there is none or it is private. */
  async function publicProfile(pseudonym: string, language: 'fr' | 'en') {
    const profile = await db
      .selectFrom('community_profiles')
      .select(['user_id', 'pseudonym', 'created_at'])
      .where('pseudonym', '=', pseudonym)
      .where('public', '=', true)
      .executeTakeFirst();
    if (profile === undefined) return undefined;
    return {
      pseudonym: profile.pseudonym,
      memberSince: profile.created_at.toISOString().slice(0, 7),
      badges: await badgesOf(profile.user_id, language),
    };
  }

  /** The month's most frequent customers in a city, public profiles only, by pseudonym. */
  async function leaderboard(cityName: string, month: string) {
    const city = normalizeCity(cityName);
    const rows = await db
      .selectFrom('community_monthly as m')
      .innerJoin('community_profiles as p', 'p.user_id', 'm.user_id')
      .select(['p.pseudonym', 'm.orders'])
      .where('m.month', '=', month)
      .where('m.city', '=', city)
      .where('p.public', '=', true)
      .orderBy('m.orders', 'desc')
      .orderBy('p.pseudonym')
      .limit(LEADERBOARD_SIZE)
      .execute();
    // Equal counts share a rank (1, 2, 2, 4).
    let rank = 0;
    return {
      city,
      month,
      items: rows.map((row, index) => {
        if (index === 0 || rows[index - 1]!.orders !== row.orders) rank = index + 1;
        return { rank, pseudonym: row.pseudonym, orders: row.orders };
      }),
    };
  }

  /**
   * Counts one completed order, once: its month in the restaurant's city, the cuisines tried,
   * the badges earned. Then books the month's challenge if reached (every handling: idempotent).
   */
  async function count(input: { orderId: string; at: Date }): Promise<CountOutcome> {
    const [created] = await eventStore.readStream(orderStream(input.orderId), {
      maxCount: 1,
      missingAsEmpty: true,
    });
    const data = created?.data as OrderCreatedData | undefined;
    if (created?.type !== 'OrderCreated' || data === undefined || data.customer.kind !== 'user')
      return 'not_counted';
    const userId = data.customer.id;
    const restaurant = await options.restaurantOf(data.restaurantId);
    const city = normalizeCity(restaurant?.city ?? '');
    const month = cameroonMonth(input.at);
    const counted = await db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('community_counted_orders')
        .values({ order_id: input.orderId, user_id: userId, month, city })
        .onConflict((c) => c.doNothing())
        .returning('order_id')
        .executeTakeFirst();
      if (inserted === undefined) return false;
      await trx
        .insertInto('community_monthly')
        .values({ user_id: userId, month, city, orders: 1 })
        .onConflict((c) =>
          c.columns(['user_id', 'month', 'city']).doUpdateSet({ orders: sql`community_monthly.orders + 1` }),
        )
        .execute();
      const cuisines = [
        ...new Set((restaurant?.cuisines ?? []).map((cuisine) => cuisine.trim().toLowerCase())),
      ]
        .filter((cuisine) => cuisine.length > 0)
        .slice(0, 20);
      if (cuisines.length > 0)
        await trx
          .insertInto('community_cuisines')
          .values(cuisines.map((cuisine) => ({ user_id: userId, cuisine })))
          .onConflict((c) => c.doNothing())
          .execute();
      const figures = await trx
        .selectNoFrom([
          sql<string>`(SELECT count(*) FROM community_counted_orders WHERE user_id = ${userId})::text`.as(
            'orders',
          ),
          sql<string>`(SELECT count(*) FROM community_cuisines WHERE user_id = ${userId})::text`.as(
            'cuisines',
          ),
        ])
        .executeTakeFirstOrThrow();
      const earned = badgesFor({ orders: Number(figures.orders), cuisines: Number(figures.cuisines) });
      if (earned.length > 0)
        await trx
          .insertInto('community_badges')
          .values(
            earned.map((badge) => ({ user_id: userId, badge, order_id: input.orderId, earned_at: input.at })),
          )
          .onConflict((c) => c.doNothing())
          .execute();
      return true;
    });
    await rewardChallenge(userId, month);
    return counted ? 'counted' : 'already_counted';
  }

  /** The month's challenge reward, when reached: one transfer per customer and month. */
  async function rewardChallenge(
    userId: string,
    month: string,
  ): Promise<'booked' | 'exists' | 'not_reached'> {
    if (challenge.orders === 0 || (await monthOrders(userId, month)) < challenge.orders) return 'not_reached';
    const [outcome] = await ledger.submit([
      {
        id: challengeTransferId(month, userId),
        debitAccountId: pointsIssuanceId(),
        creditAccountId: customerPointsId(userId),
        amountMinor: challenge.points,
        currency: 'PTS',
        code: 'adjustment',
        flags: {},
        userData: { reason: CHALLENGE_REASON, month, target: String(challenge.orders) },
      },
    ]);
    if (outcome?.result === 'ok') return 'booked';
    if (outcome?.result === 'exists') return 'exists';
    if (outcome?.result === 'exists_with_different_fields') {
      // A reward already booked under another configuration: the first one stands.
      logger.error({ month, detail: outcome.detail }, 'challenge reward exists with other figures');
      return 'exists';
    }
    // The points issuance can always pay: a refusal is a fault, retried with the event.
    throw new Error(`challenge reward refused: ${outcome?.result ?? 'no answer'}`);
  }

  const reactor = createReactor({
    name: ACHIEVEMENTS_REACTOR,
    db,
    checkpointTable: 'community_reactor_checkpoints',
    eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: ['OrderCompleted'] },
    logger,
    async handle(event: RecordedEvent) {
      await count({ orderId: event.stream.slice(ORDER_STREAM_PREFIX.length), at: event.createdAt });
    },
  });

  const personalData = {
    async export(userId: string) {
      const profile = await db
        .selectFrom('community_profiles')
        .select(['pseudonym', 'public'])
        .where('user_id', '=', userId)
        .executeTakeFirst();
      const badges = await badgesOf(userId, 'en');
      const months = await db
        .selectFrom('community_monthly')
        .select(['month', 'city', 'orders'])
        .where('user_id', '=', userId)
        .orderBy('month')
        .limit(240)
        .execute();
      if (profile === undefined && badges.length === 0 && months.length === 0) return null;
      return { profile: profile ?? null, badges, months };
    },
    /** Everything here is the person's; the points already booked stay on the ledger. */
    async erase(userId: string) {
      let removed = 0;
      for (const table of [
        'community_profiles',
        'community_badges',
        'community_monthly',
        'community_cuisines',
        'community_counted_orders',
      ] as const) {
        const result = await db.deleteFrom(table).where('user_id', '=', userId).executeTakeFirst();
        removed += Number(result.numDeletedRows);
      }
      return { achievements: removed };
    },
  };

  return {
    mine,
    setPublic,
    publicProfile,
    leaderboard,
    count,
    rewardChallenge,
    personalData,
    start: reactor.start,
    stop: reactor.stop,
  };
}

export type Achievements = ReturnType<typeof createAchievements>;
