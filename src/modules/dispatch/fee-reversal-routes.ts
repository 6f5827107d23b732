/**
 * The reversal of a driver's fee after a dispute decided against the delivery (issue #20,
 * docs/dispatch.md "Earnings and incentives"): finance staff, with a recent second factor.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Db } from '../../db/database.js';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { FeeReversals } from './fee-reversals.js';
import type { OnboardingActor } from './onboarding.js';

const FINANCE: RouteAccess = {
  permissions: ['FINANCIAL_OVERSIGHT'],
  stepUp: true,
  ownership: 'finance administrators',
};
const Body = Type.Object(
  { orderId: Type.String({ format: 'uuid' }), reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
const Answer = Type.Object({
  orderId: Type.String(),
  driverId: Type.String(),
  amountMinor: Type.Integer(),
  transferId: Type.String(),
  status: Type.String({ description: 'reversed, already_reversed' }),
});

function actorOf(request: FastifyRequest): OnboardingActor {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    kind: 'user',
    userId: principal.userId,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    requestId: request.id,
  };
}

export function registerFeeReversalRoutes(app: FastifyInstance, feeReversals: FeeReversals, db: Db): void {
  app.post<{ Body: { orderId: string; reason: string } }>('/v1/admin/drivers/fee-reversals', {
    config: { access: FINANCE, idempotency: 'optional' },
    schema: {
      tags: ['drivers'],
      summary: "Reverse a resolved order's driver fee (dispute decided against the delivery), once; audited",
      description:
        "The fee the ledger booked goes back from the driver's payable to the platform's delivery revenue. Asking again answers already_reversed and moves nothing.",
      body: Body,
      response: {
        200: Answer,
        400: ProblemSchema,
        401: ProblemSchema,
        403: ProblemSchema,
        404: ProblemSchema,
        409: ProblemSchema,
      },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      return (await withIdempotency(
        db,
        request,
        reply,
        { scope: `driver-fee-reversal:${actor.userId}` },
        async () => {
          const reversal = await feeReversals.reverse(request.body.orderId, request.body.reason, actor);
          return { statusCode: 200, body: { ...reversal, amountMinor: Number(reversal.amountMinor) } };
        },
      )) as never;
    },
  });
}
