import { describe, expect, it } from 'vitest';
import type { DomainError } from '../../shared/errors.js';
import { parseSearch, createSearchService } from './search-service.js';
import type { SearchRepository, SearchResult } from './search-repository.js';

const empty: SearchResult = {
  rows: [],
  total: 0,
  matchedItems: {},
  facets: { cuisines: {}, openNow: 0, priceTiers: {}, ratings: {}, deliveryTimes: {} },
};

/** A repository that counts calls and answers when told: it tests the cache, not the SQL. */
function countingRepository() {
  const calls = { search: 0 };
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const repository = {
    async search() {
      calls.search += 1;
      await gate;
      return empty;
    },
    async similarWords() {
      return new Map<string, string[]>();
    },
    async autocompleteRestaurants() {
      return [];
    },
    async autocompleteDishes() {
      return [];
    },
  } as unknown as SearchRepository;
  return {
    repository,
    calls,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

describe('search service', () => {
  it('runs one query for concurrent identical searches and serves repeats from the page cache', async () => {
    const fake = countingRepository();
    const service = createSearchService(fake.repository, () => new Date());
    fake.hold();
    const pending = Array.from({ length: 10 }, () => service.search({ q: 'ndole' }));
    fake.release();
    await Promise.all(pending);
    await service.search({ q: 'ndole' });
    expect(fake.calls.search).toBe(1);
    await service.search({ q: 'eru' });
    expect(fake.calls.search).toBe(2);
  });

  it('never stores a page whose query started before an invalidation', async () => {
    const fake = countingRepository();
    const service = createSearchService(fake.repository, () => new Date());
    fake.hold();
    const first = service.search({ q: 'koki' });
    service.invalidate();
    fake.release();
    await first;
    await service.search({ q: 'koki' });
    expect(fake.calls.search).toBe(2);
  });

  it('turns query strings into a query, refusing what the schema cannot', () => {
    const at = new Date('2026-11-24T11:00:00Z');
    const query = parseSearch({ q: 'Poulet  DG!', cuisine: ['cameroonian,grill'], lat: 4.05, lng: 9.7 }, at);
    expect(query).toMatchObject({
      words: ['poulet', 'dg'],
      cuisines: ['cameroonian', 'grill'],
      sort: 'relevance',
      limit: 20,
    });
    expect(parseSearch({ lat: 4.05, lng: 9.7 }, at).sort).toBe('distance');
    // To a centimetre: a subnormal coordinate (PostgreSQL's float8 refuses it) becomes 0.
    expect(parseSearch({ lat: 1.5e-323, lng: 9.123456789 }, at).point).toEqual({
      latitude: 0,
      longitude: 9.1234568,
    });
    expect(parseSearch({}, at).sort).toBe('rating');
    const code = (input: Parameters<typeof parseSearch>[0]) => {
      try {
        parseSearch(input, at);
        return 'accepted';
      } catch (error) {
        return (error as DomainError).code;
      }
    };
    expect(code({ q: 'x' })).toBe('query_too_short');
    expect(code({ q: '!!' })).toBe('query_too_short');
    expect(code({ priceMin: 5000, priceMax: 1000 })).toBe('invalid_price_range');
    expect(code({ maxDeliveryMinutes: 30 })).toBe('point_required');
    expect(code({ cuisine: ['sushi'] })).toBe('unknown_cuisine');
  });
});
