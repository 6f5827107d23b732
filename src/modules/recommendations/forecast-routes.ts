/** `GET /v1/admin/forecasts/demand`: orders per hour of a day, per restaurant or zone (demand-service.ts). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { FORECAST_SERIES_MAX, type DemandForecasts } from './demand-service.js';

const STAFF: RouteAccess = {
  permissions: ['TICKET_MANAGEMENT'],
  ownership: 'support staff and administrators (dispatch staffing)',
};
const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema };

const Hours = Type.Array(Type.Number({ minimum: 0 }), {
  minItems: 24,
  maxItems: 24,
  description: 'hours 0–23, local time',
});
const ForecastSchema = Type.Object({
  date: Type.String({ description: 'the local day (Africa/Douala)' }),
  by: Type.Union([Type.Literal('restaurant'), Type.Literal('zone')]),
  source: Type.Union([Type.Literal('model'), Type.Literal('seasonal_naive')], {
    description: 'model: the ONNX forecast; seasonal_naive: no model loaded (the same hour a week before)',
  }),
  modelVersion: Type.Union([Type.String(), Type.Null()]),
  generatedAt: Type.String({ format: 'date-time' }),
  total: Type.Object({ forecast: Hours, actual: Type.Union([Hours, Type.Null()]) }),
  series: Type.Array(
    Type.Object({
      restaurantId: Type.Union([Type.String(), Type.Null()]),
      zone: Type.Union([Type.String(), Type.Null()], { description: '3 × 3 location cells (about 6.6 km)' }),
      bounds: Type.Union([
        Type.Object({ south: Type.Number(), west: Type.Number(), degrees: Type.Number() }),
        Type.Null(),
      ]),
      forecast: Hours,
      forecastTotal: Type.Number(),
      actual: Type.Union([Hours, Type.Null()], { description: 'what happened, once the day has begun' }),
    }),
  ),
});

export function registerForecastRoutes(app: FastifyInstance, services: { demand: DemandForecasts }): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/v1/admin/forecasts/demand', {
    config: { access: STAFF },
    schema: {
      tags: ['admin', 'recommendations'],
      summary: 'Orders per hour of a day (default tomorrow), per restaurant or delivery zone, busiest first',
      querystring: Type.Object(
        {
          by: Type.Optional(
            Type.Union([Type.Literal('restaurant'), Type.Literal('zone')], { default: 'restaurant' }),
          ),
          date: Type.Optional(
            Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, local' }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: FORECAST_SERIES_MAX, default: 100 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: ForecastSchema, ...errors },
    },
    handler: async (request) =>
      services.demand.forecast({
        by: request.query.by ?? 'restaurant',
        limit: request.query.limit ?? 100,
        ...(request.query.date === undefined ? {} : { date: request.query.date }),
      }),
  });
}
