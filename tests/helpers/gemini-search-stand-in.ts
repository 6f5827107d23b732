import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the parts of the Gemini REST API that search calls through the Gen AI SDK
 * (`@google/genai`): `POST /v1beta/models/{model}:batchEmbedContents` and `:embedContent`
 * (embeddings) and `:generateContent` with an inline audio or image part (transcription, photo
 * description). Tests and the semantic evaluation only; production talks to
 * generativelanguage.googleapis.com.
 *
 * Its embeddings are deterministic and carry a toy meaning: a small bilingual concept lexicon
 * (spicy/piment/pimenté, meat/viande, fish/poisson, cheap/pas cher, sweet, drink, breakfast, …),
 * one dimension per concept, plus every other word hashed into the remaining dimensions (an exact
 * word still matches). "sans viande" / "no meat" point at the vegetable concept, not at meat.
 * It measures the pipeline (embedding job, blend, filters, fallback), not Gemini's quality.
 *
 * Transcripts and descriptions: the test registers what a clip "says" or a photo "shows" by the
 * sha256 of its bytes (`said`, `shows`); an unknown medium gets an empty answer.
 */
export type SearchScenario =
  | { kind: 'answer' }
  | { kind: 'error'; status: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'blocked' };

export interface StandInRequest {
  path: string;
  apiKey: string | undefined;
  body: Record<string, unknown>;
}

export interface GeminiSearchStandIn {
  url: string;
  requests: StandInRequest[];
  scenario: SearchScenario;
  /** What a clip says, by the sha256 (hex) of its bytes. */
  said: Map<string, string>;
  /** What a photo shows, by the sha256 (hex) of its bytes. */
  shows: Map<string, string>;
  /** Counts per method: batchEmbedContents, embedContent, generateContent. */
  calls: Record<string, number>;
  close(): Promise<void>;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Concepts and the words (normalised, accents stripped) that carry them, with a weight. */
const CONCEPTS: Record<string, string[]> = {
  spicy:
    'piment pimente pimentee epice epicee epices spicy hot pepper peppery poivre releve suya soya pepe chili chilli'.split(
      ' ',
    ),
  meat: 'viande viandes meat boeuf beef poulet chicken porc pork chevre goat mouton lamb suya soya brochettes skewers kondre burger shawarma kati'.split(
    ' ',
  ),
  fish: 'poisson poissons fish crevettes crevette shrimp shrimps bar maquereau mackerel morue cod seafood tilapia'.split(
    ' ',
  ),
  vegetable:
    'legume legumes vegetable vegetables vegetarien vegetarienne vegetarian vegan veggie salade salad avocat avocado plantain plantains haricot haricots beans gombo okra eru koki sanga taro folong greens okok arachides groundnuts'.split(
      ' ',
    ),
  cheap: 'cheap affordable inexpensive budget'.split(' '),
  mid: 'mid-priced moyen'.split(' '),
  pricey: 'pricey expensive cher chere luxe'.split(' '),
  sweet:
    'sucre sucree sucres sweet dessert desserts glace ice cream vanille vanilla gateau cake chocolat fruit fruits'.split(
      ' ',
    ),
  drink:
    'jus juice boisson boissons drink drinks eau water biere beer soda cafe coffee the tea frais cold'.split(
      ' ',
    ),
  breakfast: 'petit-dejeuner breakfast bouillie porridge omelette pain baguette matin morning beignets'.split(
    ' ',
  ),
  rice: 'riz rice jollof'.split(' '),
  soup: 'soupe soup sauce bouillon'.split(' '),
  grill: 'braise braises grilled grill grillade grillades brochettes skewers barbecue bbq kati'.split(' '),
  cameroonian:
    'ndole eru achu koki mbongo okok kondre sanga taro bobolo folong nkui egusi camerounais camerounaise cameroonian local traditionnel'.split(
      ' ',
    ),
  fastfood: 'burger burgers pizza shawarma frites fries sandwich'.split(' '),
  chicken: 'poulet chicken dg kati'.split(' '),
};
/** Grilled dishes here come with pepper: "braisé" leans spicy too. */
const ALSO: Record<string, [string, number][]> = {
  braise: [['spicy', 0.6]],
  grilled: [['spicy', 0.6]],
};
const CONCEPT_NAMES = Object.keys(CONCEPTS);
const LEXICON = new Map<string, [number, number][]>();
for (const [index, name] of CONCEPT_NAMES.entries())
  for (const word of CONCEPTS[name]!) LEXICON.set(word, [...(LEXICON.get(word) ?? []), [index, 1]]);
for (const [word, extra] of Object.entries(ALSO))
  LEXICON.set(word, [
    ...(LEXICON.get(word) ?? []),
    ...extra.map(([name, weight]): [number, number] => [CONCEPT_NAMES.indexOf(name), weight]),
  ]);

const normalise = (text: string) =>
  text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/œ/g, 'oe')
    .toLowerCase();

/** Phrases read before words: negations and two-word price bands. */
const PHRASES: [RegExp, string][] = [
  [/\b(sans viande|no meat|without meat|meatless|pas de viande)\b/g, ' vegetarien '],
  [/\b(pas cher|pas chere|bon marche|petit prix|pas trop cher)\b/g, ' cheap '],
  [/\bprix moyen\b/g, ' moyen '],
];

export function standInEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  let normal = normalise(text);
  for (const [pattern, replacement] of PHRASES) normal = normal.replace(pattern, replacement);
  const words = normal.match(/[a-z0-9-]+/g) ?? [];
  const hashed = dimensions - CONCEPT_NAMES.length;
  for (const word of words) {
    const concepts = LEXICON.get(word);
    if (concepts !== undefined) for (const [index, weight] of concepts) vector[index]! += weight;
    if (word.length < 3 || hashed <= 0) continue;
    const bucket = createHash('sha256').update(word).digest().readUInt32BE(0) % hashed;
    vector[CONCEPT_NAMES.length + bucket]! += 0.35;
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

interface Part {
  text?: string;
  inlineData?: { mimeType?: string; data?: string };
}

export async function startGeminiSearchStandIn(): Promise<GeminiSearchStandIn> {
  const standIn: Omit<GeminiSearchStandIn, 'url' | 'close'> = {
    requests: [],
    scenario: { kind: 'answer' },
    said: new Map(),
    shows: new Map(),
    calls: {},
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const match = /^\/v1beta\/models\/([^/:]+):(batchEmbedContents|embedContent|generateContent)$/.exec(
        request.url ?? '',
      );
      const header = request.headers['x-goog-api-key'];
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      standIn.requests.push({
        path: request.url ?? '',
        apiKey: typeof header === 'string' ? header : undefined,
        body,
      });
      const json = (status: number, answer: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer));
      };
      if (request.method !== 'POST' || match === null)
        return json(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
      if (header === undefined)
        return json(403, { error: { code: 403, message: 'API key missing', status: 'PERMISSION_DENIED' } });
      const method = match[2]!;
      standIn.calls[method] = (standIn.calls[method] ?? 0) + 1;
      const scenario = standIn.scenario;
      if (scenario.kind === 'error')
        return json(scenario.status, {
          error: { code: scenario.status, message: 'stand-in error', status: 'UNAVAILABLE' },
        });
      if (scenario.kind === 'slow') {
        setTimeout(() => json(200, { candidates: [] }), scenario.delayMs).unref();
        return;
      }
      if (method === 'batchEmbedContents') {
        const requests = (body.requests ?? []) as {
          content?: { parts?: Part[] };
          outputDimensionality?: number;
        }[];
        return json(200, {
          embeddings: requests.map((entry) => ({
            values: standInEmbedding(
              (entry.content?.parts ?? []).map((part) => part.text ?? '').join(' '),
              entry.outputDimensionality ?? 768,
            ),
          })),
        });
      }
      if (method === 'embedContent') {
        const content = body.content as { parts?: Part[] } | undefined;
        return json(200, {
          embedding: {
            values: standInEmbedding(
              (content?.parts ?? []).map((part) => part.text ?? '').join(' '),
              (body.outputDimensionality as number | undefined) ?? 768,
            ),
          },
        });
      }
      if (scenario.kind === 'blocked') return json(200, { promptFeedback: { blockReason: 'SAFETY' } });
      const contents = (body.contents ?? []) as { parts?: Part[] }[];
      const media = contents
        .flatMap((content) => content.parts ?? [])
        .find((part) => part.inlineData !== undefined);
      const bytes = Buffer.from(media?.inlineData?.data ?? '', 'base64');
      const kind = media?.inlineData?.mimeType ?? '';
      const text = kind.startsWith('audio/')
        ? (standIn.said.get(sha256(bytes)) ?? '')
        : kind.startsWith('image/')
          ? (standIn.shows.get(sha256(bytes)) ?? '')
          : '';
      return json(200, {
        candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 300, candidatesTokenCount: 20, totalTokenCount: 320 },
        modelVersion: match[1],
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(standIn, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as GeminiSearchStandIn;
}

/** A mono 16-bit PCM WAV of `seconds` of a quiet tone (a stand-in clip; its words are registered). */
export function wavClip(seconds: number, sampleRate = 16_000, seed = 1): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const buffer = Buffer.alloc(44 + samples * 2);
  buffer.write('RIFF', 0, 'latin1');
  buffer.writeUInt32LE(36 + samples * 2, 4);
  buffer.write('WAVE', 8, 'latin1');
  buffer.write('fmt ', 12, 'latin1');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20); // PCM
  buffer.writeUInt16LE(1, 22); // mono
  buffer.writeUInt32LE(sampleRate, 24);
  buffer.writeUInt32LE(sampleRate * 2, 28); // byte rate
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36, 'latin1');
  buffer.writeUInt32LE(samples * 2, 40);
  for (let index = 0; index < samples; index += 1)
    buffer.writeInt16LE(
      Math.round(800 * Math.sin((index * (220 + seed * 40) * 2 * Math.PI) / sampleRate)),
      44 + index * 2,
    );
  return buffer;
}
