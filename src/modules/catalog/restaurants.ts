/**
 * Restaurants: registration by any verified user (who becomes its owner), admin verification,
 * owner edits, and the public profile with open-now, next opening and a delivery estimate.
 */
import { CONTACT_EMAIL, CONTACT_PHONE } from './repository.js';
import { createHash } from 'node:crypto';
import type { Updateable } from 'kysely';
import type { CityService } from './cities.js';
import type { DeliveryAreas } from './delivery-areas.js';
import { catalogErrors } from './errors.js';
import type { Caller, CatalogDependencies } from './context.js';
import type { MenuCache } from './menu-cache.js';
import type { RestaurantRecord } from './model.js';
import type { CatalogRepository } from './repository.js';
import { CUISINES, isCuisine, MAX_CUISINES_PER_RESTAURANT, unknownCuisines } from './rules/cuisines.js';
import { deliveryEstimateMinutes, haversineMeters, type Point } from './rules/geo.js';
import { fieldProblemsFr } from './rules/problems-fr.js';
import {
  closedPeriods,
  closesAt,
  isOpenAt,
  nextOpening,
  periodsLiteral,
  validateWeeklyHours,
  weeklyRanges,
  weekRangesLiteral,
  type ClosureRules,
  type OpeningRules,
  type WeeklyHours,
} from './rules/hours.js';
import { decideStatus, type StatusDecision } from './rules/status.js';
import { reachUnderTerms, type DeliveryTerms } from './rules/zones.js';
import type { Static } from 'typebox';
import type { CreateRestaurantInput, RestaurantResponse, UpdateRestaurantInput } from './schemas.js';

export type RestaurantView = Static<typeof RestaurantResponse>;
import type { RestaurantsTable } from './tables.js';

/** The labels of the restaurant's cuisines in both languages, so "grillades" finds grills. */
export function cuisineText(cuisines: readonly string[]): string {
  return cuisines
    .flatMap((code) =>
      isCuisine(code) ? [code.replace(/_/g, ' '), CUISINES[code].fr, CUISINES[code].en] : [code],
    )
    .join(' ');
}

export function openingRules(
  restaurant: Pick<RestaurantRecord, 'openingHours' | 'closureRules'>,
): OpeningRules {
  return {
    ranges: weeklyRanges(restaurant.openingHours),
    closed: closedPeriods(restaurant.closureRules).periods,
  };
}

function checkCuisines(cuisines: string[]): string[] {
  const unique = [...new Set(cuisines)];
  const unknown = unknownCuisines(unique);
  if (unknown.length > 0) {
    throw catalogErrors.of('validation', 'unknown_cuisine', `Unknown cuisine: ${unknown.join(', ')}.`, {
      details: { unknown, known: Object.keys(CUISINES) },
    });
  }
  if (unique.length > MAX_CUISINES_PER_RESTAURANT) {
    throw catalogErrors.of(
      'validation',
      'too_many_cuisines',
      `At most ${MAX_CUISINES_PER_RESTAURANT} cuisines.`,
    );
  }
  return unique;
}

/** Hours and closures as stored: the JSON, plus the ranges PostgreSQL filters "open now" on. */
function checkHours(
  hours: WeeklyHours,
  rules: ClosureRules,
): Pick<Updateable<RestaurantsTable>, 'opening_hours' | 'closures' | 'open_week_minutes' | 'closed_periods'> {
  const hourProblems = validateWeeklyHours(hours);
  if (hourProblems.length > 0) {
    const french = fieldProblemsFr(hourProblems);
    throw catalogErrors.of('validation', 'invalid_opening_hours', hourProblems.join('; '), {
      details: { errors: hourProblems.map((message) => ({ path: 'openingHours', message })) },
      detailFr: french.join(' ; '),
      detailsFr: { errors: french.map((message) => ({ path: 'openingHours', message })) },
    });
  }
  const { periods, problems } = closedPeriods(rules);
  if (problems.length > 0) {
    const french = fieldProblemsFr(problems);
    throw catalogErrors.of('validation', 'invalid_closures', problems.join('; '), {
      details: { errors: problems.map((message) => ({ path: 'closures', message })) },
      detailFr: french.join(' ; '),
      detailsFr: { errors: french.map((message) => ({ path: 'closures', message })) },
    });
  }
  return {
    opening_hours: JSON.stringify(hours),
    closures: JSON.stringify(rules),
    open_week_minutes: weekRangesLiteral(weeklyRanges(hours)),
    closed_periods: periodsLiteral(periods),
  };
}

export function createRestaurantService(
  deps: CatalogDependencies,
  repository: CatalogRepository,
  menuCache: MenuCache,
  cities: CityService,
  areas: Pick<DeliveryAreas, 'restaurantTerms' | 'invalidate'>,
) {
  const now = deps.now ?? (() => new Date());

  async function loadForChange(caller: Caller, id: string): Promise<RestaurantRecord> {
    const restaurant = await repository.findRestaurant(id);
    if (restaurant === undefined)
      throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
    if (!caller.isAdmin && restaurant.ownerId !== caller.userId) {
      throw catalogErrors.of(
        'forbidden',
        'not_restaurant_owner',
        'Only the owner of this restaurant or an admin may change it.',
      );
    }
    return restaurant;
  }

  /**
   * A restaurant's delivery zones (issue #26): each an active zone of its city, or a 422 that
   * lists the zones on offer; null (its radius alone) as is.
   */
  async function checkDeliveryZones(cityId: string, zones: string[] | null): Promise<string[] | null> {
    if (zones === null) return null;
    const offered = (await cities.zonesOf(cityId)).filter((zone) => zone.active).map((zone) => zone.id);
    const unknown = zones.filter((zone) => !offered.includes(zone));
    if (unknown.length > 0)
      throw catalogErrors.of(
        'unprocessable',
        'delivery_zone_unknown',
        `These are not zones of the restaurant's city: ${unknown.join(', ')}.`,
        { details: { unknown, zones: offered } },
      );
    return zones;
  }

  return {
    async create(caller: Caller, input: CreateRestaurantInput): Promise<RestaurantRecord> {
      const cuisines = checkCuisines(input.cuisines);
      const hours = checkHours(input.openingHours as WeeklyHours, {
        closures: input.closures ?? [],
        holidays: input.holidays ?? [],
      });
      const city = await cities.resolve(input.city);
      const id = await deps.db.transaction().execute(async (transaction) => {
        const restaurantId = await repository.insertRestaurant(
          {
            owner_id: caller.userId,
            name: input.name.trim(),
            legal_name: input.legalName.trim(),
            tax_id: input.taxId,
            description_fr: input.description?.fr ?? input.description?.en ?? null,
            description_en: input.description?.en ?? null,
            documents: JSON.stringify(input.documents),
            contact_phone: deps.fields.encrypt(CONTACT_PHONE, input.contact.phone ?? null),
            contact_email: deps.fields.encrypt(CONTACT_EMAIL, input.contact.email ?? null),
            cuisines,
            city: city.id,
            address: input.address.trim(),
            latitude: input.location.latitude,
            longitude: input.location.longitude,
            delivery_radius_m: Math.round(input.deliveryRadiusKm * 1000),
            delivery_zones: await checkDeliveryZones(city.id, input.deliveryZones ?? null),
            prep_time_minutes: input.prepTimeMinutes ?? 20,
            updated_at: new Date(),
            ...hours,
          } as Parameters<CatalogRepository['insertRestaurant']>[0],
          transaction,
        );
        await repository.refreshRestaurantDerived(restaurantId, cuisineText(cuisines), transaction);
        await deps.audit(
          {
            action: 'restaurant.created',
            actor: caller.actor,
            subjectUserId: caller.userId,
            resource: `restaurant:${restaurantId}`,
            newValue: { name: input.name, cuisines, city: city.id },
          },
          transaction,
        );
        return restaurantId;
      });
      // Identity writes roles on its own connection: grant after our commit, never for a rolled-back restaurant.
      await deps.grantRole(caller.userId, 'restaurant_owner', caller.actor);
      return (await repository.findRestaurant(id))!;
    },

    async update(caller: Caller, id: string, input: UpdateRestaurantInput): Promise<RestaurantRecord> {
      const before = await loadForChange(caller, id);
      const values: Updateable<RestaurantsTable> = {};
      if (input.name !== undefined) values.name = input.name.trim();
      if (input.description !== undefined) {
        values.description_fr = input.description.fr ?? input.description.en ?? null;
        values.description_en = input.description.en ?? null;
      }
      if (input.contact !== undefined) {
        values.contact_phone = deps.fields.encrypt(CONTACT_PHONE, input.contact.phone ?? null);
        values.contact_email = deps.fields.encrypt(CONTACT_EMAIL, input.contact.email ?? null);
      }
      const cuisines = input.cuisines === undefined ? before.cuisines : checkCuisines(input.cuisines);
      values.cuisines = cuisines;
      // A restaurant keeps its city when that city is deactivated; moving needs an active one.
      if (input.city !== undefined)
        values.city = (await cities.resolve(input.city, { allowInactive: before.city })).id;
      if (input.address !== undefined) values.address = input.address.trim();
      if (input.location !== undefined) {
        values.latitude = input.location.latitude;
        values.longitude = input.location.longitude;
      }
      if (input.deliveryRadiusKm !== undefined)
        values.delivery_radius_m = Math.round(input.deliveryRadiusKm * 1000);
      // Zones belong to a city: a move without new zones drops the old city's.
      if (input.deliveryZones !== undefined || (values.city !== undefined && values.city !== before.city))
        values.delivery_zones = await checkDeliveryZones(
          values.city ?? before.city,
          input.deliveryZones ?? null,
        );
      if (input.prepTimeMinutes !== undefined) values.prep_time_minutes = input.prepTimeMinutes;
      if (input.openingHours !== undefined || input.closures !== undefined || input.holidays !== undefined) {
        Object.assign(
          values,
          checkHours((input.openingHours as WeeklyHours | undefined) ?? before.openingHours, {
            closures: input.closures ?? before.closureRules.closures,
            holidays: input.holidays ?? before.closureRules.holidays,
          }),
        );
      }
      const moved = values.city !== undefined && values.city !== before.city;
      await deps.db.transaction().execute(async (transaction) => {
        await repository.updateRestaurant(id, values, transaction);
        await repository.refreshRestaurantDerived(id, cuisineText(cuisines), transaction);
        // Its own area's cells lie in the old city: a move drops them (as it drops named zones).
        const dropped = moved
          ? await transaction
              .deleteFrom('restaurant_delivery_areas')
              .where('restaurant_id', '=', id)
              .returning('cells')
              .executeTakeFirst()
          : undefined;
        if (dropped !== undefined)
          await deps.audit(
            {
              action: 'restaurant.delivery_area_cleared',
              actor: caller.actor,
              subjectUserId: before.ownerId,
              resource: `restaurant:${id}`,
              oldValue: { cityId: before.city, cells: dropped.cells },
              newValue: null,
            },
            transaction,
          );
        await deps.audit(
          {
            action: 'restaurant.updated',
            actor: caller.actor,
            subjectUserId: before.ownerId,
            resource: `restaurant:${id}`,
            oldValue: pick(before, Object.keys(input)),
            newValue: input,
          },
          transaction,
        );
      });
      if (moved) areas.invalidate(id);
      menuCache.invalidate(id);
      return (await repository.findRestaurant(id))!;
    },

    async decide(
      caller: Caller,
      id: string,
      decision: StatusDecision,
      reason: string | undefined,
    ): Promise<RestaurantRecord> {
      if (!caller.isAdmin)
        throw catalogErrors.of(
          'forbidden',
          'forbidden',
          'Only an admin may verify, reject or suspend a restaurant.',
        );
      await deps.db.transaction().execute(async (transaction) => {
        const restaurant = await repository.findRestaurant(id, transaction, { forUpdate: true });
        if (restaurant === undefined)
          throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
        const outcome = decideStatus(restaurant.status, decision, reason);
        if (!outcome.ok)
          throw catalogErrors.of(
            outcome.code === 'reason_required' ? 'validation' : 'conflict',
            outcome.code,
            outcome.detail,
          );
        await repository.setStatus(
          id,
          { status: outcome.status, reason: outcome.reason, actorId: caller.userId },
          transaction,
        );
        await deps.audit(
          {
            action: `restaurant.${decision}`,
            actor: caller.actor,
            subjectUserId: restaurant.ownerId,
            resource: `restaurant:${id}`,
            oldValue: { status: restaurant.status },
            newValue: { status: outcome.status, reason: outcome.reason },
          },
          transaction,
        );
      });
      menuCache.invalidate(id);
      return (await repository.findRestaurant(id))!;
    },

    /** A profile for the public (active only) or its owner/admin (any status, private fields too). */
    async profile(
      id: string,
      viewer: { userId: string; isAdmin: boolean } | undefined,
      point: Point | undefined,
    ) {
      const restaurant = await repository.findRestaurant(id);
      const privileged =
        restaurant !== undefined &&
        viewer !== undefined &&
        (viewer.isAdmin || viewer.userId === restaurant.ownerId);
      if (restaurant === undefined || (restaurant.status !== 'active' && !privileged)) {
        throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
      }
      const instant = now();
      const terms = point === undefined ? undefined : await areas.restaurantTerms(restaurant, point, instant);
      const body = profileView(restaurant, instant, point, privileged, terms);
      const etag = `"r${restaurant.menuVersion}-${createHash('sha1').update(JSON.stringify(body)).digest('base64url').slice(0, 16)}"`;
      return { body, etag };
    },
  };
}

function pick(record: RestaurantRecord, keys: string[]): Record<string, unknown> {
  const source = record as unknown as Record<string, unknown>;
  return Object.fromEntries(keys.filter((key) => key in source).map((key) => [key, source[key]]));
}

export function profileView(
  restaurant: RestaurantRecord,
  instant: Date,
  point: Point | undefined,
  privileged: boolean,
  /** The city's terms at `point` (zones, service hours, distance cap); none: the radius alone. */
  terms?: Pick<DeliveryTerms, 'refusal' | 'maxDeliveryDistanceM' | 'zoneId'> & {
    restaurantRefusal?: 'outside_restaurant_zones' | 'outside_restaurant_area';
  },
): RestaurantView {
  const rules = openingRules(restaurant);
  const open = restaurant.status === 'active' && isOpenAt(rules, instant);
  const distanceM = point === undefined ? undefined : Math.round(haversineMeters(point, restaurant.location));
  const closing = open ? closesAt(rules, instant) : undefined;
  const next = open || restaurant.status !== 'active' ? undefined : nextOpening(rules, instant);
  const view: Record<string, unknown> = {
    id: restaurant.id,
    name: restaurant.name,
    status: restaurant.status,
    ...(restaurant.description === undefined ? {} : { description: restaurant.description }),
    cuisines: restaurant.cuisines,
    city: restaurant.city,
    address: restaurant.address,
    location: restaurant.location,
    deliveryRadiusKm: restaurant.deliveryRadiusM / 1000,
    ...(restaurant.deliveryZones === null ? {} : { deliveryZones: restaurant.deliveryZones }),
    prepTimeMinutes: restaurant.prepTimeMinutes,
    openingHours: restaurant.openingHours,
    ...(restaurant.closureRules.closures.length === 0 ? {} : { closures: restaurant.closureRules.closures }),
    ...(restaurant.closureRules.holidays.length === 0 ? {} : { holidays: restaurant.closureRules.holidays }),
    ...(restaurant.logo === null ? {} : { logo: restaurant.logo.renditions }),
    ...(restaurant.cover === null ? {} : { cover: restaurant.cover.renditions }),
    rating: { average: restaurant.ratingAverage, count: restaurant.ratingCount },
    priceAverage: restaurant.priceAverage,
    openNow: open,
    ...(closing === undefined ? {} : { closesAt: closing.toISOString() }),
    ...(next === undefined ? {} : { nextOpeningAt: next.toISOString() }),
    delivery: {
      minutes: deliveryEstimateMinutes(restaurant.prepTimeMinutes, distanceM ?? 0),
      ...(distanceM === undefined
        ? {}
        : {
            distanceM,
            deliversHere:
              terms === undefined
                ? distanceM <= restaurant.deliveryRadiusM
                : reachUnderTerms(terms, distanceM, restaurant.deliveryRadiusM, restaurant.deliveryZones)
                    .refusal === undefined,
          }),
    },
    ...(privileged
      ? {
          ownerId: restaurant.ownerId,
          legalName: restaurant.legalName,
          taxId: restaurant.taxId,
          documents: restaurant.documents,
          contact: restaurant.contact,
          ...(restaurant.statusReason === null ? {} : { statusReason: restaurant.statusReason }),
        }
      : {}),
  };
  return view as RestaurantView;
}
