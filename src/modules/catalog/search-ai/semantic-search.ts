/**
 * Search by meaning, voice and photo (issue #27).
 *
 * A sentence is matched two ways and the scores blended (rules.ts `blendScores`): Gemini's
 * embedding of the sentence against each candidate dish's stored embedding (cosine, in process)
 * and PostgreSQL full text (any of the sentence's words, `ts_rank`). The candidates are at most
 * SEMANTIC_CANDIDATES orderable dishes, of the restaurants that deliver to the point when one is
 * given (the restaurant search's own delivery rules), under the filters the sentence implies
 * (rules.ts `queryIntent`). Without a key, with the budget spent, or when Gemini fails or times
 * out, the answer is full text alone (`mode: 'full_text'`, `fallback` says why): never a 500.
 *
 * Voice and photo turn the media into a sentence through Gemini (transcript, description), then
 * search it; they need the model (503 `search_ai_unavailable` without it). The media live in
 * memory for the request only.
 */
import type { Logger } from 'pino';
import { catalogErrors } from '../errors.js';
import { localize, type Language } from '../menu-view.js';
import { normalizeText } from '../rules/search.js';
import {
  MAX_AUDIO_BYTES,
  MAX_AUDIO_SECONDS,
  MAX_IMAGE_BYTES,
  SEMANTIC_CANDIDATES,
  anyWordTsquery,
  blendScores,
  cosine,
  fullTextWords,
  queryIntent,
  sniffAudio,
  sniffImage,
  wavSeconds,
  DEFAULT_SEMANTIC_LIMIT,
  type AudioType,
  type ImageType,
  type QueryIntent,
} from './rules.js';
import { SearchAiError, type SearchAi, type SearchAiFailure } from './port.js';
import type { CandidateRow, SemanticRepository } from './repository.js';

export interface SemanticSearchInput {
  q: string;
  lat?: number;
  lng?: number;
  limit?: number;
  /** `full_text`: skip the model (the evaluation's baseline; a client's cheap mode). */
  mode?: 'auto' | 'full_text';
}

/** Who delivers to a point: the restaurant search's answer (its delivery terms, zones, areas). */
export type DeliveringRestaurants = (point: { lat: number; lng: number }) => Promise<string[]>;

export type Fallback = 'no_model' | SearchAiFailure | 'no_embeddings';

export interface SemanticDish {
  id: string;
  name: string;
  price: number;
  discountPrice?: number;
  image?: string;
  restaurant: { id: string; name: string };
  score: number;
}

export interface SemanticAnswer {
  query: string;
  mode: 'semantic' | 'full_text';
  fallback?: Fallback;
  filters: { maxPrice?: number; noMeat: boolean; noFish: boolean; place?: string };
  items: SemanticDish[];
}

/** Added to the score of a dish whose restaurant's address names the place the sentence names. */
const PLACE_BOOST = 0.1;
/** How much of a dish's semantic score its restaurant's own embedding gives. */
const RESTAURANT_SHARE = 0.2;
/** Cached sentence embeddings (one Gemini call saved per repeat) and catalog vectors. */
const QUERY_CACHE_MAX = 2_000;
const VECTOR_CACHE_MAX = 100_000;

export function createSemanticSearch(deps: {
  repository: SemanticRepository;
  /** Undefined without GEMINI_API_KEY. */
  model: SearchAi | undefined;
  delivering: DeliveringRestaurants;
  logger: Logger;
}) {
  const { repository, model, logger } = deps;
  const queryVectors = new Map<string, number[]>();
  const vectors = new Map<string, { hash: string; vector: number[] }>();

  async function sentenceVector(text: string): Promise<number[]> {
    const key = normalizeText(text).replace(/\s+/g, ' ').trim();
    const cached = queryVectors.get(key);
    if (cached !== undefined) return cached;
    const [vector] = await model!.embed([text], 'query');
    if (queryVectors.size >= QUERY_CACHE_MAX) queryVectors.clear();
    queryVectors.set(key, vector!);
    return vector!;
  }

  /** The candidates' vectors, from memory, reading from PostgreSQL only what changed or is new. */
  async function vectorsOf(kind: 'item' | 'restaurant', wanted: Map<string, string>) {
    const missing = [...wanted]
      .filter(([id, hash]) => vectors.get(`${kind}:${id}`)?.hash !== hash)
      .map(([id]) => id);
    if (missing.length > 0) {
      const rows = await repository.vectors(kind, missing, model!.embeddingModel);
      if (vectors.size + rows.length > VECTOR_CACHE_MAX) vectors.clear();
      for (const row of rows)
        vectors.set(`${kind}:${row.id}`, { hash: row.content_hash, vector: row.embedding });
    }
    return (id: string) => vectors.get(`${kind}:${id}`)?.vector;
  }

  function dishView(row: CandidateRow, score: number, language: Language): SemanticDish {
    return {
      id: row.id,
      name: localize(
        row.name_en === null ? { fr: row.name_fr } : { fr: row.name_fr, en: row.name_en },
        language,
      )!,
      price: Number(row.price),
      ...(row.discount_price === null ? {} : { discountPrice: Number(row.discount_price) }),
      ...(row.image === null ? {} : { image: row.image }),
      restaurant: { id: row.restaurant_id, name: row.restaurant_name },
      score: Math.round(score * 1000) / 1000,
    };
  }

  function filtersOf(intent: QueryIntent, placeUsed: boolean): SemanticAnswer['filters'] {
    return {
      ...(intent.maxPrice === undefined ? {} : { maxPrice: intent.maxPrice }),
      noMeat: intent.noMeat,
      noFish: intent.noFish,
      ...(placeUsed && intent.place !== undefined ? { place: intent.place } : {}),
    };
  }

  /** `rules: false` (the evaluation's pure full-text baseline only): no filters from the sentence. */
  async function search(
    input: SemanticSearchInput,
    language: Language,
    options: { rules: boolean } = { rules: true },
  ): Promise<SemanticAnswer> {
    const text = input.q.replace(/\s+/g, ' ').trim();
    if ((normalizeText(text).match(/[a-z0-9]/g) ?? []).length < 2)
      throw catalogErrors.of(
        'validation',
        'query_too_short',
        'Say what you are looking for in at least 2 letters.',
      );
    if ((input.lat === undefined) !== (input.lng === undefined))
      throw catalogErrors.of('validation', 'invalid_coordinates', 'Send lat and lng together.');
    const limit = input.limit ?? DEFAULT_SEMANTIC_LIMIT;
    const intent: QueryIntent = options.rules
      ? queryIntent(text)
      : { noMeat: false, noFish: false, consumedWords: [] };
    const words = fullTextWords(text, intent);
    const tsquery = words.length === 0 ? undefined : anyWordTsquery(words);
    const restaurantIds =
      input.lat === undefined || input.lng === undefined
        ? undefined
        : await deps.delivering({ lat: input.lat, lng: input.lng });

    let vector: number[] | undefined;
    let fallback: Fallback | undefined;
    if (input.mode === 'full_text') fallback = undefined;
    else if (model === undefined) fallback = 'no_model';
    else {
      try {
        vector = await sentenceVector(text);
      } catch (error) {
        if (!(error instanceof SearchAiError)) throw error;
        fallback = error.reason;
        // The sentence is the customer's: never logged.
        logger.warn({ reason: error.reason, status: error.status }, 'semantic search fell back to full text');
      }
    }

    const answer = async (rows: CandidateRow[], scores: number[], mode: SemanticAnswer['mode']) => {
      // A place named ("near Akwa") lifts the dishes of restaurants whose address names it; a
      // boost, not a filter: the point, when given, already bounds who delivers.
      const placed = intent.place !== undefined && rows.some((row) => row.place_match);
      const chosen = rows.map((row, index) => ({
        row,
        score: Math.min(1, scores[index]! + (placed && row.place_match ? PLACE_BOOST : 0)),
      }));
      chosen.sort((a, b) => b.score - a.score || a.row.id.localeCompare(b.row.id));
      return {
        query: text,
        mode,
        ...(fallback === undefined ? {} : { fallback }),
        filters: filtersOf(intent, placed),
        items: chosen.slice(0, limit).map((entry) => dishView(entry.row, entry.score, language)),
      } satisfies SemanticAnswer;
    };

    if (restaurantIds !== undefined && restaurantIds.length === 0)
      return answer([], [], vector === undefined ? 'full_text' : 'semantic');
    const base = {
      ...(tsquery === undefined ? {} : { tsquery }),
      ...(restaurantIds === undefined ? {} : { restaurantIds }),
      ...(intent.maxPrice === undefined ? {} : { maxPrice: intent.maxPrice }),
      noMeat: intent.noMeat,
      noFish: intent.noFish,
      ...(intent.place === undefined ? {} : { place: intent.place }),
      model: model?.embeddingModel ?? '',
      limit: SEMANTIC_CANDIDATES,
    };
    if (vector !== undefined) {
      const rows = await repository.candidates({ ...base, fullTextOnly: false });
      const itemVector = await vectorsOf(
        'item',
        new Map(rows.filter((row) => row.item_hash !== null).map((row) => [row.id, row.item_hash!])),
      );
      const restaurantVector = await vectorsOf(
        'restaurant',
        new Map(
          rows
            .filter((row) => row.restaurant_hash !== null)
            .map((row) => [row.restaurant_id, row.restaurant_hash!]),
        ),
      );
      const scored = rows.map((row) => {
        const own = itemVector(row.id);
        if (own === undefined) return { fullText: Number(row.full_text), semantic: null };
        const ofRestaurant = restaurantVector(row.restaurant_id);
        const semantic =
          ofRestaurant === undefined
            ? cosine(vector!, own)
            : (1 - RESTAURANT_SHARE) * cosine(vector!, own) +
              RESTAURANT_SHARE * cosine(vector!, ofRestaurant);
        return { fullText: Number(row.full_text), semantic };
      });
      if (scored.some((entry) => entry.semantic !== null)) {
        // A dish not embedded yet competes by full text alone, never above the semantic matches.
        const kept = rows.filter(
          (_, index) => scored[index]!.semantic !== null || scored[index]!.fullText > 0,
        );
        const keptScores = blendScores(
          scored.filter((entry) => entry.semantic !== null || entry.fullText > 0),
        );
        return answer(kept, keptScores, 'semantic');
      }
      fallback = 'no_embeddings';
    }
    const rows = await repository.candidates({ ...base, fullTextOnly: true });
    return answer(
      rows,
      blendScores(rows.map((row) => ({ fullText: Number(row.full_text), semantic: null }))),
      'full_text',
    );
  }

  function unavailable(reason: Fallback): never {
    throw catalogErrors.of(
      'unavailable',
      'search_ai_unavailable',
      'Voice and photo search are unavailable right now; search by text instead.',
      { details: { reason }, retryAfterSeconds: reason === 'no_model' ? 3600 : 30 },
    );
  }

  async function derive(run: () => Promise<string>): Promise<string> {
    if (model === undefined) return unavailable('no_model');
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof SearchAiError)) throw error;
      logger.warn(
        { reason: error.reason, status: error.status },
        'voice or photo search: Gemini unavailable',
      );
      return unavailable(error.reason);
    }
  }

  /** Bytes that are not the format their Content-Type names (magic bytes, a WAV header). */
  const mediaMismatch = () =>
    catalogErrors.of('validation', 'media_mismatch', 'The bytes are not the format the Content-Type names.');

  return {
    search,

    /** A clip (raw bytes of the type the route resolved from Content-Type) → its transcript → a search. */
    async voice(
      declared: AudioType,
      data: Uint8Array,
      input: Omit<SemanticSearchInput, 'q' | 'mode'>,
      language: Language,
    ) {
      if (data.length > MAX_AUDIO_BYTES)
        throw catalogErrors.of(
          'too_large',
          'audio_too_large',
          `The clip is larger than ${MAX_AUDIO_BYTES} bytes.`,
          {
            details: { maxBytes: MAX_AUDIO_BYTES },
          },
        );
      if (sniffAudio(data) !== declared) throw mediaMismatch();
      if (declared === 'audio/wav') {
        const seconds = wavSeconds(data);
        if (seconds === undefined) throw mediaMismatch();
        if (seconds > MAX_AUDIO_SECONDS)
          throw catalogErrors.of(
            'validation',
            'audio_too_long',
            `The clip is longer than ${MAX_AUDIO_SECONDS} seconds.`,
            {
              details: { maxSeconds: MAX_AUDIO_SECONDS },
            },
          );
      }
      const transcript = await derive(() => model!.transcribe({ mimeType: declared, data }));
      return { transcript, ...(await searchDerived(transcript, input, language)) };
    },

    /** A photo (raw bytes of the type the route resolved from Content-Type) → a description of the dish → a search. */
    async photo(
      declared: ImageType,
      data: Uint8Array,
      input: Omit<SemanticSearchInput, 'q' | 'mode'>,
      language: Language,
    ) {
      if (data.length > MAX_IMAGE_BYTES)
        throw catalogErrors.of(
          'too_large',
          'image_too_large',
          `The photo is larger than ${MAX_IMAGE_BYTES} bytes.`,
          {
            details: { maxBytes: MAX_IMAGE_BYTES },
          },
        );
      if (sniffImage(data) !== declared) throw mediaMismatch();
      const description = await derive(() => model!.describeImage({ mimeType: declared, data }));
      return { description, ...(await searchDerived(description, input, language)) };
    },
  };

  /** The model's words are a query and nothing else: bounded, one line, searched like typed text. */
  async function searchDerived(
    text: string,
    input: Omit<SemanticSearchInput, 'q' | 'mode'>,
    language: Language,
  ) {
    try {
      return await search({ ...input, q: text }, language);
    } catch (error) {
      // Nothing intelligible (silence, a blank photo): an empty answer, not the customer's fault.
      if (error instanceof Error && 'code' in error && error.code === 'query_too_short')
        return {
          query: text,
          mode: 'full_text' as const,
          filters: { noMeat: false, noFish: false },
          items: [],
        };
      throw error;
    }
  }
}

export type SemanticSearch = ReturnType<typeof createSemanticSearch>;
