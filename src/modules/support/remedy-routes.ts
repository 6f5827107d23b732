/**
 * Dispute remedies on a ticket (remedies.ts, docs/support.md "Dispute remedies"): support staff
 * who may see the ticket decide a goodwill credit, a refund (wallet or Mobile Money, with shares)
 * or a mediation note, with a required Idempotency-Key that names the remedy and its payout.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import type { SupportRemedies } from './remedies.js';
import { REMEDY_NOTE_MAX } from './remedy-rules.js';
import type { SupportCaller } from './service.js';
import { REFUND_DESTINATIONS, REMEDY_KINDS } from './tables.js';

const tags = ['support'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};
const readErrors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };
const STAFF: RouteAccess = {
  permissions: ['TICKET_MANAGEMENT'],
  ownership: 'support staff who may see the ticket (a plain agent: theirs), within their remedy limit',
};

const Uuid = Type.String({ format: 'uuid' });
const Minor = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Params = Type.Object({ id: Uuid }, { additionalProperties: false });
const RemedyBody = Type.Object(
  {
    kind: Type.Union(
      REMEDY_KINDS.map((kind) => Type.Literal(kind)),
      { description: REMEDY_KINDS.join(', ') },
    ),
    amountMinor: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'XAF (not for a note)' }),
    ),
    shares: Type.Optional(
      Type.Object(
        {
          restaurantMinor: Type.Optional(Minor),
          driverMinor: Type.Optional(Minor),
          platformMinor: Type.Optional(Minor),
        },
        {
          additionalProperties: false,
          description: 'refunds: adding up to amountMinor (absent: the platform)',
        },
      ),
    ),
    refundTo: Type.Optional(
      Type.Union(
        REFUND_DESTINATIONS.map((destination) => Type.Literal(destination)),
        { description: 'refunds; default wallet' },
      ),
    ),
    note: Type.String({
      minLength: 1,
      maxLength: REMEDY_NOTE_MAX,
      description: 'reason or mediation note',
    }),
  },
  { additionalProperties: false },
);
const Remedy = Type.Object({
  id: Uuid,
  ticketId: Uuid,
  orderId: Nullable(Uuid),
  kind: Type.String({ description: REMEDY_KINDS.join(', ') }),
  amountMinor: Minor,
  shares: Nullable(Type.Object({ restaurantMinor: Minor, driverMinor: Minor, platformMinor: Minor })),
  refundTo: Nullable(Type.String({ description: REFUND_DESTINATIONS.join(', ') })),
  note: Nullable(Type.String()),
  decidedBy: Uuid,
  status: Type.String(),
  payout: Nullable(
    Type.Object(
      { id: Uuid, refusal: Nullable(Type.String()) },
      { description: 'refusal: not requested, the money is in the wallet' },
    ),
  ),
  createdAt: Type.String({ format: 'date-time' }),
});

export interface RemedyRouteServices {
  remedies: SupportRemedies;
  runtime: Runtime;
}

function callerOf(request: FastifyRequest): SupportCaller {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    userId: principal.userId,
    roles: principal.roles,
    permissions: principal.permissions,
    actor: {
      kind: 'user',
      userId: principal.userId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
    },
  };
}

export function registerRemedyRoutes(
  root: FastifyInstance,
  { remedies, runtime }: RemedyRouteServices,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;

  app.post(
    '/v1/admin/support/tickets/:id/remedies',
    {
      config: { idempotency: 'required', location: true, access: STAFF },
      schema: {
        tags,
        summary: 'Decide a dispute remedy (goodwill credit, refund, mediation note); booked once',
        params: Params,
        body: RemedyBody,
        response: { 201: Remedy, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = idempotencyKey(request, true)!;
      // The agent's own keys on this ticket: another agent's key never replays this one's answer.
      const scope = `support:remedy:${request.params.id}:${caller.userId}`;
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const remedy = await remedies.decide(caller, request.params.id, request.body, {
          remedyId: keyedUuid('support-remedy', scope, key),
          payoutId: keyedUuid('payout', scope, key),
        });
        reply.header('location', `/v1/admin/support/tickets/${remedy.ticketId}/remedies/${remedy.id}`);
        return { statusCode: 201, body: remedy };
      });
      return answer as Awaited<ReturnType<SupportRemedies['decide']>>;
    },
  );

  app.get(
    '/v1/admin/support/tickets/:id/remedies',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'A ticket’s remedies, oldest first',
        params: Params,
        response: { 200: Type.Object({ items: Type.Array(Remedy) }), ...readErrors },
      },
    },
    async (request) => remedies.list(callerOf(request), request.params.id),
  );

  app.get(
    '/v1/admin/support/tickets/:id/remedies/:remedyId',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'One remedy of a ticket',
        params: Type.Object({ id: Uuid, remedyId: Uuid }, { additionalProperties: false }),
        response: { 200: Remedy, ...readErrors },
      },
    },
    async (request) => remedies.get(callerOf(request), request.params.id, request.params.remedyId),
  );
}
