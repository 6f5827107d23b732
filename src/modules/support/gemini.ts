/**
 * Google Gemini over its documented REST API: `POST {base}/v1beta/models/{model}:generateContent`
 * with the key in the `x-goog-api-key` header, a `systemInstruction` and the user's `contents`,
 * JSON output asked for with `generationConfig.responseMimeType` (ai.google.dev/api/generate-content).
 * Only the text of the first candidate is used. Calls time out; errors become `AssistModelError`.
 * Tests point `baseUrl` at a local stand-in that speaks the same API.
 */

/** The port: a model that turns instructions and a prompt into text. */
export interface AssistModel {
  readonly name: string;
  generate(request: { system: string; prompt: string; maxOutputTokens: number }): Promise<string>;
}

export class AssistModelError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'AssistModelError';
  }
}

export interface GeminiOptions {
  apiKey: string;
  baseUrl: string;
  model: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

interface GenerateContentResponse {
  candidates?: { content?: { parts?: { text?: unknown }[] }; finishReason?: string }[];
  promptFeedback?: { blockReason?: string };
}

/** Bounded: a model answer bigger than this is refused rather than read. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export function createGeminiModel(options: GeminiOptions): AssistModel {
  const doFetch = options.fetch ?? fetch;
  const url = `${options.baseUrl.replace(/\/+$/, '')}/v1beta/models/${encodeURIComponent(options.model)}:generateContent`;
  return {
    name: `gemini:${options.model}`,
    async generate({ system, prompt, maxOutputTokens }) {
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-api-key': options.apiKey },
          body: JSON.stringify({
            systemInstruction: { parts: [{ text: system }] },
            contents: [{ role: 'user', parts: [{ text: prompt }] }],
            generationConfig: { maxOutputTokens, temperature: 0.3, responseMimeType: 'application/json' },
          }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        const timedOut =
          error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        throw new AssistModelError(timedOut ? 'Gemini timed out' : 'Gemini unreachable', null);
      }
      const text = await response.text();
      if (!response.ok) throw new AssistModelError(`Gemini answered ${response.status}`, response.status);
      if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES)
        throw new AssistModelError('Gemini answer too large', response.status);
      let body: GenerateContentResponse;
      try {
        body = JSON.parse(text) as GenerateContentResponse;
      } catch {
        throw new AssistModelError('Gemini answer is not JSON', response.status);
      }
      if (body.promptFeedback?.blockReason !== undefined)
        throw new AssistModelError(`Gemini blocked the prompt (${body.promptFeedback.blockReason})`, 200);
      const parts = body.candidates?.[0]?.content?.parts ?? [];
      const answer = parts.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
      if (answer.length === 0) throw new AssistModelError('Gemini answered no text', 200);
      return answer;
    },
  };
}
