/**
 * Search by meaning, voice and photo (issue #27): `GET /v1/search/semantic`,
 * `POST /v1/search/voice` (a raw audio body) and `POST /v1/search/photo` (a raw image body).
 * Public like the restaurant search, each rate-limited per caller (the model costs a call).
 * The clip and the photo are parsed as a Buffer in this scope only, held for the request and
 * never written or logged.
 */
import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { pickLanguage } from './menu-view.js';
import { Latitude, Longitude } from './schemas.js';
import {
  AUDIO_CONTENT_TYPES,
  IMAGE_CONTENT_TYPES,
  MAX_AUDIO_BYTES,
  MAX_IMAGE_BYTES,
  MAX_SEMANTIC_LIMIT,
} from './search-ai/rules.js';
import type { SemanticSearch } from './search-ai/semantic-search.js';

const tags = ['catalog'];
const PUBLIC: RouteAccess = { public: true };

/** Per caller (the user, else the address) and minute: a sentence costs one model call, a clip or photo one more. */
export const SEMANTIC_RATE_PER_MINUTE = 30;
export const MEDIA_RATE_PER_MINUTE = 10;

/** Keyed by the user, else a hash of the address (no address stored in Redis keys). */
const limited = (name: string, max: number) => ({
  max,
  timeWindow: 60_000,
  keyGenerator: (request: FastifyRequest) =>
    `search-ai:${name}:${
      request.principal?.userId === undefined
        ? `a:${createHash('sha256').update(request.ip).digest('hex').slice(0, 24)}`
        : `u:${request.principal.userId}`
    }`,
});

const SemanticQuerystring = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 200 }),
    lat: Type.Optional(Latitude),
    lng: Type.Optional(Longitude),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEMANTIC_LIMIT })),
    mode: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('full_text')])),
  },
  { additionalProperties: false },
);

const MediaQuerystring = Type.Object(
  {
    lat: Type.Optional(Latitude),
    lng: Type.Optional(Longitude),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SEMANTIC_LIMIT })),
  },
  { additionalProperties: false },
);

const Dish = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  price: Type.Integer(),
  discountPrice: Type.Optional(Type.Integer()),
  image: Type.Optional(Type.String()),
  restaurant: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }),
  score: Type.Number(),
});

const answerFields = {
  query: Type.String({
    description: 'the sentence searched (for voice and photo: what the model heard or saw)',
  }),
  mode: Type.Union([Type.Literal('semantic'), Type.Literal('full_text')]),
  fallback: Type.Optional(Type.String()),
  filters: Type.Object({
    maxPrice: Type.Optional(Type.Integer()),
    noMeat: Type.Boolean(),
    noFish: Type.Boolean(),
    place: Type.Optional(Type.String()),
  }),
  items: Type.Array(Dish),
};
const SemanticResponse = Type.Object(answerFields);
const VoiceResponse = Type.Object({ transcript: Type.String(), ...answerFields });
const PhotoResponse = Type.Object({ description: Type.String(), ...answerFields });

const mediaErrors = {
  400: ProblemSchema,
  413: ProblemSchema,
  415: ProblemSchema,
  429: ProblemSchema,
  503: ProblemSchema,
};

/** The declared media type without parameters, lower case. */
const declaredType = (request: FastifyRequest) =>
  String(request.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();

export function registerSearchAiRoutes(root: FastifyInstance, semantic: SemanticSearch): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/search/semantic',
    {
      config: { access: PUBLIC, rateLimit: limited('semantic', SEMANTIC_RATE_PER_MINUTE) },
      schema: {
        tags,
        summary:
          'Dishes by meaning: a sentence matched by embeddings blended with full text (full text alone without a model)',
        querystring: SemanticQuerystring,
        response: { 200: SemanticResponse, 400: ProblemSchema, 429: ProblemSchema },
      },
    },
    async (request) => semantic.search(request.query, pickLanguage(request.headers['accept-language'])),
  );

  void root.register(async (scope) => {
    // Raw bytes for these two routes only; anything else (JSON, a form) reaches them unparsed
    // as a non-Buffer and is refused 415 below.
    scope.addContentTypeParser(
      /^(audio|image)\/[a-z0-9.+-]+$/i,
      { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES },
      (_request, body, done) => done(null, body),
    );
    const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
    typed.post(
      '/v1/search/voice',
      {
        bodyLimit: MAX_AUDIO_BYTES,
        config: { access: PUBLIC, rateLimit: limited('voice', MEDIA_RATE_PER_MINUTE) },
        schema: {
          tags,
          summary: 'Search by voice: a raw audio clip, transcribed, then searched',
          querystring: MediaQuerystring,
          response: { 200: VoiceResponse, ...mediaErrors },
        },
      },
      async (request) => {
        const type = AUDIO_CONTENT_TYPES[declaredType(request)];
        if (type === undefined || !Buffer.isBuffer(request.body))
          throw new HttpProblem(
            415,
            'unsupported_audio',
            'Send the clip as the raw body: WAV, MP3, OGG, FLAC or AAC.',
          );
        return semantic.voice(
          type,
          request.body,
          request.query,
          pickLanguage(request.headers['accept-language']),
        );
      },
    );
    typed.post(
      '/v1/search/photo',
      {
        bodyLimit: MAX_IMAGE_BYTES,
        config: { access: PUBLIC, rateLimit: limited('photo', MEDIA_RATE_PER_MINUTE) },
        schema: {
          tags,
          summary: 'Search by photo: a raw image of a dish, described, then searched',
          querystring: MediaQuerystring,
          response: { 200: PhotoResponse, ...mediaErrors },
        },
      },
      async (request) => {
        const type = IMAGE_CONTENT_TYPES[declaredType(request)];
        if (type === undefined || !Buffer.isBuffer(request.body))
          throw new HttpProblem(
            415,
            'unsupported_image',
            'Send the photo as the raw body: JPEG, PNG or WebP.',
          );
        return semantic.photo(
          type,
          request.body,
          request.query,
          pickLanguage(request.headers['accept-language']),
        );
      },
    );
  });
}
