/**
 * The knowledge base's routes: published articles for anyone (`/v1/support/articles`, searched in
 * the reader's language), and staff authoring (`/v1/admin/support/articles`), every change audited.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { preferredLanguage } from '../../http/problem-catalogue.js';
import type { Runtime } from '../../runtime.js';
import { ARTICLE_PAGE_MAX, type KnowledgeBase } from './knowledge-base.js';
import { ARTICLE_STATUSES, CATEGORIES, LOCALES, type Locale } from './tables.js';

export const ARTICLE_TITLE_MAX = 200;
export const ARTICLE_BODY_MAX = 20_000;

const tags = ['support'];
const readErrors = { 400: ProblemSchema, 404: ProblemSchema };
const staffErrors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema };
const writeErrors = { ...staffErrors, 404: ProblemSchema, 409: ProblemSchema };
const READER: RouteAccess = { public: true, description: 'anyone: published articles only' };
const STAFF: RouteAccess = { permissions: ['TICKET_MANAGEMENT'], ownership: 'support staff (or an admin)' };
const isStaff = (request: FastifyRequest) =>
  request.principal?.kind === 'user' &&
  (request.principal.permissions.has('TICKET_MANAGEMENT') ||
    request.principal.permissions.has('FULL_SYSTEM_ACCESS'));

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const LocaleSchema = Type.Union(
  LOCALES.map((locale) => Type.Literal(locale)),
  { description: 'fr or en; default from Accept-Language' },
);
const CategorySchema = Type.Union(CATEGORIES.map((category) => Type.Literal(category)));
const StatusSchema = Type.Union(ARTICLE_STATUSES.map((status) => Type.Literal(status)));
const Slug = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,79}$',
  description: 'shared by an article’s translations',
});
const Title = Type.String({ minLength: 1, maxLength: ARTICLE_TITLE_MAX });
const Body = Type.String({
  minLength: 1,
  maxLength: ARTICLE_BODY_MAX,
  description: 'plain text or Markdown',
});
const Summary = {
  id: Type.String({ format: 'uuid' }),
  slug: Type.String(),
  locale: Type.String(),
  title: Type.String(),
  excerpt: Type.String(),
  category: Nullable(Type.String()),
  status: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
};
const Article = Type.Object({
  ...Summary,
  body: Type.String(),
  version: Type.Integer(),
  translations: Type.Optional(Type.Array(Type.String())),
});
const SearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    locale: Type.Optional(LocaleSchema),
    category: Type.Optional(CategorySchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ARTICLE_PAGE_MAX, default: 10 })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    status: Type.Optional(StatusSchema),
    locale: Type.Optional(LocaleSchema),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ARTICLE_PAGE_MAX, default: 20 })),
  },
  { additionalProperties: false },
);
const CreateBody = Type.Object(
  {
    slug: Slug,
    locale: LocaleSchema,
    title: Title,
    body: Body,
    category: Type.Optional(Nullable(CategorySchema)),
    status: Type.Optional(StatusSchema),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    version: Type.Integer({
      minimum: 0,
      description: 'the version you read (409 article_changed otherwise)',
    }),
    title: Type.Optional(Title),
    body: Type.Optional(Body),
    category: Type.Optional(Nullable(CategorySchema)),
    status: Type.Optional(StatusSchema),
  },
  { additionalProperties: false },
);
const SlugParams = Type.Object({ slug: Slug }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
const LocaleQuery = Type.Object({ locale: Type.Optional(LocaleSchema) }, { additionalProperties: false });

function localeOf(request: FastifyRequest, explicit: Locale | undefined): Locale {
  return explicit ?? preferredLanguage(request.headers['accept-language']);
}

function staffActor(request: FastifyRequest) {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    kind: 'user' as const,
    userId: principal.userId,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    requestId: request.id,
  };
}

export function registerKnowledgeBaseRoutes(
  root: FastifyInstance,
  { knowledgeBase, runtime }: { knowledgeBase: KnowledgeBase; runtime: Runtime },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;

  app.get(
    '/v1/support/articles',
    {
      config: { access: READER },
      schema: {
        tags,
        summary: 'Help articles in your language, searched by `q`',
        querystring: SearchQuery,
        response: { 200: Type.Object({ items: Type.Array(Type.Object(Summary)) }), ...readErrors },
      },
    },
    async (request) =>
      knowledgeBase.search({ ...request.query, locale: localeOf(request, request.query.locale) }),
  );

  app.get(
    '/v1/support/articles/:slug',
    {
      config: { access: READER },
      schema: {
        tags,
        summary: 'One help article in your language',
        params: SlugParams,
        querystring: LocaleQuery,
        response: { 200: Article, ...readErrors },
      },
    },
    async (request) =>
      knowledgeBase.read(request.params.slug, localeOf(request, request.query.locale), isStaff(request)),
  );

  app.get(
    '/v1/admin/support/articles',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'Every article (any status), by slug and language',
        querystring: ListQuery,
        response: {
          200: Type.Object({ items: Type.Array(Type.Object(Summary)), nextCursor: Nullable(Type.String()) }),
          ...staffErrors,
        },
      },
    },
    async (request) => knowledgeBase.list(request.query),
  );

  app.post(
    '/v1/admin/support/articles',
    {
      config: { access: STAFF, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary: 'Write an article in one language (a draft unless `status` says)',
        body: CreateBody,
        response: { 201: Article, ...writeErrors },
      },
    },
    async (request, reply) => {
      const actor = staffActor(request);
      const scope = `support:article:${actor.userId}`;
      const key = request.headers['idempotency-key'];
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const article = await knowledgeBase.create(
          actor,
          request.body,
          typeof key === 'string' ? keyedUuid('support-article', scope, key) : undefined,
        );
        reply.header('location', `/v1/support/articles/${article.slug}?locale=${article.locale}`);
        return { statusCode: 201, body: article };
      });
      return answer as Awaited<ReturnType<KnowledgeBase['create']>>;
    },
  );

  app.patch(
    '/v1/admin/support/articles/:id',
    {
      config: { access: STAFF },
      schema: {
        tags,
        summary: 'Change an article as of the version you read',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Article, ...writeErrors },
      },
    },
    async (request) => knowledgeBase.update(staffActor(request), request.params.id, request.body),
  );
}
