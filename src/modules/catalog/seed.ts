/**
 * The catalog's demo seed step: a few active restaurants from the fixture (Douala and Yaoundé),
 * each owned by a demo owner account. Owners are found by phone or created through identity's
 * exported services (repository, hasher, grantRole), never by writing identity's tables here.
 * Idempotent: restaurants that already exist are left alone.
 */
import type { Runtime } from '../../runtime.js';
import type { Kysely } from 'kysely';
import { ownTables } from '../../db/own-tables.js';
import type { CatalogTables } from './tables.js';
import type { Identity } from '../identity/index.js';
import { generateCatalogFixture, insertCatalogFixture } from './fixtures.js';
import { polygonCells, zoneProblems, type Zone, type ZonePoint } from './rules/zones.js';

/**
 * The demo owners' phones and password (development only; printed by the seed). The first is the
 * owner the README lists (created by the identity step, with its own password): it owns the first
 * demo restaurant and every third after it.
 */
export const DEMO_OWNER_PHONES = ['+237670000012', '+237670000102', '+237670000103'] as const;
export const DEMO_OWNER_PASSWORD = 'Demo-Ndole-2026!';
export const DEMO_RESTAURANT_COUNT = 6;
/** The demo menu is measured by the benchmark (bytes raw and gzip). */
export const DEMO_SEED = 2026;

/** Identity's accounts (found by phone or created) and the platform's runtime. */
export interface CatalogSeedServices<DB extends CatalogTables = CatalogTables> {
  identity: Pick<Identity, 'repository' | 'hasher' | 'grantRole'>;
  runtime: Runtime;
  /** The catalog's tables (the edge may pass the whole database: it holds them). */
  db: Kysely<DB>;
}

async function demoOwner(
  services: Omit<CatalogSeedServices, 'db'>,
  phone: string,
): Promise<{ id: string; created: boolean }> {
  const { identity } = services;
  const existing = await identity.repository.findUserByPhone(phone);
  if (existing !== undefined && existing !== null) {
    await identity.grantRole(existing.id, 'restaurant_owner', { kind: 'system' });
    return { id: existing.id, created: false };
  }
  const user = await identity.repository.insertUser({
    phone,
    name: 'Demo Owner',
    passwordHash: await identity.hasher.hash(DEMO_OWNER_PASSWORD),
    roles: ['customer', 'restaurant_owner'],
    status: 'active',
    phoneVerified: true,
  });
  return { id: user.id, created: true };
}

export function demoRestaurants(ownerIds: string[]) {
  return generateCatalogFixture({
    seed: DEMO_SEED,
    restaurants: DEMO_RESTAURANT_COUNT,
    itemsPerRestaurant: 30,
    ownerIds,
  });
}

function box(south: number, west: number, north: number, east: number): ZonePoint[] {
  return [
    { latitude: south, longitude: west },
    { latitude: south, longitude: east },
    { latitude: north, longitude: east },
    { latitude: north, longitude: west },
  ];
}

/**
 * The demo's zones (issue #26), drawn roughly over the two cities: a served area around each
 * centre that holds every demo restaurant and its customers, a district with a fee adjustment
 * or an evening surge inside it, and the port of Douala, where the platform does not deliver.
 */
export const DEMO_ZONES: (Omit<Zone, 'cells' | 'resolution'> & { polygon: ZonePoint[] })[] = [
  {
    cityId: 'douala',
    id: 'douala-centre',
    name: 'Douala centre',
    polygon: box(3.97, 9.66, 4.14, 9.86),
    active: true,
    delivers: true,
    feeAdjustmentXaf: 0,
    surges: [],
  },
  {
    cityId: 'douala',
    id: 'akwa',
    name: 'Akwa',
    polygon: box(4.04, 9.7, 4.06, 9.72),
    active: true,
    delivers: true,
    feeAdjustmentXaf: 0,
    surges: [{ window: '19:00-22:00', addXaf: 150 }],
  },
  {
    cityId: 'douala',
    id: 'port',
    name: 'Port autonome',
    polygon: box(4.03, 9.67, 4.07, 9.695),
    active: true,
    delivers: false,
    feeAdjustmentXaf: 0,
    surges: [],
  },
  {
    cityId: 'yaounde',
    id: 'yaounde-centre',
    name: 'Yaoundé centre',
    polygon: box(3.76, 11.42, 3.94, 11.59),
    active: true,
    delivers: true,
    feeAdjustmentXaf: 0,
    surges: [],
  },
  {
    cityId: 'yaounde',
    id: 'bastos',
    name: 'Bastos',
    polygon: box(3.885, 11.5, 3.905, 11.52),
    active: true,
    delivers: true,
    feeAdjustmentXaf: 200,
    surges: [],
  },
];

/** Adds the demo zones that are missing (an admin's change to a seeded zone is kept). */
async function seedDemoZones(db: Kysely<CatalogTables>, resolution: number): Promise<string[]> {
  const cities = await db.selectFrom('cities').select(['id', 'south', 'west', 'north', 'east']).execute();
  const added: string[] = [];
  for (const zone of DEMO_ZONES) {
    const city = cities.find((row) => row.id === zone.cityId);
    if (city === undefined) continue; // a database without the demo cities: nothing to draw on
    const problems = zoneProblems(zone, { bounds: city }, resolution);
    if (problems.length > 0) throw new Error(`demo zone ${zone.id}: ${JSON.stringify(problems)}`);
    const inserted = await db
      .insertInto('city_zones')
      .values({
        city_id: zone.cityId,
        id: zone.id,
        name: zone.name,
        polygon: JSON.stringify(zone.polygon),
        cells: polygonCells(zone.polygon, resolution),
        h3_resolution: resolution,
        active: zone.active,
        delivers: zone.delivers,
        fee_adjustment_xaf: zone.feeAdjustmentXaf,
        surges: JSON.stringify(zone.surges),
      })
      .onConflict((conflict) => conflict.columns(['city_id', 'id']).doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows !== 0n) added.push(`zone ${zone.cityId}/${zone.id}`);
  }
  return added;
}

export const catalogSeedStep = {
  name: 'catalog',
  async run<DB extends CatalogTables>(services: CatalogSeedServices<DB>): Promise<string[]> {
    const owners = [];
    for (const phone of DEMO_OWNER_PHONES) owners.push({ phone, ...(await demoOwner(services, phone)) });
    const restaurants = demoRestaurants(owners.map((owner) => owner.id));
    const db = ownTables<CatalogTables, DB>(services.db);
    const existing = new Set(
      (
        await db
          .selectFrom('restaurants')
          .select('id')
          .where(
            'id',
            'in',
            restaurants.map((restaurant) => restaurant.id),
          )
          .execute()
      ).map((row) => row.id),
    );
    const fresh = restaurants.filter((restaurant) => !existing.has(restaurant.id));
    if (fresh.length > 0) await insertCatalogFixture(db, fresh);
    const zones = await seedDemoZones(db, services.runtime.config.ZONE_H3_RESOLUTION);
    return [
      ...zones,
      ...owners
        .filter((owner) => owner.created)
        .map((owner) => `owner ${owner.phone} (password ${DEMO_OWNER_PASSWORD})`),
      ...fresh.map(
        (restaurant) =>
          `restaurant "${restaurant.name}" (${restaurant.city}, ${restaurant.items.length} items) ${restaurant.id}`,
      ),
    ];
  },
};
