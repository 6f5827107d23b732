/**
 * Search rules that need no database: normalising the customer's text the way
 * `catalog_normalize` does in SQL, building prefix tsqueries, price tiers and the default sort.
 */
export const MIN_QUERY_LENGTH = 2;
export const MAX_QUERY_LENGTH = 100;
export const MAX_QUERY_WORDS = 8;
export const MAX_PAGE_SIZE = 50;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_AUTOCOMPLETE = 10;

export const SORTS = ['relevance', 'rating', 'price', 'distance', 'delivery_time'] as const;
export type SearchSort = (typeof SORTS)[number];

/** Upper bounds (exclusive) of price tiers 1-3 on the average dish price, XAF; tier 4 is above. */
export const PRICE_TIER_BOUNDS_XAF = [2_000, 4_000, 7_000] as const;

export function priceTier(averagePriceXaf: number): 1 | 2 | 3 | 4 {
  const index = PRICE_TIER_BOUNDS_XAF.findIndex((bound) => averagePriceXaf < bound);
  return (index === -1 ? 4 : index + 1) as 1 | 2 | 3 | 4;
}

/** Lower case without accents ("Ndolè" → "ndole"), like unaccent + lower in SQL for Latin text. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

export function queryWords(text: string): string[] {
  return (normalizeText(text).match(/[a-z0-9]+/g) ?? []).slice(0, MAX_QUERY_WORDS);
}

/**
 * 'poulet:* & dg:*' — every word, each as a prefix so typing-in-progress matches, widened with
 * its typo corrections: '(ndolle:* | ndole) & …'. Words are [a-z0-9]+ only, so the string is
 * always valid tsquery syntax.
 */
export function prefixTsquery(
  words: readonly string[],
  corrections: ReadonlyMap<string, readonly string[]> = new Map(),
): string {
  return words
    .map((word) => {
      const alternatives = (corrections.get(word) ?? []).filter((candidate) => /^[a-z0-9]+$/.test(candidate));
      return alternatives.length === 0 ? `${word}:*` : `(${[`${word}:*`, ...alternatives].join(' | ')})`;
    })
    .join(' & ');
}

/** Relevance needs text; without it the most useful order is distance (with a point) or rating. */
export function resolveSort(
  requested: SearchSort | undefined,
  hasText: boolean,
  hasPoint: boolean,
): SearchSort {
  if (requested !== undefined && !(requested === 'relevance' && !hasText)) return requested;
  if (hasText) return 'relevance';
  return hasPoint ? 'distance' : 'rating';
}
