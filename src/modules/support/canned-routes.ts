/**
 * Canned responses' routes (canned.ts): agents list and read them; supervisors (and admins) write
 * and change them. Sending one is `POST /v1/support/tickets/{id}/messages {cannedResponseId}`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { preferredLanguage } from '../../http/problem-catalogue.js';
import type { Runtime } from '../../runtime.js';
import {
  CANNED_BODY_MAX,
  CANNED_PAGE_MAX,
  CANNED_TITLE_MAX,
  type CannedResponses,
  type CannedView,
} from './canned.js';
import { CATEGORIES, LOCALES } from './tables.js';

const tags = ['support'];
const STAFF: RouteAccess = { permissions: ['TICKET_MANAGEMENT'], ownership: 'support staff (or an admin)' };
const SUPERVISOR: RouteAccess = {
  permissions: ['TICKET_MANAGEMENT'],
  ownership: 'supervisors and admins (other agents get 403 supervisor_required)',
};
const readErrors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };
const writeErrors = { ...readErrors, 409: ProblemSchema };

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const LocaleSchema = Type.Union(LOCALES.map((locale) => Type.Literal(locale)));
const StatusSchema = Type.Union([Type.Literal('active'), Type.Literal('archived')]);
const CategorySchema = Type.Union(CATEGORIES.map((category) => Type.Literal(category)));
const Shortcut = Type.String({
  pattern: '^[a-z0-9-]{1,40}$',
  description: 'what agents type, e.g. `refund-delay`',
});
const Title = Type.String({ minLength: 1, maxLength: CANNED_TITLE_MAX });
const Body = Type.String({ minLength: 1, maxLength: CANNED_BODY_MAX });
const Canned = Type.Object({
  id: Type.String({ format: 'uuid' }),
  shortcut: Type.String(),
  locale: Type.String(),
  title: Type.String(),
  body: Type.String(),
  category: Nullable(Type.String()),
  status: Type.String(),
  version: Type.Integer(),
  updatedAt: Type.String({ format: 'date-time' }),
});
const ListQuery = Type.Object(
  {
    locale: Type.Optional(LocaleSchema),
    status: Type.Optional(StatusSchema),
    q: Type.Optional(Type.String({ maxLength: 100 })),
    after: Type.Optional(Shortcut),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CANNED_PAGE_MAX })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const CreateBody = Type.Object(
  {
    shortcut: Shortcut,
    locale: LocaleSchema,
    title: Title,
    body: Body,
    category: Type.Optional(Nullable(CategorySchema)),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
    title: Type.Optional(Title),
    body: Type.Optional(Body),
    category: Type.Optional(Nullable(CategorySchema)),
    status: Type.Optional(StatusSchema),
  },
  { additionalProperties: false, minProperties: 2 },
);

function staff(request: FastifyRequest) {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    actor: {
      kind: 'user' as const,
      userId: principal.userId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
    },
    admin: principal.permissions.has('FULL_SYSTEM_ACCESS'),
  };
}

export function registerCannedRoutes(
  root: FastifyInstance,
  { canned, runtime }: { canned: CannedResponses; runtime: Runtime },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;

  app.get(
    '/v1/support/canned-responses',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'Canned responses in a language (default: Accept-Language), by shortcut; `q` filters',
        querystring: ListQuery,
        response: {
          200: Type.Object({ items: Type.Array(Canned), nextAfter: Nullable(Type.String()) }),
          ...readErrors,
        },
      },
    },
    async (request) =>
      canned.list({
        ...request.query,
        locale: request.query.locale ?? preferredLanguage(request.headers['accept-language']),
      }),
  );

  app.get(
    '/v1/support/canned-responses/:id',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'One canned response',
        params: IdParams,
        response: { 200: Canned, ...readErrors },
      },
    },
    async (request) => canned.read(request.params.id),
  );

  app.post(
    '/v1/admin/support/canned-responses',
    {
      config: { access: SUPERVISOR, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary: 'Write a canned response in one language (supervisors)',
        body: CreateBody,
        response: { 201: Canned, ...writeErrors },
      },
    },
    async (request, reply) => {
      const { actor, admin } = staff(request);
      const scope = `support:canned:${actor.userId}`;
      const key = request.headers['idempotency-key'];
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const created = await canned.create(
          actor,
          admin,
          request.body,
          typeof key === 'string' ? keyedUuid('support-canned', scope, key) : undefined,
        );
        reply.header('location', `/v1/support/canned-responses/${created.id}`);
        return { statusCode: 201, body: created };
      });
      return answer as CannedView;
    },
  );

  app.patch(
    '/v1/admin/support/canned-responses/:id',
    {
      config: { access: SUPERVISOR },
      schema: {
        tags,
        summary: 'Change or archive a canned response as of the version you read (supervisors)',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Canned, ...writeErrors },
      },
    },
    async (request) => {
      const { actor, admin } = staff(request);
      return canned.update(actor, admin, request.params.id, request.body);
    },
  );
}
