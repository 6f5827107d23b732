import { describe, expect, it } from 'vitest';
import type { CategoryRecord, ItemRecord, ModifierGroupRecord, RestaurantRecord } from './model.js';
import { createOrderCatalogCache, type LoadedItems, type OrderCatalogSource } from './order-catalog-cache.js';

// Records carry only the fields the cache looks at; the catalog's own types are wider.
const restaurant = (name: string) => ({ id: 'r1', name }) as unknown as RestaurantRecord;
const item = (id: string, price: number) =>
  ({ id, categoryId: 'c1', price: BigInt(price) }) as unknown as ItemRecord;
const category = { id: 'c1' } as unknown as CategoryRecord;
const group = (itemId: string) => ({ id: `g-${itemId}`, itemId }) as unknown as ModifierGroupRecord;

/** A catalog in memory that counts reads and can hold a read until released. */
function source(prices: Map<string, number>) {
  const calls = { restaurant: 0, items: [] as string[][] };
  let gate: Promise<void> | undefined;
  const db: OrderCatalogSource & { calls: typeof calls; hold(): () => void } = {
    calls,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    async findRestaurant() {
      calls.restaurant += 1;
      return restaurant(`v${prices.get('name') ?? 0}`);
    },
    async loadItems(_restaurantId, ids): Promise<LoadedItems> {
      calls.items.push([...ids]);
      const snapshot = new Map(prices);
      await gate;
      const found = ids.filter((id) => snapshot.has(id));
      return {
        items: found.map((id) => item(id, snapshot.get(id)!)),
        categories: [category],
        modifierGroups: found.map(group),
      };
    },
  };
  return db;
}

describe('order catalog cache', () => {
  it('reads a restaurant once, then only the items it has not seen, and remembers ids that do not exist', async () => {
    const db = source(
      new Map([
        ['a', 100],
        ['b', 200],
      ]),
    );
    const cache = createOrderCatalogCache(db, { ttlMs: 10_000, maxRestaurants: 10 });
    const first = await cache.read('r1', ['a'], 0);
    expect(first!.items.get('a')!.price).toBe(100n);
    expect(first!.groups.get('a')).toEqual([group('a')]);
    await cache.read('r1', ['a'], 1);
    const second = await cache.read('r1', ['a', 'b', 'zz'], 2);
    expect(second!.items.get('b')!.price).toBe(200n);
    expect(second!.missing.has('zz')).toBe(true);
    await cache.read('r1', ['zz', 'b'], 3);
    expect(db.calls.restaurant).toBe(1);
    expect(db.calls.items).toEqual([['a'], ['b', 'zz']]);
  });

  it('reads again after an invalidation and after the TTL', async () => {
    const prices = new Map([['a', 100]]);
    const db = source(prices);
    const cache = createOrderCatalogCache(db, { ttlMs: 1_000, maxRestaurants: 10 });
    await cache.read('r1', ['a'], 0);
    prices.set('a', 150);
    cache.invalidate('r1');
    expect((await cache.read('r1', ['a'], 1))!.items.get('a')!.price).toBe(150n);
    prices.set('a', 175);
    expect((await cache.read('r1', ['a'], 999))!.items.get('a')!.price).toBe(150n);
    expect((await cache.read('r1', ['a'], 1_001))!.items.get('a')!.price).toBe(175n);
  });

  it('never keeps what a read saw before a write that came while it was reading', async () => {
    const prices = new Map([['a', 100]]);
    const db = source(prices);
    const cache = createOrderCatalogCache(db, { ttlMs: 10_000, maxRestaurants: 10 });
    const release = db.hold();
    const slow = cache.read('r1', ['a'], 0); // reads the old price, then waits
    await new Promise((resolve) => setTimeout(resolve, 5));
    prices.set('a', 300);
    cache.invalidate('r1'); // the write lands while the read is in flight
    release();
    expect((await slow)!.items.get('a')!.price).toBe(100n); // that caller saw the catalog before the write
    expect((await cache.read('r1', ['a'], 1))!.items.get('a')!.price).toBe(300n); // nobody after it does
  });

  it('is bounded: the oldest restaurant leaves first', async () => {
    const db = source(new Map([['a', 1]]));
    const cache = createOrderCatalogCache(db, { ttlMs: 10_000, maxRestaurants: 2 });
    await cache.read('r1', ['a'], 0);
    await cache.read('r2', ['a'], 0);
    await cache.read('r3', ['a'], 0);
    expect(cache.size()).toBe(2);
    await cache.read('r1', ['a'], 0);
    expect(db.calls.restaurant).toBe(4);
  });

  it('shares one load among concurrent misses of a restaurant, then reads only what one of them lacks', async () => {
    const db = source(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    const cache = createOrderCatalogCache(db, { ttlMs: 10_000, maxRestaurants: 10 });
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => cache.read('r1', ['a'], 0)),
      cache.read('r1', ['b'], 0),
    ]);
    expect(results.every((entry) => entry!.items.get('a')!.price === 1n)).toBe(true);
    expect(results.at(-1)!.items.get('b')!.price).toBe(2n);
    expect(db.calls.restaurant).toBe(1);
    expect(db.calls.items).toEqual([['a'], ['b']]);
  });
});

describe('order catalog cache eviction', () => {
  it('evicts the least recently read restaurant, not the oldest stored', async () => {
    const reads: string[] = [];
    const cache = createOrderCatalogCache(
      {
        async findRestaurant(id) {
          reads.push(id);
          return { id, name: id } as unknown as RestaurantRecord;
        },
        loadItems: async () => ({ items: [], categories: [], modifierGroups: [] }),
      },
      { ttlMs: 60_000, maxRestaurants: 2 },
    );
    await cache.read('busy', [], 0);
    await cache.read('quiet', [], 0);
    await cache.read('busy', [], 1); // from memory, and now the most recent
    await cache.read('new', [], 2);
    await cache.read('busy', [], 3); // still in memory
    expect(reads).toEqual(['busy', 'quiet', 'new']);
    await cache.read('quiet', [], 4); // evicted: read again
    expect(reads).toEqual(['busy', 'quiet', 'new', 'quiet']);
  });
});
