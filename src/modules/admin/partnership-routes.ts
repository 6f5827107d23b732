/**
 * Partnership requests (docs/admin.md "Partnership requests"): the public form (its own rate limit
 * per address) and the admins' review queue.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { signedInActorOf } from '../identity/index.js';
import { PARTNERSHIPS_PAGE_MAX, type PartnershipInput, type Partnerships } from './partnerships.js';
import {
  PARTNERSHIP_KINDS,
  PARTNERSHIP_STATUSES,
  type PartnershipKind,
  type PartnershipStatus,
} from './tables.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const Kind = Type.Unsafe<PartnershipKind>({ type: 'string', enum: [...PARTNERSHIP_KINDS] });
const Status = Type.Unsafe<PartnershipStatus>({ type: 'string', enum: [...PARTNERSHIP_STATUSES] });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Body = Type.Object(
  {
    kind: Kind,
    organisation: Type.String({ minLength: 2, maxLength: 200 }),
    contactName: Type.String({ minLength: 2, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 254 }),
    phone: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{7,14}$', description: 'E.164' })),
    city: Type.Optional(Type.String({ minLength: 2, maxLength: 80 })),
    message: Type.String({ minLength: 10, maxLength: 4000 }),
  },
  { additionalProperties: false },
);
const Request = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Kind,
  organisation: Type.String(),
  contactName: Type.String(),
  email: Type.String(),
  phone: Nullable(Type.String()),
  city: Nullable(Type.String()),
  message: Type.String(),
  status: Status,
  createdAt: Type.String({ format: 'date-time' }),
  reviewedBy: Nullable(Type.String()),
  reviewedAt: Nullable(Type.String({ format: 'date-time' })),
  reviewNote: Nullable(Type.String()),
});

export function registerPartnershipRoutes(
  root: FastifyInstance,
  partnerships: Partnerships,
  runtime: Runtime,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { config } = runtime;

  app.post(
    '/v1/partnership-requests',
    {
      config: {
        access: { public: true, description: 'the public partnership form' },
        idempotency: 'optional',
        location: true,
        rateLimit: {
          max: config.PARTNERSHIP_RATE_LIMIT_MAX,
          timeWindow: config.PARTNERSHIP_RATE_LIMIT_WINDOW_MS,
          hook: 'preHandler' as const,
          keyGenerator: (request: FastifyRequest) => `partnership:ip:${request.ip}`,
        },
      },
      schema: {
        tags,
        summary: 'Ask to become a partner (restaurant, fleet, company): the public form, reviewed by admins',
        body: Body,
        response: {
          201: Type.Object({ id: Type.String({ format: 'uuid' }), status: Status }),
          400: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const answer = await withIdempotency(
        runtime.database.db,
        request,
        reply,
        { scope: `partnership:${request.ip}` },
        async () => {
          const created = await partnerships.submit(request.body as PartnershipInput);
          // Where admins read it (the requester cannot).
          reply.header('location', `/v1/admin/partnership-requests/${created.id}`);
          return { statusCode: 201, body: created };
        },
      );
      return answer as { id: string; status: PartnershipStatus };
    },
  );

  app.get(
    '/v1/admin/partnership-requests',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'The partnership review queue, newest first (cursor pages)',
        querystring: Type.Object(
          {
            status: Type.Optional(Status),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PARTNERSHIPS_PAGE_MAX })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Request), nextCursor: Nullable(Type.String()) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => partnerships.list(request.query),
  );

  app.get(
    '/v1/admin/partnership-requests/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'One partnership request',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: {
          200: Request,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => (await partnerships.get(request.params.id)) as Static<typeof Request>,
  );

  app.post(
    '/v1/admin/partnership-requests/:id/review',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Accept or decline a partnership request, with a note (once; audited)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: Type.Object(
          {
            decision: Type.Unsafe<'accept' | 'decline'>({ type: 'string', enum: ['accept', 'decline'] }),
            note: Type.String({ minLength: 3, maxLength: 500 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Request,
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) =>
      (await partnerships.review(request.params.id, request.body, signedInActorOf(request))) as Static<
        typeof Request
      >,
  );
}
