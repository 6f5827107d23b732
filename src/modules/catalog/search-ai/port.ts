/**
 * What semantic, voice and photo search ask of a model (issue #27), behind a port so the Gemini
 * SDK adapter (gemini-sdk.ts), its daily budget (budget.ts) and tests plug in. Every failure is a
 * SearchAiError: the search answers its full-text fallback (semantic) or a 503 (voice, photo),
 * never a 500.
 */
export interface Media {
  mimeType: string;
  /** The bytes, held in memory for the request only (never written to disk or logged). */
  data: Uint8Array;
}

export interface SearchAi {
  /** The embedding model: stored with each embedding (another model re-embeds everything). */
  readonly embeddingModel: string;
  /** One vector per text, same order. `query` for a customer's sentence, `document` for the catalog. */
  embed(texts: readonly string[], purpose: 'query' | 'document'): Promise<number[][]>;
  /** The words spoken in a clip (French or English), as plain text. */
  transcribe(audio: Media): Promise<string>;
  /** A short search phrase naming the dish in a photo and its main ingredients. */
  describeImage(image: Media): Promise<string>;
}

export type SearchAiFailure = 'budget_spent' | 'timeout' | 'failed' | 'blocked' | 'empty';

export class SearchAiError extends Error {
  constructor(
    readonly reason: SearchAiFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SearchAiError';
  }
}
