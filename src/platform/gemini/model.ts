/**
 * Google Gemini through Google's Gen AI SDK (`@google/genai`, the successor of the deprecated
 * `@google/generative-ai`): `ai.models.generateContent` with a system instruction, the user's
 * prompt, a cap on output tokens and JSON or plain text asked for. The SDK speaks Gemini's REST
 * API (`POST {baseUrl}/v1beta/models/{model}:generateContent`, the key in `x-goog-api-key`); tests
 * point `baseUrl` at a local stand-in of that API (tests/helpers/gemini-stand-in.ts).
 *
 * Bounded: each call times out (the SDK's per-attempt `httpOptions.timeout`), is tried once (no
 * SDK retry: the caller's fallback answers at once), and an answer bigger than
 * MAX_RESPONSE_BYTES is refused before it is parsed (a fetch wrapper reads at most that much).
 * Only the first candidate's text parts are used. Every failure becomes one error type,
 * `ModelError`, with the HTTP status when there was one.
 */
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';

export interface TextRequest {
  /** The instructions: ours, never the user's data. */
  system: string;
  /** The data, as text (already redacted by the caller). */
  prompt: string;
  maxOutputTokens: number;
  /** `json` asks for `application/json` output (the default, as support's features parse JSON). */
  format?: 'json' | 'text';
}

/** The port: a model that turns instructions and a prompt into text. */
export interface TextModel {
  readonly name: string;
  generate(request: TextRequest): Promise<string>;
}

export class ModelError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

export interface GeminiOptions {
  apiKey: string;
  baseUrl: string;
  model: string;
  timeoutMs: number;
  /** Tests only: the fetch the SDK calls through (the size cap wraps it). */
  fetch?: typeof fetch;
}

/** Bounded: a model answer bigger than this is refused rather than read. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
const TEMPERATURE = 0.3;

/** Thrown by the capped fetch; recognised when the SDK passes it through. */
class ResponseTooLarge extends Error {
  constructor() {
    super('Gemini answer too large');
    this.name = 'ResponseTooLarge';
  }
}

/** A fetch that reads at most `limit` bytes of the body and refuses a bigger one. */
export function cappedFetch(inner: typeof fetch, limit: number): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > limit) {
      await response.body?.cancel();
      throw new ResponseTooLarge();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body !== null) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel();
          throw new ResponseTooLarge();
        }
        chunks.push(value);
      }
    }
    return new Response(response.status === 204 ? null : Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function errorOf(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof ApiError) return new ModelError(`Gemini answered ${error.status}`, error.status);
  if (error instanceof ResponseTooLarge) return new ModelError(error.message, null);
  const name = error instanceof Error ? error.name : '';
  if (name === 'AbortError' || name === 'TimeoutError') return new ModelError('Gemini timed out', null);
  if (error instanceof SyntaxError) return new ModelError('Gemini answer is not JSON', null);
  return new ModelError('Gemini unreachable', null);
}

/** The first candidate's text parts (thoughts left out), or a ModelError saying why there is none. */
export function textOf(response: GenerateContentResponse): string {
  const blocked = response.promptFeedback?.blockReason;
  if (blocked !== undefined) throw new ModelError(`Gemini blocked the prompt (${blocked})`, 200);
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  const text = parts
    .map((part) => (typeof part.text === 'string' && part.thought !== true ? part.text : ''))
    .join('');
  if (text.length === 0) throw new ModelError('Gemini answered no text', 200);
  return text;
}

export function createGeminiModel(options: GeminiOptions): TextModel {
  const ai = new GoogleGenAI({
    apiKey: options.apiKey,
    httpOptions: {
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs,
      fetch: cappedFetch(options.fetch ?? fetch, MAX_RESPONSE_BYTES),
    },
  });
  return {
    name: `gemini:${options.model}`,
    async generate({ system, prompt, maxOutputTokens, format = 'json' }) {
      let response: GenerateContentResponse;
      try {
        response = await ai.models.generateContent({
          model: options.model,
          contents: [{ role: 'user', parts: [{ text: prompt }] }],
          config: {
            systemInstruction: system,
            maxOutputTokens,
            temperature: TEMPERATURE,
            responseMimeType: format === 'json' ? 'application/json' : 'text/plain',
          },
        });
      } catch (error) {
        throw errorOf(error);
      }
      return textOf(response);
    },
  };
}
