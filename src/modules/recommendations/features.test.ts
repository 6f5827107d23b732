import { describe, expect, it } from 'vitest';
import {
  cellOf,
  FEATURE_COUNT,
  FEATURE_NAMES,
  featureRows,
  HistoryStats,
  isWeekend,
  seasonalRain,
  sectionOfCategory,
  slotOf,
  type CandidateItem,
} from './features.js';

const DOUALA = { latitude: 4.05, longitude: 9.77 };
const item = (itemId: string, overrides: Partial<CandidateItem> = {}): CandidateItem => ({
  itemId,
  restaurantId: 'r1',
  section: 'mains',
  priceMinor: 2500,
  cuisine: 'cameroonian',
  ...DOUALA,
  ...overrides,
});
const ndole = item('ndole');
const jus = item('jus', { section: 'drinks', priceMinor: 500 });
const beignets = item('beignets', { section: 'breakfast', priceMinor: 300, restaurantId: 'r2' });
const items = new Map([ndole, jus, beignets].map((candidate) => [candidate.itemId, candidate]));
// Tuesday 2 June 2026, 12:30 in Douala (11:30 UTC).
const noon = Date.UTC(2026, 5, 2, 11, 30);
const feature = (rows: Float32Array, row: number, name: (typeof FEATURE_NAMES)[number]) =>
  rows[row * FEATURE_COUNT + FEATURE_NAMES.indexOf(name)]!;

describe('time, place and content', () => {
  it('reads slots and weekends in Douala time', () => {
    expect(slotOf(Date.UTC(2026, 5, 2, 5, 0))).toBe('breakfast'); // 06:00 local
    expect(slotOf(noon)).toBe('lunch');
    expect(slotOf(Date.UTC(2026, 5, 2, 18, 0))).toBe('dinner');
    expect(slotOf(Date.UTC(2026, 5, 2, 22, 30))).toBe('late'); // 23:30 local
    expect(isWeekend(Date.UTC(2026, 5, 5, 23, 30))).toBe(true); // Saturday 00:30 local
    expect(isWeekend(noon)).toBe(false);
  });

  it('maps categories to sections in French or English, a main course otherwise', () => {
    expect(sectionOfCategory('Petit-déjeuner', null)).toBe('breakfast');
    expect(sectionOfCategory('Boissons', 'Drinks')).toBe('drinks');
    expect(sectionOfCategory('Grillades', null)).toBe('grill');
    expect(sectionOfCategory('Plats', null)).toBe('mains');
    expect(sectionOfCategory('\u0000', null)).toBe('mains');
  });

  it('buckets places into 0.02° cells and the season into rain or dry by city', () => {
    expect(cellOf(4.0611, 9.7719)).toBe('203:488');
    expect(cellOf(4.0799, 9.7799)).toBe('203:488');
    expect(seasonalRain(Date.UTC(2026, 7, 10), DOUALA)).toBe(true); // August, Douala
    expect(seasonalRain(Date.UTC(2026, 7, 10), { latitude: 3.85, longitude: 11.5 })).toBe(false); // Yaoundé
    expect(seasonalRain(Date.UTC(2026, 0, 10), null)).toBe(false);
  });
});

describe('featureRows', () => {
  it('gives a guest only context and popularity, and a customer their own history', () => {
    const stats = new HistoryStats((id) => items.get(id));
    const day = 86_400_000;
    stats.add({
      orderId: 'o1',
      customerId: 'c1',
      restaurantId: 'r1',
      lines: [
        { itemId: 'ndole', quantity: 1 },
        { itemId: 'jus', quantity: 2 },
      ],
      at: noon - 3 * day,
      cell: cellOf(DOUALA.latitude, DOUALA.longitude),
    });
    stats.add({
      orderId: 'o2',
      customerId: 'c1',
      restaurantId: 'r1',
      lines: [{ itemId: 'ndole', quantity: 1 }],
      at: noon - day,
      cell: null,
    });
    stats.add({
      orderId: 'o3',
      customerId: 'c2',
      restaurantId: 'r1',
      lines: [{ itemId: 'jus', quantity: 1 }],
      at: noon - day,
      cell: null,
    });
    const context = { at: noon, rain: true, location: DOUALA };
    const rows = featureRows(stats, 'c1', context, [ndole, jus, beignets]);
    expect(rows).toHaveLength(3 * FEATURE_COUNT);
    expect(feature(rows, 0, 'customer_item_count_log')).toBeCloseTo(Math.log(3));
    expect(feature(rows, 0, 'customer_item_recency')).toBeCloseTo(Math.exp(-1 / 14));
    expect(feature(rows, 0, 'customer_restaurant_share')).toBe(1);
    expect(feature(rows, 2, 'customer_item_count_log')).toBe(0);
    expect(feature(rows, 0, 'customer_section_share')).toBeCloseTo(2 / 3);
    // c2 ordered jus, c1 ordered jus and ndole: ndole and jus were ordered by the same customer.
    expect(feature(rows, 0, 'co_ordering')).toBeGreaterThan(0);
    expect(feature(rows, 2, 'co_ordering')).toBe(0);
    // Popularity decays with a two-week half-life: jus had 2 orders, 3 days and 1 day ago.
    expect(feature(rows, 1, 'item_popularity_log')).toBeCloseTo(
      Math.log1p(Math.pow(0.5, 3 / 14) + Math.pow(0.5, 1 / 14)),
      5,
    );
    expect(feature(rows, 1, 'cell_item_popularity_log')).toBeCloseTo(Math.log1p(Math.pow(0.5, 3 / 14)), 5);
    expect(feature(rows, 0, 'slot_lunch')).toBe(1);
    expect(feature(rows, 0, 'rain')).toBe(1);
    expect(feature(rows, 1, 'section_drinks')).toBe(1);
    expect(feature(rows, 0, 'distance_10km')).toBe(0);

    const guest = featureRows(stats, null, { at: noon, rain: false, location: null }, [ndole]);
    expect(feature(guest, 0, 'customer_item_count_log')).toBe(0);
    expect(feature(guest, 0, 'co_ordering')).toBe(0);
    expect(feature(guest, 0, 'has_location')).toBe(0);
    expect(feature(guest, 0, 'item_popularity_log')).toBeGreaterThan(0);
  });

  it('never sees an order before it is folded, and skips dishes it does not know', () => {
    const stats = new HistoryStats((id) => items.get(id));
    const before = featureRows(stats, 'c1', { at: noon, rain: false, location: null }, [ndole]);
    stats.add({
      orderId: 'o1',
      customerId: 'c1',
      restaurantId: 'r1',
      lines: [{ itemId: 'unknown', quantity: 1 }],
      at: noon,
      cell: null,
    });
    expect(stats.items.has('unknown')).toBe(false);
    expect(feature(before, 0, 'customer_orders_log')).toBe(0);
    for (const value of before) expect(Number.isFinite(value)).toBe(true);
  });
});
