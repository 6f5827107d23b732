/** `GET /v1/loyalty/lapsed-holds`: lapsed points holds for finance (lapsed-holds.ts). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { ProblemSchema } from '../../http/problem.js';
import { lapsedHolds, MAX_LAPSED_PAGE } from './lapsed-holds.js';
import type { LoyaltyDb } from './tables.js';

const FINANCE: RouteAccess = { permissions: ['FINANCIAL_OVERSIGHT'], ownership: 'admins (finance) only' };

const LapsedQuery = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LAPSED_PAGE, default: 20 })),
});

const LapsedPage = Type.Object({
  items: Type.Array(
    Type.Object({
      orderId: Type.String({ format: 'uuid' }),
      points: Type.Integer({ minimum: 1, description: 'points the order was quoted and the customer kept' }),
      discountMinor: Type.Integer({
        minimum: 0,
        description: 'the XAF discount of those points, funded by the platform',
      }),
      recordedAt: Type.String({ format: 'date-time' }),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export function registerLapsedHoldRoutes(app: FastifyInstance, db: LoyaltyDb): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/v1/loyalty/lapsed-holds', {
    config: { access: FINANCE },
    schema: {
      tags: ['loyalty'],
      summary:
        'Points holds that expired before their order was paid (the order kept its price, the platform funded the points), newest first, for finance',
      querystring: LapsedQuery,
      response: {
        200: LapsedPage,
        400: ProblemSchema,
        401: ProblemSchema,
        403: ProblemSchema,
        429: ProblemSchema,
      },
    },
    handler: async (request) => {
      const page = await lapsedHolds(db, {
        limit: request.query.limit ?? 20,
        ...(request.query.cursor === undefined ? {} : { cursor: request.query.cursor }),
      });
      return {
        items: page.items.map((item) => ({
          orderId: item.orderId,
          points: Number(item.points),
          discountMinor: Number(item.discountMinor),
          recordedAt: item.recordedAt.toISOString(),
        })),
        nextCursor: page.nextCursor,
      };
    },
  });
}
