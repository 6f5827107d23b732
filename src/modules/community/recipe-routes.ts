/**
 * Recipe sharing's routes (docs/community.md "Recipes"), all under `/v1/community/`: a
 * restaurant's owner (or an admin) publishes, edits, unpublishes; anyone reads visible recipes and
 * comments; signed-in customers comment and rate; anyone signed in reports; support staff work the
 * queue and hide or restore. Every id of a person is the caller's, from their token.
 */
import { createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import type { Db } from '../../db/database.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import {
  COMMENT_MAX,
  MODERATION_REASON_MAX,
  RECIPE_INTRO_MAX,
  RECIPE_LINE_MAX,
  RECIPE_MAX_DISHES,
  RECIPE_MAX_INGREDIENTS,
  RECIPE_MAX_STEPS,
  RECIPE_STEP_MAX,
  RECIPE_TITLE_MAX,
  RECIPES_PAGE_MAX,
  REPORT_REASON_MAX,
  type RecipeActor,
  type Recipes,
} from './recipes.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { problems, userIdOf } from './routes.js';

const OWNER: RouteAccess = {
  permissions: ['RESTAURANT_MANAGEMENT'],
  ownership: "the recipe's restaurant's owner, or an admin",
};
const CUSTOMER: RouteAccess = { permissions: ['PROFILE_MANAGEMENT'], ownership: 'the caller, as themselves' };
const SIGNED_IN: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT', 'RESTAURANT_MANAGEMENT', 'ORDER_ACCEPTANCE', 'TICKET_MANAGEMENT'],
  ownership: 'anyone signed in (not guests), as themselves',
};
const STAFF: RouteAccess = { permissions: ['TICKET_MANAGEMENT'], ownership: 'support staff (or an admin)' };
const PUBLIC = { public: true as const, description: 'anyone: published recipes not hidden by moderation' };
const tags = ['community'];
const Uuid = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Uuid });
/** No control characters but tab and line breaks (NUL is refused before, for every route). */
const MULTILINE = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$';
const ONE_LINE = '^[^\\u0000-\\u001F\\u007F]*$';
const Line = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: ONE_LINE });
const Multiline = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: MULTILINE });
const Minutes = Type.Integer({ minimum: 0, maximum: 1440 });
const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: RECIPES_PAGE_MAX })),
  },
  { additionalProperties: false },
);
const Fields = {
  dishIds: Type.Array(Uuid, { minItems: 1, maxItems: RECIPE_MAX_DISHES }),
  title: Line(RECIPE_TITLE_MAX),
  intro: Multiline(RECIPE_INTRO_MAX),
  ingredients: Type.Array(Line(RECIPE_LINE_MAX), { minItems: 1, maxItems: RECIPE_MAX_INGREDIENTS }),
  steps: Type.Array(Multiline(RECIPE_STEP_MAX), { minItems: 1, maxItems: RECIPE_MAX_STEPS }),
  prepMinutes: Minutes,
  cookMinutes: Minutes,
  servings: Type.Integer({ minimum: 1, maximum: 100 }),
  language: Type.Union([Type.Literal('fr'), Type.Literal('en')]),
};
const Recipe = Type.Object({
  id: Type.String(),
  restaurantId: Type.String(),
  dishIds: Type.Array(Type.String()),
  title: Type.String(),
  intro: Type.String(),
  ingredients: Type.Array(Type.String()),
  steps: Type.Array(Type.String()),
  prepMinutes: Type.Integer(),
  cookMinutes: Type.Integer(),
  servings: Type.Integer(),
  language: Type.String(),
  published: Type.Boolean(),
  hidden: Type.Boolean({ description: 'hidden by moderation' }),
  rating: Type.Object({ average: Type.Union([Type.Number(), Type.Null()]), count: Type.Integer() }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const Comment = Type.Object({
  id: Type.String(),
  text: Type.String(),
  author: Type.Union([Type.String(), Type.Null()], { description: 'pseudonym if their profile is public' }),
  createdAt: Type.String(),
});
const Next = Type.Union([Type.String(), Type.Null()]);
const Comments = Type.Object({ items: Type.Array(Comment), nextCursor: Next });
const Recipes_ = Type.Object({ items: Type.Array(Recipe), nextCursor: Next });
const Reason = (maxLength: number) =>
  Type.Object({ reason: Multiline(maxLength) }, { additionalProperties: false });
/** Public reads answer only these problems. */
const READ_PROBLEMS = { 400: ProblemSchema, 404: ProblemSchema, 429: ProblemSchema };
const Report = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  itemId: Type.String(),
  createdAt: Type.String(),
});

function actorOf(request: FastifyRequest): RecipeActor {
  return {
    userId: userIdOf(request),
    isAdmin: request.principal?.permissions.has('FULL_SYSTEM_ACCESS') ?? false,
  };
}

function viewerOf(request: FastifyRequest): RecipeActor | undefined {
  return request.principal === null || request.principal.kind !== 'user' ? undefined : actorOf(request);
}

/** Weak ETag of the body; a matching If-None-Match is answered 304 (like the catalog's reads). */
function cached(request: FastifyRequest, reply: FastifyReply, body: unknown) {
  const etag = `W/"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 27)}"`;
  reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate');
  const header = request.headers['if-none-match'];
  const matches =
    header !== undefined &&
    (header.trim() === '*' ||
      header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag.slice(2)));
  return matches ? reply.code(304).send(null) : body;
}

export function registerRecipeRoutes(root: FastifyInstance, recipes: Recipes, db: Db): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/v1/community/recipes';

  app.post(base, {
    config: { access: OWNER, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'Publish a recipe tied to dishes of your restaurant',
      body: Type.Object({ restaurantId: Uuid, ...Fields }, { additionalProperties: false }),
      response: { 201: Recipe, ...problems },
    },
    handler: async (request, reply) => {
      const actor = actorOf(request);
      const key = idempotencyKey(request, false);
      const scope = `shared-recipe:${actor.userId}`;
      return withIdempotency(db, request, reply, { scope }, async () => {
        const { restaurantId, ...input } = request.body;
        const id = key === undefined ? undefined : keyedUuid('shared-recipe', scope, key);
        const created = await recipes.publish(actor, restaurantId, input, id);
        reply.header('location', `${base}/${created.id}`);
        return { statusCode: 201, body: created };
      }) as never;
    },
  });

  app.patch(`${base}/:id`, {
    config: { access: OWNER },
    schema: {
      tags,
      summary: 'Edit a recipe (the fields sent)',
      params: IdParams,
      body: Type.Partial(Type.Object(Fields), { additionalProperties: false, minProperties: 1 }),
      response: { 200: Recipe, ...problems },
    },
    handler: async (request) => recipes.edit(actorOf(request), request.params.id, request.body),
  });

  for (const [action, published] of [
    ['unpublish', false],
    ['publish', true],
  ] as const) {
    app.post(`${base}/:id/${action}`, {
      config: { access: OWNER },
      schema: {
        tags,
        summary: published
          ? 'Publish an unpublished recipe again'
          : 'Unpublish a recipe (gone from public reads)',
        params: IdParams,
        response: { 200: Recipe, ...problems },
      },
      handler: async (request) => recipes.setPublished(actorOf(request), request.params.id, published),
    });
  }

  app.get(`${base}/:id`, {
    config: { access: PUBLIC },
    schema: {
      tags,
      summary: 'A recipe with its average rating and first page of comments; ETag/304',
      params: IdParams,
      response: {
        200: Type.Object({ ...Recipe.properties, comments: Comments }),
        304: Type.Null(),
        ...READ_PROBLEMS,
      },
    },
    handler: async (request, reply) =>
      cached(request, reply, await recipes.read(request.params.id, viewerOf(request))) as never,
  });

  app.get(`${base}/:id/comments`, {
    config: { access: PUBLIC },
    schema: {
      tags,
      summary: "A recipe's comments, newest first (cursor pages)",
      params: IdParams,
      querystring: PageQuery,
      response: { 200: Comments, 304: Type.Null(), ...READ_PROBLEMS },
    },
    handler: async (request, reply) =>
      cached(request, reply, await recipes.comments(request.params.id, request.query)) as never,
  });

  app.get(base, {
    config: { access: PUBLIC },
    schema: {
      tags,
      summary: "A restaurant's or a dish's recipes (one of restaurantId, dishId), newest first; ETag/304",
      querystring: Type.Object(
        { ...PageQuery.properties, restaurantId: Type.Optional(Uuid), dishId: Type.Optional(Uuid) },
        { additionalProperties: false },
      ),
      response: { 200: Recipes_, 304: Type.Null(), ...READ_PROBLEMS },
    },
    handler: async (request, reply) => {
      const { restaurantId, dishId, ...pageQuery } = request.query;
      if ((restaurantId === undefined) === (dishId === undefined))
        throw new HttpProblem(400, 'recipe_list_filter', 'Send restaurantId or dishId (one of them).');
      const filter = restaurantId === undefined ? { dishId: dishId! } : { restaurantId };
      return cached(request, reply, await recipes.list(filter, pageQuery)) as never;
    },
  });

  app.post(`${base}/:id/comments`, {
    config: { access: CUSTOMER, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: `Comment on a recipe (at most ${COMMENT_MAX} characters)`,
      params: IdParams,
      body: Type.Object({ text: Multiline(COMMENT_MAX) }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          id: Type.String(),
          recipeId: Type.String(),
          text: Type.String(),
          createdAt: Type.String(),
        }),
        ...problems,
      },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      const key = idempotencyKey(request, false);
      const scope = `shared-recipe-comment:${userId}`;
      return withIdempotency(db, request, reply, { scope }, async () => {
        const id = key === undefined ? undefined : keyedUuid('shared-recipe-comment', scope, key);
        return {
          statusCode: 201,
          body: await recipes.comment(userId, request.params.id, request.body.text, id),
        };
      }) as never;
    },
  });

  app.put(`${base}/:id/rating`, {
    config: { access: CUSTOMER },
    schema: {
      tags,
      summary: 'Rate a recipe 1-5 (one rating each, changeable; after an order received from its restaurant)',
      params: IdParams,
      body: Type.Object(
        { rating: Type.Integer({ minimum: 1, maximum: 5 }) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          rating: Type.Integer(),
          average: Type.Union([Type.Number(), Type.Null()]),
          count: Type.Integer(),
        }),
        ...problems,
      },
    },
    handler: async (request) => recipes.rate(userIdOf(request), request.params.id, request.body.rating),
  });

  app.post('/v1/community/reports', {
    config: { access: SIGNED_IN },
    schema: {
      tags,
      summary: 'Report a recipe or a comment to moderation (once per person and item; 409 the second time)',
      body: Type.Object(
        {
          kind: Type.Union([Type.Literal('recipe'), Type.Literal('comment')]),
          id: Uuid,
          reason: Multiline(REPORT_REASON_MAX),
        },
        { additionalProperties: false },
      ),
      response: { 202: Report, ...problems },
    },
    handler: async (request, reply) =>
      reply
        .code(202)
        .send(
          await recipes.report(userIdOf(request), request.body.kind, request.body.id, request.body.reason),
        ),
  });

  app.get('/v1/community/moderation/reports', {
    config: { access: STAFF },
    schema: {
      tags,
      summary: 'Reported recipes and comments not yet resolved, oldest first (cursor pages)',
      querystring: PageQuery,
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              kind: Type.String({ description: 'recipe or comment' }),
              id: Type.String(),
              recipeId: Type.String(),
              restaurantId: Type.String(),
              title: Type.String({ description: "the recipe's" }),
              comment: Type.Union([Type.String(), Type.Null()]),
              hidden: Type.Boolean(),
              reports: Type.Integer(),
              reasons: Type.Array(Type.String(), { description: 'the latest three' }),
              firstReportedAt: Type.String(),
            }),
          ),
          nextCursor: Next,
        }),
        ...problems,
      },
    },
    handler: async (request) => recipes.queue(request.query),
  });

  for (const [action, hide] of [
    ['hide', true],
    ['restore', false],
  ] as const) {
    app.post(`/v1/community/moderation/:kind/:id/${action}`, {
      config: { access: STAFF },
      schema: {
        tags,
        summary: `${hide ? 'Hide' : 'Restore'} a recipe or comment with a reason; its open reports are resolved; audited`,
        params: Type.Object({
          kind: Type.Union([Type.Literal('recipes'), Type.Literal('comments')]),
          id: Uuid,
        }),
        body: Reason(MODERATION_REASON_MAX),
        response: {
          200: Type.Object({
            kind: Type.String(),
            id: Type.String(),
            hidden: Type.Boolean(),
            changed: Type.Boolean(),
            resolvedReports: Type.Integer(),
          }),
          ...problems,
        },
      },
      handler: async (request) =>
        recipes.moderate(
          userIdOf(request),
          request.params.kind === 'recipes' ? 'recipe' : 'comment',
          request.params.id,
          hide,
          request.body.reason,
        ),
    });
  }
}
