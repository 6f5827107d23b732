import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CUISINE_CODES, unknownCuisines } from './cuisines.js';
import { deliveryEstimateMinutes, haversineMeters, boundingBox } from './geo.js';
import {
  checkModifierSelection,
  effectivePrice,
  itemAvailability,
  validateModifierGroup,
  validatePrices,
  type AvailabilityInput,
} from './menu.js';
import { decodeCursor, encodeCursor } from './cursor.js';

const open: AvailabilityInput = {
  restaurantActive: true,
  restaurantOpen: true,
  minuteOfWeek: 600,
  category: { archived: false, scheduleRanges: null },
  item: { archived: false, isAvailable: true, stock: null, scheduleRanges: null },
};

describe('menu rules', () => {
  it('disables an item at zero stock and re-enables it on restock', () => {
    expect(itemAvailability({ ...open, item: { ...open.item, stock: 0 } })).toEqual({
      orderable: false,
      reason: 'sold_out',
    });
    expect(itemAvailability({ ...open, item: { ...open.item, stock: 3 } })).toEqual({ orderable: true });
  });

  it('respects schedules, closing and the owner switch', () => {
    const breakfast = [[360, 660]] as const;
    expect(
      itemAvailability({ ...open, item: { ...open.item, scheduleRanges: breakfast }, minuteOfWeek: 700 }),
    ).toMatchObject({ reason: 'outside_schedule' });
    expect(
      itemAvailability({
        ...open,
        category: { archived: false, scheduleRanges: breakfast },
        minuteOfWeek: 400,
      }),
    ).toEqual({ orderable: true });
    expect(itemAvailability({ ...open, restaurantOpen: false })).toMatchObject({
      reason: 'restaurant_closed',
    });
    expect(itemAvailability({ ...open, restaurantActive: false })).toMatchObject({
      reason: 'restaurant_not_active',
    });
    expect(itemAvailability({ ...open, item: { ...open.item, isAvailable: false } })).toMatchObject({
      reason: 'disabled',
    });
  });

  it('rejects negative or fractional prices and a discount above the price', () => {
    expect(validatePrices({ price: 2500, discountPrice: 2000, costPrice: 1200 })).toEqual([]);
    expect(validatePrices({ price: -1 })).toHaveLength(1);
    expect(validatePrices({ price: 10.5 })).toHaveLength(1);
    expect(validatePrices({ price: 1000, discountPrice: 1200 })).toHaveLength(1);
    expect(effectivePrice(2500n, 2000n)).toBe(2000n);
    expect(effectivePrice(2500n, null)).toBe(2500n);
  });

  it('rejects a modifier group whose min exceeds its max', () => {
    const options = [
      { name: { fr: 'Piment' }, priceDelta: 0, available: true },
      { name: { fr: 'Plantain' }, priceDelta: 300, available: true },
    ];
    expect(validateModifierGroup({ minSelections: 0, maxSelections: 2, options })).toEqual([]);
    expect(validateModifierGroup({ minSelections: 2, maxSelections: 1, options })[0]).toMatch(
      /minSelections/,
    );
    expect(validateModifierGroup({ minSelections: 0, maxSelections: 3, options })).toHaveLength(1);
  });

  it('checks a selection against min/max and sums price deltas', () => {
    const group = {
      id: 'g',
      name: { fr: 'Accompagnement' },
      minSelections: 1,
      maxSelections: 1,
      options: [
        { id: 'a', name: { fr: 'Miondo' }, priceDelta: 0, available: true },
        { id: 'b', name: { fr: 'Plantain' }, priceDelta: 300, available: true },
        { id: 'c', name: { fr: 'Riz' }, priceDelta: 200, available: false },
      ],
    };
    expect(checkModifierSelection([group], ['b'])).toMatchObject({ ok: true, priceDelta: 300 });
    expect(checkModifierSelection([group], [])).toMatchObject({ ok: false });
    expect(checkModifierSelection([group], ['a', 'b'])).toMatchObject({ ok: false });
    expect(checkModifierSelection([group], ['c'])).toMatchObject({ ok: false });
    expect(checkModifierSelection([group], ['zz'])).toMatchObject({ ok: false });
  });

  it('measures Douala to Yaoundé at about 200 km and estimates delivery from distance', () => {
    const km =
      haversineMeters({ latitude: 4.0511, longitude: 9.7679 }, { latitude: 3.848, longitude: 11.5021 }) /
      1000;
    expect(km).toBeGreaterThan(190);
    expect(km).toBeLessThan(200);
    expect(deliveryEstimateMinutes(20, 0)).toBe(25);
    expect(deliveryEstimateMinutes(20, 3000)).toBe(20 + Math.ceil(3900 / 333) + 5);
  });

  it('bounding box contains every point within the radius (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1.7, max: 13, noNaN: true }),
        fc.double({ min: 8.5, max: 16, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        fc.double({ min: 0, max: 49_000, noNaN: true }),
        (latitude, longitude, bearing, distance) => {
          const box = boundingBox({ latitude, longitude }, 50_000);
          const point = {
            latitude: latitude + ((distance * Math.cos(bearing)) / 6_371_000) * (180 / Math.PI),
            longitude:
              longitude +
              ((distance * Math.sin(bearing)) / (6_371_000 * Math.cos((latitude * Math.PI) / 180))) *
                (180 / Math.PI),
          };
          if (haversineMeters({ latitude, longitude }, point) > 50_000) return;
          expect(point.latitude).toBeGreaterThanOrEqual(box.minLat);
          expect(point.latitude).toBeLessThanOrEqual(box.maxLat);
          expect(point.longitude).toBeGreaterThanOrEqual(box.minLng);
          expect(point.longitude).toBeLessThanOrEqual(box.maxLng);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names unknown cuisines and round-trips cursors, refusing tampered ones', () => {
    expect(unknownCuisines(['cameroonian', 'martian'])).toEqual(['martian']);
    expect(CUISINE_CODES).toContain('grill');
    const cursor = encodeCursor({
      keys: [4.5, 'x'],
      id: '00000000-0000-4000-8000-000000000000',
      fingerprint: 'abc',
    });
    expect(decodeCursor(cursor)).toEqual({
      keys: [4.5, 'x'],
      id: '00000000-0000-4000-8000-000000000000',
      fingerprint: 'abc',
    });
    expect(decodeCursor('not a cursor!')).toBeUndefined();
    expect(decodeCursor(Buffer.from('[1,2]').toString('base64url'))).toBeUndefined();
  });
});
