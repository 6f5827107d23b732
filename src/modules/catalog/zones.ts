/**
 * Zones within a city (issue #26): the admin's create and change, each audited in the same
 * transaction, checked by the pure rules (rules/zones.ts), and dropping the city directory so
 * every reader (placement, search, dispatch) sees the new outline at once on this instance.
 */
import { pathProblemsFr } from './rules/problems-fr.js';
import type { Transaction } from 'kysely';
import type { CityService } from './cities.js';
import { zoneOf } from './cities.js';
import type { Caller, CatalogDependencies } from './context.js';
import { catalogErrors } from './errors.js';
import { MAX_ZONES_PER_CITY, zoneProblems, type FeeSurge, type Zone, type ZonePoint } from './rules/zones.js';
import type { CatalogTables } from './tables.js';

export interface ZoneInput {
  id: string;
  name: string;
  polygon: ZonePoint[];
  active?: boolean | undefined;
  delivers?: boolean | undefined;
  feeAdjustmentXaf?: number | undefined;
  surges?: FeeSurge[] | undefined;
}

/** A zone as the apps see it: no fee adjustments, no surges, no switched-off zones. */
export interface PublicZone {
  id: string;
  name: string;
  served: boolean;
  polygon: ZonePoint[];
}

export type ZonePatch = Partial<Omit<ZoneInput, 'id'>>;

function rowOf(zone: Zone) {
  return {
    city_id: zone.cityId,
    id: zone.id,
    name: zone.name.trim(),
    polygon: JSON.stringify(zone.polygon),
    active: zone.active,
    delivers: zone.delivers,
    fee_adjustment_xaf: zone.feeAdjustmentXaf,
    surges: JSON.stringify(zone.surges),
    updated_at: new Date(),
  };
}

async function lockCity(transaction: Transaction<CatalogTables>, cityId: string) {
  const city = await transaction
    .selectFrom('cities')
    .select(['id', 'south', 'west', 'north', 'east'])
    .where('id', '=', cityId)
    .forUpdate()
    .executeTakeFirst();
  if (city === undefined) throw catalogErrors.of('not_found', 'city_not_found', 'No such city.');
  return { bounds: { south: city.south, west: city.west, north: city.north, east: city.east } };
}

function checkZone(
  zone: Zone,
  city: { bounds: { south: number; west: number; north: number; east: number } },
) {
  const problems = zoneProblems(zone, city);
  if (problems.length > 0)
    throw catalogErrors.of(
      'validation',
      'invalid_zone',
      problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      {
        details: { errors: problems },
        detailFr: pathProblemsFr(problems)
          .map((p) => `${p.path} : ${p.message}`)
          .join(' ; '),
        detailsFr: { errors: pathProblemsFr(problems) },
      },
    );
}

export function createZoneService(deps: Pick<CatalogDependencies, 'db' | 'audit'>, cities: CityService) {
  return {
    async list(cityId: string): Promise<Zone[]> {
      if ((await cities.get(cityId)) === undefined)
        throw catalogErrors.of('not_found', 'city_not_found', 'No such city.');
      return cities.zonesOf(cityId);
    },

    /**
     * The apps' map of an active city: its active zones' outlines and whether the platform
     * delivers there; fee adjustments and surges stay admin fields (the quote prices them).
     * An unknown or inactive city is 404 `city_not_found`.
     */
    async served(cityId: string): Promise<PublicZone[]> {
      const city = await cities.get(cityId);
      if (city === undefined || !city.active)
        throw catalogErrors.of('not_found', 'city_not_found', 'No such city.');
      return (await cities.zonesOf(cityId))
        .filter((zone) => zone.active)
        .map((zone) => ({ id: zone.id, name: zone.name, served: zone.delivers, polygon: zone.polygon }));
    },

    async create(caller: Caller, cityId: string, input: ZoneInput): Promise<Zone> {
      const zone: Zone = {
        id: input.id,
        cityId,
        name: input.name,
        polygon: input.polygon,
        active: input.active ?? true,
        delivers: input.delivers ?? true,
        feeAdjustmentXaf: input.feeAdjustmentXaf ?? 0,
        surges: input.surges ?? [],
      };
      try {
        await deps.db.transaction().execute(async (transaction) => {
          // The city's row lock serialises zone writes of one city: the count below holds.
          checkZone(zone, await lockCity(transaction, cityId));
          const count = await transaction
            .selectFrom('city_zones')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('city_id', '=', cityId)
            .executeTakeFirstOrThrow();
          if (Number(count.n) >= MAX_ZONES_PER_CITY)
            throw catalogErrors.of(
              'conflict',
              'zone_limit_reached',
              `At most ${MAX_ZONES_PER_CITY} zones per city.`,
            );
          const inserted = await transaction
            .insertInto('city_zones')
            .values(rowOf(zone))
            .onConflict((conflict) => conflict.columns(['city_id', 'id']).doNothing())
            .executeTakeFirst();
          if (inserted.numInsertedOrUpdatedRows === 0n)
            throw catalogErrors.of(
              'conflict',
              'zone_exists',
              `The zone ${zone.id} already exists; update it instead.`,
            );
          await deps.audit(
            {
              action: 'zone.created',
              actor: caller.actor,
              resource: `zone:${cityId}/${zone.id}`,
              newValue: zone,
            },
            transaction,
          );
        });
      } finally {
        cities.invalidate();
      }
      return zone;
    },

    async update(caller: Caller, cityId: string, zoneId: string, patch: ZonePatch): Promise<Zone> {
      try {
        return await deps.db.transaction().execute(async (transaction) => {
          const city = await lockCity(transaction, cityId);
          const row = await transaction
            .selectFrom('city_zones')
            .selectAll()
            .where('city_id', '=', cityId)
            .where('id', '=', zoneId)
            .forUpdate()
            .executeTakeFirst();
          if (row === undefined) throw catalogErrors.of('not_found', 'zone_not_found', 'No such zone.');
          const before = zoneOf(row);
          const defined = Object.fromEntries(
            Object.entries(patch).filter(([, value]) => value !== undefined),
          );
          const after: Zone = { ...before, ...defined };
          checkZone(after, city);
          await transaction
            .updateTable('city_zones')
            .set(rowOf(after))
            .where('city_id', '=', cityId)
            .where('id', '=', zoneId)
            .execute();
          const action =
            patch.active === undefined || patch.active === before.active
              ? 'zone.updated'
              : after.active
                ? 'zone.activated'
                : 'zone.deactivated';
          await deps.audit(
            {
              action,
              actor: caller.actor,
              resource: `zone:${cityId}/${zoneId}`,
              oldValue: before,
              newValue: after,
            },
            transaction,
          );
          return after;
        });
      } finally {
        cities.invalidate();
      }
    },
  };
}

export type ZoneService = ReturnType<typeof createZoneService>;
