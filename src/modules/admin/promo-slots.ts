import { randomUUID } from 'node:crypto';
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Actor, AuditFunction } from '../identity/index.js';
import type { RestaurantCard } from '../catalog/index.js';
import { adminErrors } from './errors.js';
import { newestFirstPage } from './cursor.js';
import { periodRefusal, PROMO_POSITIONS } from './promo-slot-rules.js';
import type { AdminDb, AdminPromoSlotsTable, AdminTables } from './tables.js';

/**
 * Promotional slots (docs/admin.md "Promotional slots"): paid placements of a restaurant on a
 * city's home feed, at a position, for a period. Admins create, change and cancel them (each
 * audited in the same transaction); two exclusion constraints in PostgreSQL keep the overlap rules
 * whatever the instances (a position holds one restaurant at a time; a restaurant appears once on
 * a city's feed at a time); the customers' feed shows the running ones of active restaurants.
 */
export const PROMO_PAGE_MAX = 100;

export interface PromoSlotInput {
  restaurantId: string;
  city: string;
  position: number;
  startsAt: string;
  endsAt: string;
  priceMinor: number;
  headline: { fr: string; en?: string | undefined };
}

export interface PromoSlotChange {
  expectedVersion: number;
  position?: number | undefined;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  priceMinor?: number | undefined;
  headline?: { fr: string; en?: string | undefined } | undefined;
}

export type PromoSlotStatus = 'scheduled' | 'running' | 'ended' | 'cancelled';

export interface PromoSlotView {
  id: string;
  restaurantId: string;
  city: string;
  position: number;
  startsAt: string;
  endsAt: string;
  priceMinor: number;
  headline: { fr: string; en: string | null };
  status: PromoSlotStatus;
  version: number;
  createdBy: string;
  createdAt: string;
  cancelledAt: string | null;
  cancelledBy: string | null;
}

export interface FeedItem {
  slotId: string;
  position: number;
  headline: string;
  endsAt: string;
  restaurant: {
    id: string;
    name: string;
    cuisines: string[];
    ratingAverage: number | null;
    ratingCount: number;
  };
}

type Row = Selectable<AdminPromoSlotsTable>;

export interface PromoSlotDeps {
  db: AdminDb;
  audit: AuditFunction;
  /** Public faces of restaurants by id (catalog): whether it exists, is active, and its city. */
  restaurantCards(ids: readonly string[]): Promise<RestaurantCard[]>;
  /** Whether a city id is one the platform serves (catalog). */
  cityExists(cityId: string): Promise<boolean>;
  now?: () => Date;
}

function statusOf(row: Row, now: Date): PromoSlotStatus {
  if (row.cancelled_at !== null) return 'cancelled';
  if (row.ends_at.getTime() <= now.getTime()) return 'ended';
  return row.starts_at.getTime() <= now.getTime() ? 'running' : 'scheduled';
}

function view(row: Row, now: Date): PromoSlotView {
  return {
    id: row.id,
    restaurantId: row.restaurant_id,
    city: row.city,
    position: row.position,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    priceMinor: Number(row.price_minor),
    headline: { fr: row.headline_fr, en: row.headline_en },
    status: statusOf(row, now),
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
    cancelledBy: row.cancelled_by,
  };
}

/** Trimmed, one line, not blank, no control characters. */
function headlineText(value: string, field: string): string {
  const text = value.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (text.length === 0 || /[\u0000-\u001F\u007F]/.test(text))
    throw adminErrors.of(
      'validation',
      'validation_failed',
      `${field} is blank or holds control characters.`,
      {
        details: {
          errors: [{ path: `/${field.replace('.', '/')}`, message: 'blank or control characters' }],
        },
      },
    );
  return text;
}

function checkPeriod(startsAt: Date, endsAt: Date, now: Date, startUnchanged = false): void {
  switch (periodRefusal({ startsAt, endsAt }, now, startUnchanged)) {
    case undefined:
      return;
    case 'end_before_start':
      throw adminErrors.of('validation', 'promo_period_invalid', 'endsAt must be after startsAt.');
    case 'ended':
      throw adminErrors.of('validation', 'promo_period_invalid', 'endsAt must be in the future.');
    case 'start_past':
      throw adminErrors.of('validation', 'promo_start_past', 'startsAt must not be in the past.');
    case 'too_long':
      throw adminErrors.of('validation', 'promo_period_too_long', 'A placement runs at most 92 days.');
    case 'too_far':
      throw adminErrors.of(
        'validation',
        'promo_period_too_long',
        'A placement starts at most 366 days ahead.',
      );
  }
}

function checkPosition(position: number): void {
  if (!Number.isInteger(position) || position < 1 || position > PROMO_POSITIONS)
    throw adminErrors.of('validation', 'validation_failed', `position is 1 to ${PROMO_POSITIONS}.`, {
      details: { errors: [{ path: '/position', message: `1 to ${PROMO_POSITIONS}` }] },
    });
}

const isExclusionViolation = (error: unknown): string | undefined =>
  (error as { code?: unknown }).code === '23P01'
    ? String((error as { constraint?: unknown }).constraint ?? '')
    : undefined;

export function createPromoSlots(deps: PromoSlotDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  /** Names the running or scheduled placement a refused one overlaps, as a 409. */
  async function overlapError(constraint: string, slot: Omit<Row, 'id'> & { id: string }): Promise<Error> {
    const byPosition = constraint === 'admin_promo_slots_position_free';
    const other = await db
      .selectFrom('admin_promo_slots')
      .select('id')
      .where('city', '=', slot.city)
      .where('id', '!=', slot.id)
      .where('cancelled_at', 'is', null)
      .where('starts_at', '<', slot.ends_at)
      .where('ends_at', '>', slot.starts_at)
      .$if(byPosition, (query) => query.where('position', '=', slot.position))
      .$if(!byPosition, (query) => query.where('restaurant_id', '=', slot.restaurant_id))
      .executeTakeFirst();
    const details = { conflictingSlotId: other?.id ?? null };
    return byPosition
      ? adminErrors.of('conflict', 'promo_slot_taken', 'This position is sold for part of the period.', {
          details,
        })
      : adminErrors.of(
          'conflict',
          'promo_restaurant_overlap',
          'The restaurant is already on this city’s feed for part of the period.',
          { details },
        );
  }

  async function checkRestaurant(restaurantId: string, city: string): Promise<void> {
    if (!(await deps.cityExists(city)))
      throw adminErrors.of('unprocessable', 'promo_city_unknown', 'No city has this id.');
    const [card] = await deps.restaurantCards([restaurantId]);
    if (card === undefined)
      throw adminErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
    if (!card.active)
      throw adminErrors.of('unprocessable', 'promo_restaurant_inactive', 'The restaurant is not active.');
    if (card.city !== city)
      throw adminErrors.of(
        'unprocessable',
        'promo_city_mismatch',
        'The restaurant is not in this city; it can only be placed on its own city’s feed.',
      );
  }

  async function create(
    input: PromoSlotInput,
    actor: Actor,
    id: string = randomUUID(),
  ): Promise<PromoSlotView> {
    const at = now();
    const startsAt = new Date(input.startsAt);
    const endsAt = new Date(input.endsAt);
    checkPosition(input.position);
    checkPeriod(startsAt, endsAt, at);
    const headlineFr = headlineText(input.headline.fr, 'headline.fr');
    const headlineEn =
      input.headline.en === undefined ? null : headlineText(input.headline.en, 'headline.en');
    await checkRestaurant(input.restaurantId, input.city);
    const values = {
      id,
      restaurant_id: input.restaurantId,
      city: input.city,
      position: input.position,
      starts_at: startsAt,
      ends_at: endsAt,
      price_minor: BigInt(input.priceMinor),
      headline_fr: headlineFr,
      headline_en: headlineEn,
      created_by: actor.userId ?? 'system',
    };
    try {
      const row = await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('admin_promo_slots')
          .values(values)
          .onConflict((conflict) => conflict.column('id').doNothing())
          .returningAll()
          .executeTakeFirst();
        // The same id again (a retried request whose answer was lost): the first placement stands.
        if (inserted === undefined) return undefined;
        await deps.audit(
          {
            action: 'admin.promo_slot_created',
            actor,
            resource: `promo_slot:${id}`,
            newValue: { ...auditValue(inserted) },
          },
          trx,
        );
        return inserted;
      });
      return row === undefined ? get(id) : view(row, at);
    } catch (error) {
      const constraint = isExclusionViolation(error);
      if (constraint === undefined) throw error;
      throw await overlapError(constraint, { ...values, ...rowDefaults(at) });
    }
  }

  async function lockedRow(trx: Transaction<AdminTables>, id: string): Promise<Row> {
    const row = await trx
      .selectFrom('admin_promo_slots')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (row === undefined) throw adminErrors.notFound('No such promotional slot.');
    return row;
  }

  async function change(id: string, input: PromoSlotChange, actor: Actor): Promise<PromoSlotView> {
    const at = now();
    if (input.position !== undefined) checkPosition(input.position);
    const headline =
      input.headline === undefined
        ? undefined
        : {
            fr: headlineText(input.headline.fr, 'headline.fr'),
            en: input.headline.en === undefined ? null : headlineText(input.headline.en, 'headline.en'),
          };
    let candidate: Row | undefined;
    try {
      return await db.transaction().execute(async (trx) => {
        const row = await lockedRow(trx, id);
        if (row.cancelled_at !== null)
          throw adminErrors.of('conflict', 'promo_slot_cancelled', 'The placement was cancelled.');
        if (row.ends_at.getTime() <= at.getTime())
          throw adminErrors.of('conflict', 'promo_slot_ended', 'The placement has ended; it is history.');
        if (row.version !== input.expectedVersion)
          throw adminErrors.of(
            'conflict',
            'promo_slot_changed',
            'The placement changed meanwhile; reload it.',
            {
              details: { version: row.version },
            },
          );
        const startsAt = input.startsAt === undefined ? row.starts_at : new Date(input.startsAt);
        const endsAt = input.endsAt === undefined ? row.ends_at : new Date(input.endsAt);
        const startUnchanged = startsAt.getTime() === row.starts_at.getTime();
        // A running placement keeps its start: moving it would rewrite what customers already saw.
        if (!startUnchanged && row.starts_at.getTime() <= at.getTime())
          throw adminErrors.of('conflict', 'promo_slot_running', 'A running placement keeps its start.');
        checkPeriod(startsAt, endsAt, at, startUnchanged);
        candidate = {
          ...row,
          position: input.position ?? row.position,
          starts_at: startsAt,
          ends_at: endsAt,
        };
        const updated = await trx
          .updateTable('admin_promo_slots')
          .set({
            position: candidate.position,
            starts_at: startsAt,
            ends_at: endsAt,
            ...(input.priceMinor === undefined ? {} : { price_minor: BigInt(input.priceMinor) }),
            ...(headline === undefined ? {} : { headline_fr: headline.fr, headline_en: headline.en }),
            version: row.version + 1,
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await deps.audit(
          {
            action: 'admin.promo_slot_changed',
            actor,
            resource: `promo_slot:${id}`,
            oldValue: auditValue(row),
            newValue: auditValue(updated),
          },
          trx,
        );
        return view(updated, at);
      });
    } catch (error) {
      const constraint = isExclusionViolation(error);
      if (constraint === undefined || candidate === undefined) throw error;
      throw await overlapError(constraint, candidate);
    }
  }

  /** Cancels a placement that has not ended; cancelled already: the same answer, nothing changes. */
  async function cancel(id: string, actor: Actor): Promise<PromoSlotView> {
    const at = now();
    return db.transaction().execute(async (trx) => {
      const row = await lockedRow(trx, id);
      if (row.cancelled_at !== null) return view(row, at);
      if (row.ends_at.getTime() <= at.getTime())
        throw adminErrors.of('conflict', 'promo_slot_ended', 'The placement has ended; it is history.');
      const updated = await trx
        .updateTable('admin_promo_slots')
        .set({
          cancelled_at: at,
          cancelled_by: actor.userId ?? 'system',
          version: row.version + 1,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await deps.audit(
        {
          action: 'admin.promo_slot_cancelled',
          actor,
          resource: `promo_slot:${id}`,
          oldValue: auditValue(row),
          newValue: { cancelledAt: at.toISOString() },
        },
        trx,
      );
      return view(updated, at);
    });
  }

  async function get(id: string): Promise<PromoSlotView> {
    const row = await db.selectFrom('admin_promo_slots').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw adminErrors.notFound('No such promotional slot.');
    return view(row, now());
  }

  /** Newest first; `current`: only placements not cancelled and not ended. */
  async function list(query: {
    city?: string | undefined;
    restaurantId?: string | undefined;
    current?: boolean | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }) {
    const at = now();
    const select = db
      .selectFrom('admin_promo_slots')
      .selectAll()
      .$if(query.city !== undefined, (q) => q.where('city', '=', query.city!))
      .$if(query.restaurantId !== undefined, (q) => q.where('restaurant_id', '=', query.restaurantId!))
      .$if(query.current === true, (q) => q.where('cancelled_at', 'is', null).where('ends_at', '>', at))
      .$if(query.current === false, (q) =>
        q.where((eb) => eb.or([eb('cancelled_at', 'is not', null), eb('ends_at', '<=', at)])),
      );
    const { rows, nextCursor } = await newestFirstPage(select, 'created_at', (row) => row.created_at, {
      cursor: query.cursor,
      limit: Math.min(query.limit ?? 20, PROMO_PAGE_MAX),
    });
    return { items: rows.map((row) => view(row, at)), nextCursor };
  }

  /**
   * The customers' home feed of a city at this moment: the running placements, by position, of
   * restaurants still active (a suspended restaurant's placement shows nothing), in `language`.
   */
  async function feed(city: string, language: 'fr' | 'en'): Promise<FeedItem[]> {
    const at = now();
    const rows = await db
      .selectFrom('admin_promo_slots')
      .selectAll()
      .where('city', '=', city)
      .where('cancelled_at', 'is', null)
      .where('starts_at', '<=', at)
      .where('ends_at', '>', at)
      .orderBy('position')
      .limit(PROMO_POSITIONS)
      .execute();
    if (rows.length === 0) return [];
    const cards = new Map(
      (await deps.restaurantCards(rows.map((row) => row.restaurant_id))).map((card) => [card.id, card]),
    );
    return rows.flatMap((row) => {
      const card = cards.get(row.restaurant_id);
      if (card === undefined || !card.active) return [];
      return [
        {
          slotId: row.id,
          position: row.position,
          headline: language === 'en' ? (row.headline_en ?? row.headline_fr) : row.headline_fr,
          endsAt: row.ends_at.toISOString(),
          restaurant: {
            id: card.id,
            name: card.name,
            cuisines: card.cuisines,
            ratingAverage: card.ratingAverage,
            ratingCount: card.ratingCount,
          },
        },
      ];
    });
  }

  return { create, change, cancel, get, list, feed, cityExists: deps.cityExists };
}

function rowDefaults(at: Date) {
  return {
    version: 1,
    created_at: at,
    updated_at: at,
    cancelled_at: null,
    cancelled_by: null,
  };
}

function auditValue(row: Row) {
  return {
    restaurantId: row.restaurant_id,
    city: row.city,
    position: row.position,
    startsAt: row.starts_at.toISOString(),
    endsAt: row.ends_at.toISOString(),
    priceMinor: Number(row.price_minor),
  };
}

export type PromoSlots = ReturnType<typeof createPromoSlots>;
