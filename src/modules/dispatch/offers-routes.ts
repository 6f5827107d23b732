/**
 * Offers to drivers and the dispatch's audit (issue #20, "Matching and offers"):
 *   GET  /v1/drivers/me/offers                      the caller's open offers (after a reconnect)
 *   POST /v1/drivers/me/offers/{offerId}/accept     accept: the order is claimed for the caller
 *   POST /v1/drivers/me/offers/{offerId}/decline    decline: the next candidate is asked
 *   GET  /v1/orders/{orderId}/eta                   the customer's current ETA
 *   GET  /v1/admin/dispatch/{orderId}               who was asked, with which score, what happened
 *   POST /v1/admin/dispatch/{orderId}/retry         staff start a failed dispatch again (audited)
 * Accept and decline are idempotent by nature (a retry answers the same) and take an
 * Idempotency-Key as well.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Db } from '../../db/database.js';
import type { Principal, RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { dispatchErrors } from './errors.js';
import type { EtaService } from './eta.js';
import type { OffersService, StaffActor } from './offers.js';

const DRIVER: RouteAccess = {
  permissions: ['LOCATION_SHARING'],
  ownership: "the caller's own offers (driver role)",
};
const CUSTOMER: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: "the order's customer",
};
const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const STAFF: RouteAccess = { permissions: ['TICKET_MANAGEMENT'], ownership: 'support and administrators' };
const problems = { 401: ProblemSchema, 403: ProblemSchema };
const Uuid = Type.String({ format: 'uuid' });
const OfferParams = Type.Object({ offerId: Uuid });
const OrderParams = Type.Object({ orderId: Uuid });
const Answer = Type.Object({
  offerId: Type.String(),
  orderId: Type.String(),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('declined')]),
});
const DeclineBody = Type.Optional(
  Type.Object(
    { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
    { additionalProperties: false },
  ),
);
const EmptyBody = Type.Optional(Type.Object({}, { additionalProperties: false }));

function signedIn(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return principal;
}

function staffOf(request: FastifyRequest): StaffActor {
  const principal = signedIn(request);
  return {
    kind: 'user',
    userId: principal.userId,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    requestId: request.id,
  };
}

function driverOf(request: FastifyRequest): Principal {
  const principal = signedIn(request);
  if (!principal.roles.includes('driver'))
    throw dispatchErrors.of('forbidden', 'not_a_driver', 'Only drivers receive offers.');
  return principal;
}

export function registerOfferRoutes(
  root: FastifyInstance,
  services: { offers: OffersService; eta: EtaService; db: Db },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { offers, eta, db } = services;

  app.get('/v1/drivers/me/offers', {
    config: { access: DRIVER },
    schema: {
      tags: ['drivers'],
      summary: "The driver's open offers (each with its deadline)",
      security: [{ bearer: [] }],
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              offerId: Type.String(),
              orderId: Type.String(),
              travelSeconds: Type.Integer(),
              expiresAt: Type.String({ format: 'date-time' }),
            }),
          ),
        }),
        ...problems,
      },
    },
    handler: async (request) => ({ items: await offers.openOffersOf(driverOf(request).userId) }),
  });

  for (const action of ['accept', 'decline'] as const) {
    app.post(`/v1/drivers/me/offers/:offerId/${action}`, {
      config: { access: DRIVER, idempotency: 'optional' },
      schema: {
        tags: ['drivers'],
        summary:
          action === 'accept'
            ? 'Accept an offer: the order is claimed for the caller (idempotent; 409 once expired or taken)'
            : 'Decline an offer: the next candidate is asked',
        security: [{ bearer: [] }],
        params: OfferParams,
        body: action === 'accept' ? EmptyBody : DeclineBody,
        response: { 200: Answer, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, ...problems },
      },
      handler: async (request, reply) => {
        const { userId } = driverOf(request);
        const { offerId } = request.params as { offerId: string };
        const reason = ((request.body ?? {}) as { reason?: string }).reason ?? null;
        return (await withIdempotency(db, request, reply, { scope: `dispatch:${userId}` }, async () => ({
          statusCode: 200,
          body: await offers.answer(userId, offerId, action === 'accept', reason),
        }))) as never;
      },
    });
  }

  app.get('/v1/orders/:orderId/eta', {
    config: { access: CUSTOMER },
    schema: {
      tags: ['orders'],
      summary: "The order's estimated arrival (pushed as order-eta when it moves)",
      security: [{ bearer: [] }],
      params: OrderParams,
      response: {
        200: Type.Object({
          orderId: Type.String(),
          phase: Type.String(),
          estimatedArrivalAt: Type.String({ format: 'date-time' }),
          updatedAt: Type.String({ format: 'date-time' }),
        }),
        404: ProblemSchema,
        ...problems,
      },
    },
    handler: async (request) => {
      const principal = signedIn(request);
      const current = await eta.current(request.params.orderId);
      // Someone else's order reads as no ETA at all (no oracle for order ids).
      if (current === undefined || current.customerId !== principal.userId)
        throw dispatchErrors.of('not_found', 'eta_not_found', 'This order has no ETA yet.');
      return {
        orderId: current.orderId,
        phase: current.phase,
        estimatedArrivalAt: current.estimatedArrivalAt,
        updatedAt: current.updatedAt,
      };
    },
  });

  app.get('/v1/admin/dispatch/:orderId', {
    config: { access: ADMIN },
    schema: {
      tags: ['drivers'],
      summary: "An order's dispatch: every offer with its score, answers, widenings and the outcome",
      security: [{ bearer: [] }],
      params: OrderParams,
      response: {
        200: Type.Object({
          orderId: Type.String(),
          status: Type.String(),
          round: Type.Integer(),
          radiusKm: Type.Number(),
          driverId: Type.Union([Type.String(), Type.Null()]),
          events: Type.Array(
            Type.Object({ type: Type.String(), data: Type.Record(Type.String(), Type.Unknown()) }),
          ),
        }),
        404: ProblemSchema,
        ...problems,
      },
    },
    handler: async (request) => {
      const { orderId } = request.params;
      const { state } = await offers.load(orderId);
      if (state.status === 'none')
        throw dispatchErrors.of('not_found', 'dispatch_not_found', 'This order was never dispatched.');
      return {
        orderId,
        status: state.status,
        round: state.round,
        radiusKm: state.radiusKm,
        driverId: state.driverId,
        events: await offers.history(orderId),
      };
    },
  });

  app.post('/v1/admin/dispatch/:orderId/retry', {
    config: { access: STAFF, idempotency: 'optional' },
    schema: {
      tags: ['drivers'],
      summary:
        'Start a failed dispatch again from the first radius (audited; 409 unless failed and the order still waits for a driver)',
      security: [{ bearer: [] }],
      params: OrderParams,
      body: EmptyBody,
      response: {
        200: Type.Object({
          orderId: Type.String(),
          attempt: Type.Integer({ minimum: 1 }),
          status: Type.String(),
        }),
        400: ProblemSchema,
        404: ProblemSchema,
        409: ProblemSchema,
        ...problems,
      },
    },
    handler: async (request, reply) => {
      const actor = staffOf(request);
      const { orderId } = request.params;
      return (await withIdempotency(
        db,
        request,
        reply,
        { scope: `dispatch-retry:${actor.userId}` },
        async () => ({ statusCode: 200, body: await offers.retry(orderId, actor) }),
      )) as never;
    },
  });
}
