import { describe, expect, it } from 'vitest';
import { createMenuCache } from './menu-cache.js';
import { pickLanguage, renderMenu } from './menu-view.js';
import type { MenuRecord } from './model.js';
import { WEEKDAYS, parseLocalDateTime } from './rules/hours.js';

const render =
  (version: number, validUntilMs = Number.MAX_SAFE_INTEGER) =>
  async () => ({ body: { version }, version, validUntilMs, active: true });

describe('menu cache', () => {
  it('renders once for concurrent misses and serves the bytes until expiry', async () => {
    const cache = createMenuCache({ ttlMs: 5_000, maxEntries: 10 });
    let renders = 0;
    const counting = async () => {
      renders += 1;
      return render(1)();
    };
    const [a, b] = await Promise.all([
      cache.load('r1', 'fr', 0, counting),
      cache.load('r1', 'fr', 0, counting),
    ]);
    expect(renders).toBe(1);
    expect(a).toBe(b);
    expect(cache.get('r1', 'fr', 4_999)).toBe(a);
    expect(cache.get('r1', 'fr', 5_000)).toBeUndefined();
  });

  it('expires at the next availability boundary when that comes before the TTL', async () => {
    const cache = createMenuCache({ ttlMs: 5_000, maxEntries: 10 });
    await cache.load('r1', 'fr', 0, render(1, 1_000));
    expect(cache.get('r1', 'fr', 999)).toBeDefined();
    expect(cache.get('r1', 'fr', 1_000)).toBeUndefined();
  });

  it('never stores a render that started before an invalidation', async () => {
    const cache = createMenuCache({ ttlMs: 5_000, maxEntries: 10 });
    let release: () => void = () => undefined;
    const slow = cache.load('r1', 'fr', 0, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return render(1)();
    });
    cache.invalidate('r1');
    release();
    await slow;
    expect(cache.get('r1', 'fr', 1)).toBeUndefined();
    const fresh = await cache.load('r1', 'fr', 1, render(2));
    expect(fresh?.version).toBe(2);
    expect(fresh?.etag).toMatch(/^"m2-/);
  });

  it('holds at most maxEntries, evicting the oldest', async () => {
    const cache = createMenuCache({ ttlMs: 5_000, maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) await cache.load(id, 'fr', 0, render(1));
    expect(cache.size()).toBe(3);
    expect(cache.get('a', 'fr', 1)).toBeUndefined();
    expect(cache.get('d', 'fr', 1)).toBeDefined();
  });
});

describe('menu view', () => {
  const menu: MenuRecord = {
    restaurant: {
      id: 'r',
      ownerId: 'o',
      name: 'Chez Mama',
      legalName: 'x',
      taxId: 'x',
      description: undefined,
      documents: [],
      contact: {},
      cuisines: ['cameroonian'],
      city: 'douala',
      address: 'Akwa',
      location: { latitude: 4, longitude: 9 },
      deliveryRadiusM: 5000,
      deliveryZones: null,
      prepTimeMinutes: 20,
      openingHours: Object.fromEntries(WEEKDAYS.map((day) => [day, [{ opens: '08:00', closes: '22:00' }]])),
      closureRules: { closures: [], holidays: [] },
      status: 'active',
      statusReason: null,
      ratingAverage: 4.5,
      ratingCount: 2,
      priceAverage: 2500,
      menuVersion: 3,
      logo: null,
      cover: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    },
    categories: [
      {
        id: 'c',
        restaurantId: 'r',
        name: { fr: 'Plats', en: 'Mains' },
        position: 0,
        schedule: null,
        archived: false,
      },
    ],
    items: [
      {
        id: 'i1',
        restaurantId: 'r',
        categoryId: 'c',
        name: { fr: 'Ndolè', en: 'Ndole' },
        description: undefined,
        price: 3000n,
        discountPrice: null,
        costPrice: 1000n,
        images: [],
        photo: null,
        allergens: [],
        nutrition: null,
        prepTimeMinutes: null,
        schedule: null,
        stock: null,
        isAvailable: true,
        position: 0,
        archived: false,
      },
      {
        id: 'i2',
        restaurantId: 'r',
        categoryId: 'c',
        name: { fr: 'Koki' },
        description: undefined,
        price: 1500n,
        discountPrice: 1200n,
        costPrice: null,
        images: [],
        photo: null,
        allergens: [],
        nutrition: null,
        prepTimeMinutes: 15,
        schedule: null,
        stock: 0,
        isAvailable: true,
        position: 1,
        archived: false,
      },
    ],
    modifierGroups: [],
  };

  it('sends one language, no null, empty or false field, and never the cost price', () => {
    const { body, validUntilMs } = renderMenu(menu, 'en', parseLocalDateTime('2026-11-24T12:00')!);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/null|false|\[\]|\{\}|""|cost/i);
    const items = (body.categories as { items: Record<string, unknown>[] }[])[0]!.items;
    expect(items[0]).toEqual({ id: 'i1', name: 'Ndole', price: 3000, orderable: true });
    expect(items[1]).toEqual({
      id: 'i2',
      name: 'Koki',
      price: 1200,
      was: 1500,
      prepTimeMinutes: 15,
      reason: 'sold_out',
    });
    // Valid until closing time (22:00 local) at the latest.
    expect(validUntilMs).toBe(parseLocalDateTime('2026-11-24T22:00')!.getTime());
  });

  it('marks nothing orderable when closed and says when it opens', () => {
    const { body } = renderMenu(menu, 'fr', parseLocalDateTime('2026-11-24T23:00')!);
    expect(body.openNow).toBeUndefined();
    expect(body.nextOpeningAt).toBe(parseLocalDateTime('2026-11-25T08:00')!.toISOString());
    expect(JSON.stringify(body)).not.toContain('orderable');
  });

  it('picks the language by quality from Accept-Language', () => {
    expect(pickLanguage(undefined)).toBe('fr');
    expect(pickLanguage('en-GB,en;q=0.9,fr;q=0.8')).toBe('en');
    expect(pickLanguage('fr-CM, en;q=0.5')).toBe('fr');
    expect(pickLanguage('de')).toBe('fr');
  });
});

describe('menu cache eviction', () => {
  it('evicts the least recently read menu, not the oldest stored: a busy menu stays', async () => {
    const cache = createMenuCache({ ttlMs: 60_000, maxEntries: 2 });
    await cache.load('busy', 'fr', 0, render(1));
    await cache.load('quiet', 'fr', 0, render(1));
    expect(cache.get('busy', 'fr', 1)).toBeDefined(); // read again: now the most recent
    await cache.load('new', 'fr', 2, render(1));
    expect(cache.size()).toBe(2);
    expect(cache.get('busy', 'fr', 3)).toBeDefined();
    expect(cache.get('quiet', 'fr', 3)).toBeUndefined();
  });
});
