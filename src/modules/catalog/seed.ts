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
    return [
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
