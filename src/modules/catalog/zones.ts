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
import {
  areaCells,
  DEFAULT_ZONE_H3_RESOLUTION,
  MAX_ZONES_PER_CITY,
  zoneProblems,
  type FeeSurge,
  type Zone,
  type ZonePoint,
} from './rules/zones.js';
import type { CatalogTables } from './tables.js';

export interface ZoneInput {
  id: string;
  name: string;
  /** The outline; its cells are computed unless `cells` is given too. */
  polygon?: ZonePoint[] | undefined;
  /** H3 cell ids at the configured resolution or coarser (a compacted set). */
  cells?: string[] | undefined;
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
  /** Absent when the zone was given as cells only (the map draws the cells). */
  polygon?: ZonePoint[];
  cells: string[];
}

export type ZonePatch = Partial<Omit<ZoneInput, 'id'>>;

function rowOf(zone: Zone) {
  return {
    city_id: zone.cityId,
    id: zone.id,
    name: zone.name.trim(),
    polygon: zone.polygon === null ? null : JSON.stringify(zone.polygon),
    cells: zone.cells,
    h3_resolution: zone.resolution,
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
  zone: Pick<Zone, 'polygon' | 'surges' | 'feeAdjustmentXaf'> & { cells: string[] | null },
  city: { bounds: { south: number; west: number; north: number; east: number } },
  resolution: number,
) {
  const problems = zoneProblems(zone, city, resolution);
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

export function createZoneService(
  deps: Pick<CatalogDependencies, 'db' | 'audit' | 'zoneResolution'>,
  cities: CityService,
) {
  const resolution = deps.zoneResolution ?? DEFAULT_ZONE_H3_RESOLUTION;
  return {
    resolution,

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
        .map((zone) => ({
          id: zone.id,
          name: zone.name,
          served: zone.delivers,
          ...(zone.polygon === null ? {} : { polygon: zone.polygon }),
          cells: zone.cells,
        }));
    },

    async create(caller: Caller, cityId: string, input: ZoneInput): Promise<Zone> {
      const given = { polygon: input.polygon ?? null, cells: input.cells ?? null };
      const zone: Zone = {
        id: input.id,
        cityId,
        name: input.name,
        polygon: given.polygon,
        cells: [],
        resolution,
        active: input.active ?? true,
        delivers: input.delivers ?? true,
        feeAdjustmentXaf: input.feeAdjustmentXaf ?? 0,
        surges: input.surges ?? [],
      };
      try {
        await deps.db.transaction().execute(async (transaction) => {
          // The city's row lock serialises zone writes of one city: the count below holds.
          checkZone({ ...zone, cells: given.cells }, await lockCity(transaction, cityId), resolution);
          zone.cells = areaCells(given, resolution);
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
          const { polygon, cells, ...rest } = patch;
          const defined = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
          // A new outline brings its cells unless cells come too; new cells alone drop the old
          // outline (it would no longer draw the zone). Neither: both kept, at their resolution.
          const area =
            polygon === undefined && cells === undefined
              ? undefined
              : { polygon: polygon ?? null, cells: cells ?? null };
          const after: Zone = { ...before, ...defined };
          if (area === undefined) checkZone(after, city, after.resolution);
          else {
            checkZone({ ...after, ...area }, city, resolution);
            Object.assign(after, { polygon: area.polygon, cells: areaCells(area, resolution), resolution });
          }
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
