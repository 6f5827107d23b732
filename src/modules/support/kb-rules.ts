/**
 * Knowledge-base search rules, pure: how a text becomes words and the words a PostgreSQL tsquery
 * (the catalog's approach: unaccented lower-case words, each a prefix, in the locale's text-search
 * configuration). A search needs every word (AND); suggestions for a ticket need any (OR), ranked.
 */
import type { Locale } from './tables.js';

export const MAX_QUERY_WORDS = 8;
export const MAX_SUGGESTION_WORDS = 24;
const SHORTEST_WORD = 2;

/** PostgreSQL's text-search configuration of each locale. */
export const TEXT_SEARCH_CONFIG: Record<Locale, 'french' | 'english'> = { fr: 'french', en: 'english' };

/** Lower case without accents ("Remboursé" → "rembourse"), as the stored vector is built. */
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

/** The distinct words of a text, [a-z0-9] only (so always valid tsquery syntax), bounded. */
export function wordsOf(text: string, max: number): string[] {
  const words = normalizeText(text.slice(0, 4_000)).match(/[a-z0-9]+/g) ?? [];
  return [...new Set(words.filter((word) => word.length >= SHORTEST_WORD))].slice(0, max);
}

/** 'livraison:* & retard:*': every word, each as a prefix (typing in progress matches). */
export function searchTsquery(text: string): string | undefined {
  const words = wordsOf(text, MAX_QUERY_WORDS);
  return words.length === 0 ? undefined : words.map((word) => `${word}:*`).join(' & ');
}

/** 'livreur | retard | …': any word of a ticket's subject and body, for ranked suggestions. */
export function suggestionTsquery(text: string): string | undefined {
  const words = wordsOf(text, MAX_SUGGESTION_WORDS).filter((word) => !/^\d+$/.test(word));
  return words.length === 0 ? undefined : words.join(' | ');
}

/** The first characters of an article's body, cut at a word, for result lists. */
export function excerptOf(body: string, max = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
