/**
 * Semantic search rules that need no database and no model (issue #27): the text a dish or a
 * restaurant is embedded from and its content hash, cosine similarity, the blend of semantic and
 * full-text scores, the filters a sentence implies ("pas cher", "sans viande", "near Akwa"), and
 * the checks on an uploaded clip or photo (magic bytes, a WAV's duration).
 */
import { createHash } from 'node:crypto';
import { PRICE_TIER_BOUNDS_XAF, normalizeText } from '../rules/search.js';

/** Dimensions asked of the embedding model (Gemini's embeddings take `outputDimensionality`). */
export const EMBEDDING_DIMENSIONS = 256;
/** Texts per `batchEmbedContents` call (the Gemini API's own limit is 100). */
export const EMBED_BATCH_SIZE = 100;
/** At most this many dishes are scored per semantic query (cosine in process, see docs). */
export const SEMANTIC_CANDIDATES = 3_000;
/** Weight of the semantic score in the blend; the rest is the full-text score. */
export const SEMANTIC_WEIGHT = 0.7;
/** A dish at or under this price is "cheap" / "pas cher" (the first price tier's bound + 500). */
export const CHEAP_DISH_MAX_XAF = PRICE_TIER_BOUNDS_XAF[0] + 500;
export const MAX_SEMANTIC_LIMIT = 20;
export const DEFAULT_SEMANTIC_LIMIT = 10;
/** Voice clips: bytes and, where the format says it (WAV), seconds. */
export const MAX_AUDIO_BYTES = 1_048_576;
export const MAX_AUDIO_SECONDS = 15;
/** Photos: bytes. */
export const MAX_IMAGE_BYTES = 4 * 1_048_576;
/** What is kept of a transcript or an image description (it becomes a search query). */
export const MAX_DERIVED_QUERY_CHARS = 200;

export function priceBandWords(price: number): string {
  if (price <= CHEAP_DISH_MAX_XAF) return 'pas cher, cheap';
  if (price < PRICE_TIER_BOUNDS_XAF[2]) return 'prix moyen, mid-priced';
  return 'cher, pricey';
}

export interface EmbeddableItem {
  nameFr: string;
  nameEn: string | null;
  descriptionFr: string | null;
  descriptionEn: string | null;
  price: number;
  cuisines: string[];
}

/** A dish as the model reads it: names, descriptions, its restaurant's cuisines, its price band. */
export function itemEmbeddingText(item: EmbeddableItem): string {
  return [
    item.nameEn === null ? item.nameFr : `${item.nameFr} / ${item.nameEn}`,
    item.descriptionFr,
    item.descriptionEn,
    item.cuisines.length > 0 ? `Cuisine: ${item.cuisines.join(', ')}` : null,
    `Prix: ${priceBandWords(item.price)}`,
  ]
    .filter((part): part is string => part !== null && part.trim().length > 0)
    .join('. ');
}

export interface EmbeddableRestaurant {
  name: string;
  descriptionFr: string | null;
  descriptionEn: string | null;
  cuisines: string[];
  priceAverage: number;
}

export function restaurantEmbeddingText(restaurant: EmbeddableRestaurant): string {
  return [
    restaurant.name,
    restaurant.descriptionFr,
    restaurant.descriptionEn,
    restaurant.cuisines.length > 0 ? `Cuisine: ${restaurant.cuisines.join(', ')}` : null,
    `Prix: ${priceBandWords(restaurant.priceAverage)}`,
  ]
    .filter((part): part is string => part !== null && part.trim().length > 0)
    .join('. ');
}

/** Same model and same text, same hash: the indexer skips it. */
export function contentHash(model: string, text: string): string {
  return createHash('sha256').update(`${model}\n${text}`).digest('hex');
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  const length = Math.min(a.length, b.length);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < length; index += 1) {
    dot += a[index]! * b[index]!;
    normA += a[index]! * a[index]!;
    normB += b[index]! * b[index]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/**
 * The blend: the semantic score (cosine, which Gemini's embeddings keep within about 0.3-1, so
 * rescaled over the candidates' own range) weighted SEMANTIC_WEIGHT, plus the full-text rank
 * (ts_rank divided by the best candidate's) for the rest. Without a semantic score, full text alone.
 */
export function blendScores(
  candidates: readonly { fullText: number; semantic: number | null }[],
  semanticWeight = SEMANTIC_WEIGHT,
): number[] {
  const semantic = candidates.map((c) => c.semantic).filter((s): s is number => s !== null);
  const low = semantic.length === 0 ? 0 : Math.min(...semantic);
  const high = semantic.length === 0 ? 0 : Math.max(...semantic);
  const bestFullText = Math.max(0, ...candidates.map((c) => c.fullText));
  return candidates.map((c) => {
    const fullText = bestFullText === 0 ? 0 : c.fullText / bestFullText;
    if (c.semantic === null || semantic.length === 0) return fullText;
    const scaled = high === low ? 1 : (c.semantic - low) / (high - low);
    return semanticWeight * scaled + (1 - semanticWeight) * fullText;
  });
}

/** Words that carry no dish meaning in a sentence; left out of the full-text query. */
const STOP_WORDS = new Set(
  (
    'a au aux avec ce ces de des du en et je la le les moi mon me ma mes ne on ou par pas pour qui que quelque ' +
    'chose sans sur un une veux voudrais aimerais cherche trouve donne envie plat plats manger ' +
    'a an and any anything for from i in is it me my near of on or some something the to want with without ' +
    'would like food dish dishes please give find show around close vers pres cote'
  ).split(' '),
);

/** Words kept for the full-text half (at most 8): the sentence minus stop words and intent words. */
export function fullTextWords(text: string, intent: QueryIntent): string[] {
  // The place stays: it matches no dish, and a false place ("a pizza") must not lose its word.
  const dropped = new Set(intent.consumedWords);
  return [
    ...new Set(
      (normalizeText(text).match(/[a-z0-9]+/g) ?? []).filter(
        (word) => word.length >= 2 && !STOP_WORDS.has(word) && !dropped.has(word),
      ),
    ),
  ].slice(0, 8);
}

/** Any of the words (each a prefix): a sentence's words are alternatives, ranked by ts_rank. */
export function anyWordTsquery(words: readonly string[]): string {
  return words.map((word) => `${word}:*`).join(' | ');
}

/** What the sentence asks for beyond meaning, applied as filters (documented in docs/catalog.md). */
export interface QueryIntent {
  /** "cheap", "pas cher", "bon marché", "petit prix": dishes at or under CHEAP_DISH_MAX_XAF. */
  maxPrice?: number;
  /** "sans viande", "no meat", "végétarien", "vegetarian", "vegan": no dish named with meat. */
  noMeat: boolean;
  /** "végétarien", "vegetarian", "vegan": no fish or seafood either. */
  noFish: boolean;
  /** "near Akwa", "à Bastos", "vers Deido": lifts restaurants whose address names the place (a boost). */
  place?: string;
  /** Words the intent used up (kept out of the full-text query). */
  consumedWords: string[];
}

/** Words (normalised) that name meat in a dish; a "sans viande" query drops dishes holding one. */
export const MEAT_WORDS = [
  'viande',
  'boeuf',
  'beef',
  'poulet',
  'chicken',
  'porc',
  'pork',
  'chevre',
  'goat',
  'mouton',
  'lamb',
  'agneau',
  'soya',
  'suya',
  'kati',
  'burger',
  'shawarma',
  'saucisse',
  'sausage',
  'jambon',
  'ham',
  'kondre',
  'brochettes',
  'skewers',
];
export const FISH_WORDS = [
  'poisson',
  'fish',
  'crevettes',
  'shrimp',
  'bar',
  'maquereau',
  'mackerel',
  'morue',
  'cod',
  'tilapia',
  'seafood',
];

const CHEAP =
  /\b(cheap|cheapest|inexpensive|affordable|budget|pas cher|pas chere|bon marche|petit prix|economique)\b/;
const NO_MEAT =
  /\b(sans viande|no meat|without meat|meatless|vegetarien|vegetarienne|vegetarian|vegan|vegane|veggie)\b/;
const VEGETARIAN = /\b(vegetarien|vegetarienne|vegetarian|vegan|vegane|veggie)\b/;
const PLACE =
  /\b(?:near|around|in|at|a|au|vers|pres de|a cote de|dans le quartier)\s+([a-z][a-z0-9-]{2,30})\b/;
/** Words after "near"/"à" that are not places ("à emporter", "in a hurry"). */
const NOT_PLACES = new Set(['emporter', 'the', 'une', 'hurry', 'midi', 'manger', 'moins', 'prix', 'volonte']);

export function queryIntent(text: string): QueryIntent {
  const normal = normalizeText(text).replace(/\s+/g, ' ');
  const consumed: string[] = [];
  const intent: QueryIntent = { noMeat: false, noFish: false, consumedWords: consumed };
  const cheap = CHEAP.exec(normal);
  if (cheap !== null) {
    intent.maxPrice = CHEAP_DISH_MAX_XAF;
    consumed.push(...cheap[1]!.split(' '));
  }
  const noMeat = NO_MEAT.exec(normal);
  if (noMeat !== null) {
    intent.noMeat = true;
    intent.noFish = VEGETARIAN.test(normal);
    consumed.push(...noMeat[1]!.split(' '));
  }
  const place = PLACE.exec(normal);
  if (place !== null && !NOT_PLACES.has(place[1]!) && !MEAT_WORDS.includes(place[1]!))
    intent.place = place[1]!;
  return intent;
}

// ---- media checks

export type AudioType = 'audio/wav' | 'audio/mpeg' | 'audio/ogg' | 'audio/flac' | 'audio/aac';
export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

/** Declared content types accepted for a clip, and the format each must be. */
export const AUDIO_CONTENT_TYPES: Readonly<Record<string, AudioType>> = {
  'audio/wav': 'audio/wav',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/mpeg': 'audio/mpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/ogg': 'audio/ogg',
  'audio/flac': 'audio/flac',
  'audio/aac': 'audio/aac',
};
export const IMAGE_CONTENT_TYPES: Readonly<Record<string, ImageType>> = {
  'image/jpeg': 'image/jpeg',
  'image/jpg': 'image/jpeg',
  'image/png': 'image/png',
  'image/webp': 'image/webp',
};

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.subarray(start, end)).toString('latin1');

/** The audio format the bytes are, by their magic numbers; undefined when none we take. */
export function sniffAudio(bytes: Uint8Array): AudioType | undefined {
  if (bytes.length < 12) return undefined;
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(bytes, 0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(bytes, 0, 4) === 'fLaC') return 'audio/flac';
  if (ascii(bytes, 0, 3) === 'ID3') return 'audio/mpeg';
  if (bytes[0] === 0xff && (bytes[1]! & 0xf6) === 0xf0) return 'audio/aac'; // ADTS
  if (bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0) return 'audio/mpeg'; // MPEG frame sync
  return undefined;
}

export function sniffImage(bytes: Uint8Array): ImageType | undefined {
  if (bytes.length < 12) return undefined;
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

/**
 * A WAV file's duration in seconds from its `fmt ` (byte rate) and `data` (size) chunks;
 * undefined when the header does not tell it (malformed, or a streaming size of 0/0xFFFFFFFF).
 */
export function wavSeconds(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  let byteRate: number | undefined;
  while (offset + 8 <= bytes.length) {
    const id = ascii(bytes, offset, offset + 4);
    const size = view.getUint32(offset + 4, true);
    if (id === 'fmt ' && offset + 16 <= bytes.length) byteRate = view.getUint32(offset + 16, true);
    if (id === 'data') {
      if (byteRate === undefined || byteRate === 0 || size === 0 || size === 0xffffffff) return undefined;
      // A header may claim more data than was sent: what was sent is what plays.
      const available = Math.min(size, bytes.length - (offset + 8));
      return available / byteRate;
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** The transcript or description as a query: one line, no control characters, bounded. */
export function derivedQuery(text: string): string {
  return (
    text
      // Control characters (C0 and DEL) become spaces: the model's words are one line of text.
      .replace(/\p{Cc}+/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_DERIVED_QUERY_CHARS)
  );
}
