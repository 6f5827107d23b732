/** `GET /v1/loyalty`: the customer's points (balance, tier, what expires next) and their history. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { MAX_HISTORY_PAGE } from './repository.js';
import { TIERS } from './rules.js';
import type { Loyalty } from './service.js';

const LOYALTY: RouteAccess = {
  permissions: ['LOYALTY_PROGRAM'],
  ownership: "the caller's own points",
};
const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema };
const Points = Type.Integer({ minimum: 0, description: 'points (PTS, whole numbers)' });
const TierName = Type.Union([Type.Literal(TIERS[0]), Type.Literal(TIERS[1]), Type.Literal(TIERS[2])]);

const LoyaltySchema = Type.Object({
  balance: Type.Integer({ description: 'points that can be used now' }),
  held: Points,
  tier: TierName,
  multiplier: Type.String({ description: 'points per 100 XAF of food are multiplied by this' }),
  earnedLast12Months: Points,
  nextTier: Type.Union([
    Type.Object({ tier: TierName, threshold: Points, pointsNeeded: Points }),
    Type.Null(),
  ]),
  nextExpiry: Type.Union([
    Type.Object({ points: Points, at: Type.String({ format: 'date-time' }) }),
    Type.Null(),
  ]),
  history: Type.Object({
    items: Type.Array(
      Type.Object({
        transferId: Type.String(),
        kind: Type.Union([
          Type.Literal('earned'),
          Type.Literal('expired'),
          Type.Literal('redeemed'),
          Type.Literal('returned'),
          Type.Literal('referral'),
          Type.Literal('other'),
        ]),
        direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
        points: Points,
        orderId: Type.Union([Type.String(), Type.Null()]),
        at: Type.String({ format: 'date-time' }),
      }),
    ),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  }),
});

const LoyaltyQuery = Type.Object({
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_PAGE, default: 20 })),
});

function userIdOf(request: FastifyRequest): string {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal.userId;
}

export function registerLoyaltyRoutes(app: FastifyInstance, loyalty: Loyalty): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/v1/loyalty', {
    config: { access: LOYALTY },
    schema: {
      tags: ['loyalty'],
      summary:
        'Points balance, tier and progress, what expires next, and the history (the ledger’s statement)',
      querystring: LoyaltyQuery,
      response: { 200: LoyaltySchema, ...problems },
    },
    handler: async (request) => {
      const userId = userIdOf(request);
      const [summary, history] = await Promise.all([
        loyalty.summary(userId),
        loyalty.history(userId, request.query),
      ]);
      return {
        ...summary,
        balance: Number(summary.balance),
        held: Number(summary.held),
        earnedLast12Months: Number(summary.earnedLast12Months),
        nextTier:
          summary.nextTier === null
            ? null
            : {
                tier: summary.nextTier.tier,
                threshold: Number(summary.nextTier.threshold),
                pointsNeeded: Number(summary.nextTier.pointsNeeded),
              },
        nextExpiry:
          summary.nextExpiry === null
            ? null
            : { points: Number(summary.nextExpiry.points), at: summary.nextExpiry.at },
        history: {
          items: history.items.map((item) => ({ ...item, points: Number(item.points) })),
          nextCursor: history.nextCursor,
        },
      };
    },
  });
}
