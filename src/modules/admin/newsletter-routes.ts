/**
 * Newsletter campaigns (docs/admin.md "Newsletters"): admins create, list, read, preview (a dry
 * run counting the audience), schedule and cancel; anyone holding a signed link unsubscribes in
 * one click.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { ROLES } from '../../shared/principal.js';
import { signedInActorOf } from '../identity/index.js';
import {
  NEWSLETTER_CHANNELS,
  NEWSLETTER_LANGUAGES,
  NEWSLETTERS_PAGE_MAX,
  type NewsletterInput,
  type Newsletters,
} from './newsletters.js';
import type { NewsletterStatus } from './tables.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  429: ProblemSchema,
};
const STATUSES: NewsletterStatus[] = ['draft', 'scheduled', 'sending', 'sent', 'cancelled'];
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Texts = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 120 }),
    body: Type.String({ minLength: 1, maxLength: 4_000 }),
    sms: Type.String({ minLength: 1, maxLength: 120, description: 'the STOP line is added after it' }),
  },
  { additionalProperties: false },
);
const Template = Type.Object({ fr: Texts, en: Texts }, { additionalProperties: false });
const Channel = Type.Unsafe<(typeof NEWSLETTER_CHANNELS)[number]>({
  type: 'string',
  enum: [...NEWSLETTER_CHANNELS],
});
const Segment = Type.Object(
  {
    roles: Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...ROLES] }), {
      maxItems: ROLES.length,
      uniqueItems: true,
    }),
    cities: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' }), {
      maxItems: 20,
      uniqueItems: true,
    }),
    language: Type.Optional(
      Type.Unsafe<(typeof NEWSLETTER_LANGUAGES)[number]>({ type: 'string', enum: [...NEWSLETTER_LANGUAGES] }),
    ),
  },
  { additionalProperties: false },
);
const Campaign = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  segment: Segment,
  template: Template,
  channels: Type.Array(Channel),
  status: Type.Unsafe<NewsletterStatus>({ type: 'string', enum: STATUSES }),
  scheduledAt: Nullable(Type.String({ format: 'date-time' })),
  recipients: Type.Integer(),
  version: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  cancelledAt: Nullable(Type.String({ format: 'date-time' })),
});
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Token = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 300 }) },
  { additionalProperties: false },
);

export function registerNewsletterRoutes(
  root: FastifyInstance,
  newsletters: Newsletters,
  runtime: Runtime,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/admin/newsletters',
    {
      config: { access: ADMINS, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary:
          'Create a newsletter campaign (a draft): segment, French and English texts, channels (audited)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 3, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' }),
            segment: Segment,
            template: Template,
            channels: Type.Array(Channel, { minItems: 1, maxItems: 3, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Campaign, ...errors },
      },
    },
    async (request, reply) => {
      const actor = signedInActorOf(request);
      const scope = `admin:newsletter:${actor.userId}`;
      const key = idempotencyKey(request, false);
      const answer = await withIdempotency(runtime.database.db, request, reply, { scope }, async () => {
        const campaign = await newsletters.create(
          request.body as NewsletterInput,
          actor,
          key === undefined ? undefined : keyedUuid('newsletter', scope, key),
        );
        reply.header('location', `/v1/admin/newsletters/${campaign.id}`);
        return { statusCode: 201, body: campaign };
      });
      return answer as Static<typeof Campaign>;
    },
  );

  app.get(
    '/v1/admin/newsletters',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Newsletter campaigns, newest first (cursor pages)',
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Unsafe<NewsletterStatus>({ type: 'string', enum: STATUSES })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: NEWSLETTERS_PAGE_MAX })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Campaign), nextCursor: Nullable(Type.String()) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => newsletters.list(request.query),
  );

  app.get(
    '/v1/admin/newsletters/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'One newsletter campaign',
        params: IdParams,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => newsletters.get(request.params.id),
  );

  app.post(
    '/v1/admin/newsletters/:id/preview',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Dry run: how many accounts the campaign reaches now (consent included); nothing is sent',
        params: IdParams,
        response: {
          200: Type.Object({
            campaignId: Type.String({ format: 'uuid' }),
            audience: Type.Integer(),
            channels: Type.Array(Channel),
            segment: Segment,
          }),
          ...errors,
        },
      },
    },
    async (request) => newsletters.preview(request.params.id, signedInActorOf(request)),
  );

  app.post(
    '/v1/admin/newsletters/:id/schedule',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Schedule (or move) a campaign that has not started (audited)',
        params: IdParams,
        body: Type.Object({ at: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => newsletters.schedule(request.params.id, request.body, signedInActorOf(request)),
  );

  app.post(
    '/v1/admin/newsletters/:id/cancel',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Cancel a campaign before it starts (audited; again: the same answer)',
        params: IdParams,
        response: { 200: Campaign, ...errors },
      },
    },
    async (request) => newsletters.cancel(request.params.id, signedInActorOf(request)),
  );

  // The link in each message is opened in a browser, like the tracking and share pages: outside
  // the apps' API (/v1) and its documents.
  const PUBLIC: RouteAccess = { public: true, description: 'a signed one-click unsubscribe link' };
  app.get(
    '/newsletters/unsubscribe',
    {
      config: { access: PUBLIC },
      schema: { hide: true, querystring: Token },
    },
    async (request) => newsletters.unsubscribe(request.query.token),
  );
}
