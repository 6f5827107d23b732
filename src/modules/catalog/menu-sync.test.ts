import { describe, expect, it } from 'vitest';
import {
  buildDelta,
  deltaEtag,
  encodeCursor,
  readCursor,
  readFields,
  scheduleFlipped,
  SYNC_WINDOW_MS,
  type RenderedMenu,
} from './menu-sync.js';

const RESTAURANT = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';
const NOW = Date.parse('2026-12-06T05:00:00Z');

const menu: RenderedMenu = {
  restaurantId: RESTAURANT,
  version: 7,
  openNow: true,
  categories: [
    {
      id: 'c1',
      name: 'Plats',
      items: [
        { id: 'i1', name: 'Ndolé', price: 2500, orderable: true },
        { id: 'i2', name: 'Eru', price: 3000 },
      ],
    },
    { id: 'c2', name: 'Boissons', items: [{ id: 'i3', name: 'Jus', price: 500, orderable: true }] },
  ],
};

describe('sync cursors', () => {
  it('given a cursor this server gave, then its time; given none, then the whole menu', () => {
    expect(readCursor(encodeCursor(RESTAURANT, NOW - 1_000), RESTAURANT, NOW)).toEqual({
      kind: 'since',
      sinceMs: NOW - 1_000,
    });
    expect(readCursor(undefined, RESTAURANT, NOW)).toEqual({ kind: 'none' });
  });

  it('given a cursor older than 7 days, then expired (the whole menu again)', () => {
    expect(readCursor(encodeCursor(RESTAURANT, NOW - SYNC_WINDOW_MS - 1), RESTAURANT, NOW).kind).toBe(
      'expired',
    );
  });

  it('given garbage, another restaurant’s cursor or one from the future, then invalid', () => {
    for (const text of [
      '',
      'abc',
      '!!',
      'x'.repeat(300),
      Buffer.from('m1.a.b.c').toString('base64url'),
      Buffer.from(`m2.${RESTAURANT}.1`).toString('base64url'),
      Buffer.from(`m1.${RESTAURANT}.-1`).toString('base64url'),
    ])
      expect(readCursor(text, RESTAURANT, NOW).kind).toBe('invalid');
    expect(readCursor(encodeCursor(OTHER, NOW), RESTAURANT, NOW).kind).toBe('invalid');
    expect(readCursor(encodeCursor(RESTAURANT, NOW + 60_000), RESTAURANT, NOW).kind).toBe('invalid');
  });
});

describe('field selection', () => {
  it('given known names, then the selection; given unknown or none, then invalid', () => {
    expect(readFields(undefined)).toEqual({ kind: 'all' });
    expect(readFields('price, orderable')).toEqual({ kind: 'some', fields: new Set(['price', 'orderable']) });
    expect(readFields('price,cost_price')).toEqual({ kind: 'invalid', unknown: ['cost_price'] });
    expect(readFields(' , ')).toMatchObject({ kind: 'invalid' });
  });
});

describe('menu delta', () => {
  it('given no changes, then only the header and the cursor', () => {
    expect(buildDelta(menu, { itemIds: new Set(), categoryIds: new Set() }, 'all', 'next')).toEqual({
      restaurantId: RESTAURANT,
      cursor: 'next',
      version: 7,
      openNow: true,
    });
  });

  it('given a changed item and an archived one, then the changed one with its place, and a tombstone', () => {
    const delta = buildDelta(
      menu,
      { itemIds: new Set(['i2', 'gone']), categoryIds: new Set() },
      'all',
      'next',
    );
    expect(delta.items).toEqual([{ id: 'i2', name: 'Eru', price: 3000, categoryId: 'c1', position: 1 }]);
    expect(delta.removed).toEqual(['gone']);
    expect(delta.categories).toBeUndefined();
  });

  it('given a renamed category and an archived one, then the header and a category tombstone', () => {
    const delta = buildDelta(menu, { itemIds: new Set(), categoryIds: new Set(['c2', 'c9']) }, 'all', 'next');
    expect(delta.categories).toEqual([{ id: 'c2', name: 'Boissons', position: 1 }]);
    expect(delta.removedCategories).toEqual(['c9']);
  });

  it('given a reset, then every category and item and no tombstones', () => {
    const delta = buildDelta(menu, 'all', 'all', 'next');
    expect(delta.reset).toBe(true);
    expect((delta.items as unknown[]).length).toBe(3);
    expect((delta.categories as unknown[]).length).toBe(2);
    expect(delta.removed).toBeUndefined();
  });

  it('given a field selection, then the id and only those fields', () => {
    const delta = buildDelta(menu, 'all', new Set(['price', 'orderable'] as const), 'next');
    expect(delta.items).toEqual([
      { id: 'i1', price: 2500, orderable: true },
      { id: 'i2', price: 3000 },
      { id: 'i3', price: 500, orderable: true },
    ]);
  });

  it('given the same content under another cursor, then the same ETag; other content or language, another', () => {
    const a = buildDelta(menu, 'all', 'all', 'one');
    const b = buildDelta(menu, 'all', 'all', 'two');
    expect(deltaEtag(a, 'fr')).toBe(deltaEtag(b, 'fr'));
    expect(deltaEtag(a, 'en')).not.toBe(deltaEtag(a, 'fr'));
    const c = buildDelta(menu, { itemIds: new Set(['i1']), categoryIds: new Set() }, 'all', 'one');
    expect(deltaEtag(c, 'fr')).not.toBe(deltaEtag(a, 'fr'));
  });
});

describe('an item schedule in the delta (its orderable flips without its row changing)', () => {
  // Sunday 6 December 2026; Douala is UTC+1: breakfast 07:00-10:00 local is 06:00-09:00 UTC.
  const breakfast = [{ days: ['sun' as const], opens: '07:00', closes: '10:00' }];
  const at = (utc: string) => new Date(`2026-12-06T${utc}Z`);

  it('given a window that opened or closed between the cursor and now, then it flipped', () => {
    expect(scheduleFlipped(breakfast, at('05:59:30'), at('06:00:00'))).toBe(true);
    expect(scheduleFlipped(breakfast, at('08:30:00'), at('09:05:00'))).toBe(true);
    expect(scheduleFlipped(breakfast, at('05:00:00'), at('10:00:00'))).toBe(true);
  });

  it('given no edge between the cursor and now, no schedule or an empty one, then it did not', () => {
    expect(scheduleFlipped(breakfast, at('06:10:00'), at('08:59:00'))).toBe(false);
    expect(scheduleFlipped(breakfast, at('09:01:00'), at('23:00:00'))).toBe(false);
    expect(scheduleFlipped(null, at('00:00:00'), at('23:59:00'))).toBe(false);
    expect(scheduleFlipped([], at('00:00:00'), at('23:59:00'))).toBe(false);
    // Another day's window: no edge on this Sunday.
    expect(
      scheduleFlipped([{ days: ['mon'], opens: '07:00', closes: '10:00' }], at('00:00:00'), at('22:00:00')),
    ).toBe(false);
  });
});
