/**
 * Cities as data (issue #26): the admin's create and update (audited, in one transaction with
 * the audit line), and the in-memory directory every read goes through. Cities are few (tens),
 * read on every restaurant write and, later, on every delivery check: the directory holds them all
 * for `CITY_DIRECTORY_TTL_MS` and is dropped at once on this instance by every write (other
 * instances within the TTL).
 */
import { pathProblemsFr } from './rules/problems-fr.js';
import type { Selectable, Transaction } from 'kysely';
import type { Caller, CatalogDependencies } from './context.js';
import { catalogErrors } from './errors.js';
import {
  cityProblems,
  matchCity,
  type City,
  type CityBounds,
  type CityCenter,
  type CityRules,
} from './rules/cities.js';
import {
  deliveryTermsAt,
  indexZones,
  zoneOutline,
  type DeliveryTerms,
  type Zone,
  type ZoneIndex,
  type ZonePoint,
} from './rules/zones.js';
import type { CatalogTables, CitiesTable, CityZonesTable } from './tables.js';

export const CITY_DIRECTORY_TTL_MS = 30_000;
/** The most cities the platform holds (the directory keeps them all in memory). */
export const MAX_CITIES = 500;
/** The most zones the directory holds over all cities (MAX_ZONES_PER_CITY each). */
export const MAX_ZONES = 5_000;

export interface CityInput {
  id: string;
  name: { fr: string; en: string };
  country?: string | undefined;
  timeZone?: string | undefined;
  languages?: string[] | undefined;
  active?: boolean | undefined;
  center: CityCenter;
  bounds: CityBounds;
  rules?: CityRules | undefined;
}

export type CityPatch = Partial<Omit<CityInput, 'id' | 'name'>> & {
  name?: { fr?: string | undefined; en?: string | undefined } | undefined;
};

function cityOf(row: Selectable<CitiesTable>): City {
  return {
    id: row.id,
    name: { fr: row.name_fr, en: row.name_en },
    country: row.country,
    timeZone: row.time_zone,
    currency: 'XAF',
    languages: row.languages,
    active: row.active,
    center: { latitude: row.center_latitude, longitude: row.center_longitude },
    bounds: { south: row.south, west: row.west, north: row.north, east: row.east },
    rules: row.rules as CityRules,
  };
}

export function zoneOf(row: Selectable<CityZonesTable>): Zone {
  return {
    id: row.id,
    cityId: row.city_id,
    name: row.name,
    polygon: row.polygon,
    cells: row.cells,
    resolution: row.h3_resolution,
    active: row.active,
    delivers: row.delivers,
    feeAdjustmentXaf: row.fee_adjustment_xaf,
    surges: row.surges as Zone['surges'],
  };
}

function rowOf(city: City) {
  return {
    id: city.id,
    name_fr: city.name.fr.trim(),
    name_en: city.name.en.trim(),
    country: city.country,
    time_zone: city.timeZone,
    currency: 'XAF',
    languages: city.languages,
    active: city.active,
    center_latitude: city.center.latitude,
    center_longitude: city.center.longitude,
    ...city.bounds,
    rules: JSON.stringify(city.rules),
    updated_at: new Date(),
  };
}

function checkCity(city: City): void {
  const problems = cityProblems(city);
  if (problems.length > 0)
    throw catalogErrors.of(
      'validation',
      'invalid_city',
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

export function createCityService(deps: Pick<CatalogDependencies, 'db' | 'audit' | 'now'>) {
  const clock = () => (deps.now ?? (() => new Date()))().getTime();
  interface Directory {
    cities: City[];
    zones: Map<string, Zone[]>;
    /** Each city's zones by H3 cell (built once per load: every delivery check reads it). */
    indexes: Map<string, ZoneIndex>;
  }
  const noZones = indexZones([]);
  let cached: (Directory & { loadedAt: number }) | undefined;
  let loading: Promise<Directory> | undefined;

  async function load(): Promise<Directory> {
    const [rows, zoneRows] = await Promise.all([
      deps.db.selectFrom('cities').selectAll().orderBy('id').limit(MAX_CITIES).execute(),
      deps.db
        .selectFrom('city_zones')
        .selectAll()
        .orderBy('city_id')
        .orderBy('id')
        .limit(MAX_ZONES)
        .execute(),
    ]);
    const zones = new Map<string, Zone[]>();
    for (const zone of zoneRows.map(zoneOf))
      zones.set(zone.cityId, [...(zones.get(zone.cityId) ?? []), zone]);
    const indexes = new Map([...zones].map(([cityId, list]) => [cityId, indexZones(list)]));
    return { cities: rows.map(cityOf), zones, indexes };
  }

  async function directory(): Promise<Directory> {
    if (cached !== undefined && clock() - cached.loadedAt < CITY_DIRECTORY_TTL_MS) return cached;
    // One load for concurrent callers; a write meanwhile drops what it would have cached.
    loading ??= load().then(
      (loaded) => {
        loading = undefined;
        cached = { ...loaded, loadedAt: clock() };
        return loaded;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  }

  async function all(): Promise<City[]> {
    return (await directory()).cities;
  }

  async function zonesOf(cityId: string): Promise<Zone[]> {
    return (await directory()).zones.get(cityId) ?? [];
  }

  function invalidate(): void {
    cached = undefined;
    loading = undefined;
  }

  async function lock(id: string, transaction: Transaction<CatalogTables>) {
    return transaction.selectFrom('cities').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  return {
    all,
    zonesOf,
    invalidate,
    /** A zone's outline: the polygon drawn, else its cells' (USSD places an address at its centre). */
    outline: zoneOutline,
    async get(id: string): Promise<City | undefined> {
      return (await all()).find((city) => city.id === id);
    },

    /**
     * The one place pricing, placement, search and dispatch read a city's and zone's rules:
     * where the platform delivers, the fee rule, minimum order, distance cap and tax rate at
     * `point` and instant `at`. Undefined for an unknown city.
     */
    async deliveryTerms(cityId: string, point: ZonePoint, at: Date): Promise<DeliveryTerms | undefined> {
      const loaded = await directory();
      const city = loaded.cities.find((c) => c.id === cityId);
      if (city === undefined) return undefined;
      return deliveryTermsAt(city, loaded.indexes.get(cityId) ?? noZones, point, at);
    },

    /** The terms at `point` in every city (search: which cities' restaurants may deliver there). */
    async deliveryTermsEverywhere(point: ZonePoint, at: Date): Promise<DeliveryTerms[]> {
      const loaded = await directory();
      return loaded.cities.map((city) =>
        deliveryTermsAt(city, loaded.indexes.get(city.id) ?? noZones, point, at),
      );
    },

    /**
     * A city by id or name (any case or accent, active or not) with its time zone and support
     * hours: support's SLA clock counts only those hours (issue #26). Undefined when none matches.
     */
    async supportClockOf(
      input: string,
    ): Promise<{ cityId: string; timeZone: string; supportHours?: string } | undefined> {
      const city = matchCity(await all(), input);
      if (city === undefined) return undefined;
      const hours = city.rules.supportHours;
      return {
        cityId: city.id,
        timeZone: city.timeZone,
        ...(hours === undefined ? {} : { supportHours: hours }),
      };
    },

    /**
     * The city a restaurant names (`city` in its body): its id or its name, any case or accent.
     * Unknown, or inactive for a new restaurant, is a 422 that lists the cities on offer.
     */
    async resolve(input: string, options: { allowInactive?: string } = {}): Promise<City> {
      const cities = await all();
      const city = matchCity(cities, input);
      if (city === undefined || (!city.active && city.id !== options.allowInactive)) {
        throw catalogErrors.of('unprocessable', 'city_unknown', 'We do not serve this city (yet).', {
          details: { cities: cities.filter((c) => c.active).map((c) => c.id) },
        });
      }
      return city;
    },

    async create(caller: Caller, input: CityInput): Promise<City> {
      const city: City = {
        id: input.id,
        name: input.name,
        country: input.country ?? 'CM',
        timeZone: input.timeZone ?? 'Africa/Douala',
        currency: 'XAF',
        languages: input.languages ?? ['fr', 'en'],
        active: input.active ?? false,
        center: input.center,
        bounds: input.bounds,
        rules: input.rules ?? {},
      };
      checkCity(city);
      try {
        await deps.db.transaction().execute(async (transaction) => {
          const count = await transaction
            .selectFrom('cities')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow();
          if (Number(count.n) >= MAX_CITIES)
            throw catalogErrors.of('conflict', 'city_limit_reached', `At most ${MAX_CITIES} cities.`);
          await transaction.insertInto('cities').values(rowOf(city)).execute();
          await deps.audit(
            { action: 'city.created', actor: caller.actor, resource: `city:${city.id}`, newValue: city },
            transaction,
          );
        });
      } catch (error) {
        if ((error as { code?: unknown }).code === '23505')
          throw catalogErrors.of(
            'conflict',
            'city_exists',
            `The city ${city.id} already exists; update it instead.`,
          );
        throw error;
      } finally {
        invalidate();
      }
      return city;
    },

    async update(caller: Caller, id: string, patch: CityPatch): Promise<City> {
      try {
        return await deps.db.transaction().execute(async (transaction) => {
          const row = await lock(id, transaction);
          if (row === undefined) throw catalogErrors.of('not_found', 'city_not_found', 'No such city.');
          const before = cityOf(row);
          const after: City = {
            ...before,
            ...(patch.name === undefined
              ? {}
              : { name: { fr: patch.name.fr ?? before.name.fr, en: patch.name.en ?? before.name.en } }),
            ...(patch.country === undefined ? {} : { country: patch.country }),
            ...(patch.timeZone === undefined ? {} : { timeZone: patch.timeZone }),
            ...(patch.languages === undefined ? {} : { languages: patch.languages }),
            ...(patch.active === undefined ? {} : { active: patch.active }),
            ...(patch.center === undefined ? {} : { center: patch.center }),
            ...(patch.bounds === undefined ? {} : { bounds: patch.bounds }),
            ...(patch.rules === undefined ? {} : { rules: patch.rules }),
          };
          checkCity(after);
          await transaction.updateTable('cities').set(rowOf(after)).where('id', '=', id).execute();
          await deps.audit(
            {
              action:
                patch.active === undefined || patch.active === before.active
                  ? 'city.updated'
                  : after.active
                    ? 'city.activated'
                    : 'city.deactivated',
              actor: caller.actor,
              resource: `city:${id}`,
              oldValue: before,
              newValue: after,
            },
            transaction,
          );
          return after;
        });
      } finally {
        invalidate();
      }
    },
  };
}

export type CityService = ReturnType<typeof createCityService>;
