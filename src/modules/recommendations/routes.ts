/** `GET /v1/recommendations`: dishes and restaurants for the caller (or a guest at a place), now. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { RANKER_EXPERIMENT, type Experiments } from './experiments.js';
import type { RecommendationMetrics } from './metrics.js';
import { LIMIT_MAX, POPULAR_MAX_HOURS, type RecommendationsService } from './service.js';

const PUBLIC: RouteAccess = {
  public: true,
  description: 'anyone; a signed-in caller gets recommendations from their own orders, a guest from lat/lng',
};
const problems = { 400: ProblemSchema, 429: ProblemSchema };

const Query = Type.Object(
  {
    lat: Type.Optional(
      Type.Number({ minimum: -90, maximum: 90, description: 'latitude of the delivery place' }),
    ),
    lng: Type.Optional(
      Type.Number({ minimum: -180, maximum: 180, description: 'longitude of the delivery place' }),
    ),
    weather: Type.Optional(
      Type.Union([Type.Literal('rain'), Type.Literal('dry')], {
        description: 'the weather now, if the app knows it (otherwise: the season’s usual weather)',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMIT_MAX, default: 10 })),
  },
  { additionalProperties: false },
);

const Score = Type.Number({ description: 'the ranker’s logit (model) or decayed order count (popularity)' });
const RecommendationsSchema = Type.Object({
  source: Type.Union([Type.Literal('model'), Type.Literal('popularity')], {
    description: 'model: the ONNX ranker; popularity: no model is loaded (the fallback)',
  }),
  modelVersion: Type.Union([Type.String(), Type.Null()]),
  context: Type.Object({
    slot: Type.String({ description: 'breakfast, lunch, dinner or late (Africa/Douala time)' }),
    weekend: Type.Boolean(),
    weather: Type.Union([Type.Literal('rain'), Type.Literal('dry')]),
    weatherSource: Type.Union(
      [Type.Literal('app'), Type.Literal('provider'), Type.Literal('stale'), Type.Literal('season')],
      {
        description:
          'app: the weather parameter; provider: the weather provider’s reading (at most WEATHER_CACHE_SECONDS old); stale: an older reading while the provider fails; season: the calendar’s usual weather',
      },
    ),
    cell: Type.Union([Type.String(), Type.Null()], { description: 'the location cell (about 2 km)' }),
  }),
  items: Type.Array(
    Type.Object({
      itemId: Type.String(),
      restaurantId: Type.String(),
      restaurantName: Type.String(),
      name: Type.Object({ fr: Type.String(), en: Type.Union([Type.String(), Type.Null()]) }),
      priceMinor: Type.Integer({ description: 'XAF' }),
      score: Score,
    }),
  ),
  restaurants: Type.Array(
    Type.Object({ restaurantId: Type.String(), restaurantName: Type.String(), score: Score }),
  ),
  experiment: Type.Union([Type.Object({ key: Type.String(), variant: Type.String() }), Type.Null()], {
    description:
      'the A/B experiment the signed-in caller is in and the arm served (model or popularity), or null',
  }),
});

const PopularQuery = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'latitude of the delivery place' }),
    lng: Type.Number({ minimum: -180, maximum: 180, description: 'longitude of the delivery place' }),
    hours: Type.Optional(Type.Integer({ minimum: 1, maximum: POPULAR_MAX_HOURS, default: 3 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMIT_MAX, default: 10 })),
  },
  { additionalProperties: false },
);
const PopularSchema = Type.Object({
  cell: Type.String({ description: 'the place’s location cell; the area is it and its 8 neighbours' }),
  hours: Type.Integer(),
  orders: Type.Integer({ description: 'orders delivered in the area in the window' }),
  items: Type.Array(
    Type.Object({
      itemId: Type.String(),
      restaurantId: Type.String(),
      restaurantName: Type.String(),
      name: Type.Object({ fr: Type.String(), en: Type.Union([Type.String(), Type.Null()]) }),
      priceMinor: Type.Integer({ description: 'XAF' }),
      ordered: Type.Integer({ description: 'portions ordered in the area in the window' }),
    }),
  ),
});

export function registerRecommendationRoutes(
  app: FastifyInstance,
  services: {
    recommendations: RecommendationsService;
    metrics: RecommendationMetrics;
    experiments: Experiments;
  },
): void {
  const { recommendations, metrics, experiments } = services;
  for (const metric of metrics.all) app.metricsRegistry.registerMetric(metric);
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/v1/recommendations', {
    config: { access: PUBLIC },
    schema: {
      tags: ['recommendations'],
      summary:
        'Dishes and restaurants recommended now (signed in: from your orders; guest: give lat and lng)',
      querystring: Query,
      response: { 200: RecommendationsSchema, ...problems },
    },
    handler: async (request) => {
      const { lat, lng, weather, limit } = request.query;
      const started = process.hrtime.bigint();
      const customerId = request.principal?.userId ?? null;
      const at = new Date();
      // Anonymous callers are in no experiment: conversion is counted from a person's orders.
      const variant =
        customerId === null ? null : await experiments.expose(RANKER_EXPERIMENT, customerId, at);
      const result = await recommendations.recommend({
        customerId,
        ...(variant === 'popularity' ? { ranking: 'popularity' as const } : {}),
        location: lat !== undefined && lng !== undefined ? { latitude: lat, longitude: lng } : null,
        weather: weather ?? null,
        limit: limit ?? 10,
        at,
      });
      metrics.latency.observe({ source: result.source }, Number(process.hrtime.bigint() - started) / 1e9);
      return { ...result, experiment: variant === null ? null : { key: RANKER_EXPERIMENT, variant } };
    },
  });

  typed.get('/v1/recommendations/popular-now', {
    config: { access: PUBLIC },
    schema: {
      tags: ['recommendations'],
      summary: 'The dishes most ordered around a place in the last hours (still orderable)',
      querystring: PopularQuery,
      response: { 200: PopularSchema, ...problems },
    },
    handler: async (request, reply) => {
      const { lat, lng, hours, limit } = request.query;
      // The same answer for everyone in the area: shared caches may keep it a minute.
      void reply.header('cache-control', 'public, max-age=60');
      return recommendations.popularNow({
        location: { latitude: lat, longitude: lng },
        hours: hours ?? 3,
        limit: limit ?? 10,
        at: new Date(),
      });
    },
  });
}
