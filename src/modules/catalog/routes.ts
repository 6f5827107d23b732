/**
 * The catalog's HTTP routes. Handlers translate HTTP into service calls and back; the rules and
 * SQL live elsewhere. Every route declares its access (default deny) and its schemas.
 */
import { registerDeliveryAreaRoutes } from './delivery-area-routes.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import type { CatalogDb } from './tables.js';
import type { Catalog } from './index.js';
import type { Caller } from './context.js';
import { itemOwnerView } from './menu-service.js';
import { pickLanguage } from './menu-view.js';
import type { CategoryRecord, ModifierGroupRecord, RestaurantRecord } from './model.js';
import { profileView, type RestaurantView } from './restaurants.js';
import { registerCityRoutes } from './city-routes.js';
import { registerMenuSyncRoutes } from './sync-routes.js';
import {
  AnyObject,
  AutocompleteQuerystring,
  AutocompleteResponse,
  CategoryBody,
  CategoryParams,
  CategoryPatch,
  CreateRestaurantBody,
  GroupParams,
  ItemBody,
  ItemParams,
  ItemPatch,
  MenuResponse,
  ModifierGroupBody,
  ModifierGroupPatch,
  PointQuerystring,
  ReplyBody,
  RestaurantParams,
  RestaurantResponse,
  ReviewBody,
  ReviewsQuerystring,
  SearchQuerystring,
  SearchResponse,
  StatusBody,
  UpdateRestaurantBody,
} from './schemas.js';

const Uuid = Type.String({ format: 'uuid' });
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};
const PUBLIC: RouteAccess = { public: true };
const OWNER: RouteAccess = {
  permissions: ['RESTAURANT_MANAGEMENT', 'MENU_CRUD'],
  ownership: 'the owner of the restaurant (or an admin)',
};
const MENU_EDITOR: RouteAccess = {
  permissions: ['MENU_CRUD'],
  ownership: 'the owner of the restaurant (or an admin)',
};
const CUSTOMER: RouteAccess = {
  permissions: ['PROFILE_MANAGEMENT'],
  ownership: 'the customer of the completed order',
};
const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };

export function callerOf(request: FastifyRequest): Caller {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    userId: principal.userId,
    isAdmin: principal.permissions.has('FULL_SYSTEM_ACCESS'),
    actor: {
      kind: 'user',
      userId: principal.userId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
    },
  };
}

function viewerOf(request: FastifyRequest): { userId: string; isAdmin: boolean } | undefined {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user') return undefined;
  return { userId: principal.userId, isAdmin: principal.permissions.has('FULL_SYSTEM_ACCESS') };
}

/** RFC 9110 If-None-Match: a list of (possibly weak) tags or `*`. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === bare);
}

function categoryView(category: CategoryRecord) {
  return {
    id: category.id,
    name: category.name,
    position: category.position,
    schedule: category.schedule,
    archived: category.archived,
  };
}

function groupView(group: ModifierGroupRecord) {
  return {
    id: group.id,
    itemId: group.itemId,
    name: group.name,
    minSelections: group.minSelections,
    maxSelections: group.maxSelections,
    options: group.options,
    position: group.position,
    archived: group.archived,
  };
}

function ownerRestaurantView(restaurant: RestaurantRecord) {
  return profileView(restaurant, new Date(), undefined, true);
}

/** What the catalog routes get: their own context's services and the platform's runtime. */
export interface CatalogRouteServices {
  catalog: Catalog;
  runtime: Runtime;
  /** The catalog's own tables (the admin's list of restaurants to verify). */
  db: CatalogDb;
}

export function registerCatalogRoutes(root: FastifyInstance, services: CatalogRouteServices): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { catalog } = services;
  const db = services.runtime.database.db;
  const tags = ['catalog'];

  app.post(
    '/v1/restaurants',
    {
      config: {
        idempotency: 'optional',
        location: true,
        access: {
          permissions: ['PROFILE_MANAGEMENT', 'RESTAURANT_MANAGEMENT'],
          ownership: 'any verified user; they become its owner',
        },
      },
      schema: {
        tags,
        summary: 'Register a restaurant (starts pending verification)',
        body: CreateRestaurantBody,
        response: { 201: RestaurantResponse, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = await withIdempotency(
        db,
        request,
        reply,
        { scope: `catalog:restaurant:${caller.userId}` },
        async () => {
          const restaurant = ownerRestaurantView(await catalog.restaurants.create(caller, request.body));
          reply.header('location', `/v1/restaurants/${restaurant.id}`);
          return { statusCode: 201, body: restaurant };
        },
      );
      return body as RestaurantView;
    },
  );

  app.patch(
    '/v1/restaurants/:id',
    {
      config: { access: OWNER },
      schema: {
        tags,
        summary: 'Edit a restaurant (owner or admin)',
        params: RestaurantParams,
        body: UpdateRestaurantBody,
        response: { 200: RestaurantResponse, ...errors },
      },
    },
    async (request) =>
      ownerRestaurantView(
        await catalog.restaurants.update(callerOf(request), request.params.id, request.body),
      ),
  );

  app.post(
    '/v1/admin/restaurants/:id/verify',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Verify, reject (with a reason), suspend or reinstate a restaurant',
        params: RestaurantParams,
        body: StatusBody,
        response: { 200: RestaurantResponse, ...errors },
      },
    },
    async (request) => {
      const restaurant = await catalog.restaurants.decide(
        callerOf(request),
        request.params.id,
        request.body.decision ?? 'verify',
        request.body.reason,
      );
      return ownerRestaurantView(restaurant);
    },
  );

  app.get(
    '/v1/restaurants',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'Search restaurants: text, filters, sorts, facets, cursor pages',
        querystring: SearchQuerystring,
        response: { 200: SearchResponse, 400: ProblemSchema },
      },
    },
    async (request) => catalog.search.search(request.query, pickLanguage(request.headers['accept-language'])),
  );

  app.get(
    '/v1/search/autocomplete',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'Suggestions over restaurants, dishes and cuisines',
        querystring: AutocompleteQuerystring,
        response: { 200: AutocompleteResponse, 400: ProblemSchema },
      },
    },
    async (request) =>
      catalog.search.autocomplete(
        request.query.q,
        request.query.limit,
        pickLanguage(request.headers['accept-language']),
      ),
  );

  app.get(
    '/v1/restaurants/:id',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'A restaurant: profile, open now, next opening, rating, delivery estimate',
        params: RestaurantParams,
        querystring: PointQuerystring,
        response: { 200: RestaurantResponse, 304: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { lat, lng } = request.query;
      if ((lat === undefined) !== (lng === undefined))
        throw new HttpProblem(400, 'invalid_coordinates', 'Send lat and lng together.');
      const point = lat === undefined || lng === undefined ? undefined : { latitude: lat, longitude: lng };
      const { body, etag } = await catalog.restaurants.profile(request.params.id, viewerOf(request), point);
      reply.header('etag', etag).header('cache-control', 'private, max-age=0, must-revalidate');
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(null);
      return body;
    },
  );

  app.get(
    '/v1/restaurants/:id/menu',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: 'The whole menu, orderable-now marked; ETag/304; gzip when accepted',
        params: RestaurantParams,
        response: { 200: MenuResponse, 304: Type.Null(), ...errors },
      },
    },
    async (request, reply) =>
      serveMenu(
        request,
        reply,
        await catalog.menu.view(
          request.params.id,
          pickLanguage(request.headers['accept-language']),
          viewerOf(request),
        ),
      ),
  );

  registerMenuWrites(root, services);
  registerMenuSyncRoutes(root, { catalog, db: services.db });
  registerReviewRoutes(root, services);
  registerCityRoutes(root, { catalog, idempotencyDb: db, callerOf });
  registerDeliveryAreaRoutes(root, { catalog, callerOf });

  app.get(
    '/v1/admin/restaurants',
    {
      config: { access: ADMIN },
      schema: {
        tags,
        summary: 'Restaurants by status (the verification queue), oldest first',
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union(
                ['pending_verification', 'active', 'rejected', 'suspended'].map((status) =>
                  Type.Literal(status),
                ),
              ),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AnyObject) }), ...errors },
      },
    },
    async (request) => {
      const rows = await services.db
        .selectFrom('restaurants')
        .select(['id', 'name', 'city', 'status', 'created_at'])
        .where('status', '=', request.query.status ?? 'pending_verification')
        .orderBy('created_at')
        .limit(request.query.limit ?? 50)
        .execute();
      return {
        items: rows.map((row) => ({
          id: row.id,
          name: row.name,
          city: row.city,
          status: row.status,
          createdAt: row.created_at.toISOString(),
        })),
      };
    },
  );
}

function serveMenu(
  request: FastifyRequest,
  reply: FastifyReply,
  menu: { etag: string; raw: Buffer; gzip: Buffer; active: boolean },
) {
  reply
    .header('etag', menu.etag)
    .header('vary', 'Accept-Language, Accept-Encoding')
    .header('cache-control', `${menu.active ? 'public' : 'private'}, max-age=0, must-revalidate`);
  if (etagMatches(request.headers['if-none-match'], menu.etag)) return reply.code(304).send(null);
  reply.type('application/json; charset=utf-8');
  const acceptEncoding = request.headers['accept-encoding'];
  if (typeof acceptEncoding === 'string' && /\bgzip\b/.test(acceptEncoding)) {
    return reply.header('content-encoding', 'gzip').send(menu.gzip);
  }
  return reply.send(menu.raw);
}

function registerMenuWrites(root: FastifyInstance, services: CatalogRouteServices): void {
  const typed = root.withTypeProvider<TypeBoxTypeProvider>();
  const { catalog } = services;
  const db = services.runtime.database.db;
  const tags = ['catalog'];
  const created = (scope: string) => ({ scope });

  typed.post(
    '/v1/restaurants/:id/menu/categories',
    {
      config: { idempotency: 'optional', location: true, access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Add a menu category',
        params: RestaurantParams,
        body: CategoryBody,
        response: { 201: AnyObject, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return withIdempotency(db, request, reply, created(`catalog:category:${caller.userId}`), async () => {
        const category = categoryView(
          await catalog.menu.createCategory(caller, request.params.id, request.body),
        );
        reply.header('location', `/v1/restaurants/${request.params.id}/menu/categories/${category.id}`);
        return { statusCode: 201, body: category };
      });
    },
  );

  typed.patch(
    '/v1/restaurants/:id/menu/categories/:categoryId',
    {
      config: { access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Edit, reorder, schedule or archive a category',
        params: CategoryParams,
        body: CategoryPatch,
        response: { 200: AnyObject, ...errors },
      },
    },
    async (request) =>
      categoryView(
        await catalog.menu.updateCategory(
          callerOf(request),
          request.params.id,
          request.params.categoryId,
          request.body,
        ),
      ),
  );

  typed.post(
    '/v1/restaurants/:id/menu/items',
    {
      config: { idempotency: 'optional', location: true, access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Add a menu item',
        params: RestaurantParams,
        body: ItemBody,
        response: { 201: AnyObject, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return withIdempotency(db, request, reply, created(`catalog:item:${caller.userId}`), async () => {
        const item = itemOwnerView(await catalog.menu.createItem(caller, request.params.id, request.body));
        reply.header('location', `/v1/restaurants/${request.params.id}/menu/items/${item.id}`);
        return { statusCode: 201, body: item };
      });
    },
  );

  typed.patch(
    '/v1/restaurants/:id/menu/items/:itemId',
    {
      config: { access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Edit an item: price, discount, stock (0 disables, restock re-enables), schedule, archive',
        params: ItemParams,
        body: ItemPatch,
        response: { 200: AnyObject, ...errors },
      },
    },
    async (request) =>
      itemOwnerView(
        await catalog.menu.updateItem(
          callerOf(request),
          request.params.id,
          request.params.itemId,
          request.body,
        ),
      ),
  );

  typed.post(
    '/v1/restaurants/:id/menu/modifier-groups',
    {
      config: { idempotency: 'optional', location: true, access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Add a modifier group to an item (min ≤ max selections)',
        params: RestaurantParams,
        body: ModifierGroupBody,
        response: { 201: AnyObject, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return withIdempotency(
        db,
        request,
        reply,
        created(`catalog:modifier-group:${caller.userId}`),
        async () => {
          const group = groupView(
            await catalog.menu.createModifierGroup(caller, request.params.id, request.body),
          );
          reply.header('location', `/v1/restaurants/${request.params.id}/menu/modifier-groups/${group.id}`);
          return { statusCode: 201, body: group };
        },
      );
    },
  );

  typed.patch(
    '/v1/restaurants/:id/menu/modifier-groups/:groupId',
    {
      config: { access: MENU_EDITOR },
      schema: {
        tags,
        summary: 'Edit a modifier group',
        params: GroupParams,
        body: ModifierGroupPatch,
        response: { 200: AnyObject, ...errors },
      },
    },
    async (request) =>
      groupView(
        await catalog.menu.updateModifierGroup(
          callerOf(request),
          request.params.id,
          request.params.groupId,
          request.body,
        ),
      ),
  );
}

function registerReviewRoutes(root: FastifyInstance, services: CatalogRouteServices): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { reviews } = services.catalog;
  const db = services.runtime.database.db;
  const tags = ['reviews'];
  const ReviewParams = Type.Object({ reviewId: Uuid });
  const DriverParams = Type.Object({ driverId: Uuid });

  app.get(
    '/v1/restaurants/:id/reviews',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: "A restaurant's reviews, newest first",
        params: RestaurantParams,
        querystring: ReviewsQuerystring,
        response: { 200: AnyObject, 400: ProblemSchema },
      },
    },
    async (request) => reviews.list(request.params.id, request.query),
  );

  app.post(
    '/v1/restaurants/:id/reviews',
    {
      config: { idempotency: 'optional', access: CUSTOMER },
      schema: {
        tags,
        summary: 'Review a restaurant after a completed order (once per order)',
        params: RestaurantParams,
        body: ReviewBody,
        response: { 201: AnyObject, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return withIdempotency(db, request, reply, { scope: `catalog:review:${caller.userId}` }, async () => ({
        statusCode: 201,
        body: await reviews.reviewRestaurant(caller, request.params.id, request.body),
      }));
    },
  );

  app.post(
    '/v1/reviews/:reviewId/helpful',
    {
      config: { access: CUSTOMER },
      schema: {
        tags,
        summary: 'Mark a review helpful (once per user)',
        params: ReviewParams,
        response: { 200: AnyObject, ...errors },
      },
    },
    async (request) => reviews.voteHelpful(callerOf(request), request.params.reviewId),
  );

  app.post(
    '/v1/reviews/:reviewId/reply',
    {
      config: {
        access: { permissions: ['RESTAURANT_MANAGEMENT'], ownership: 'the owner of the reviewed restaurant' },
      },
      schema: {
        tags,
        summary: "The owner's one reply to a review",
        params: ReviewParams,
        body: ReplyBody,
        response: { 200: AnyObject, ...errors },
      },
    },
    async (request) => reviews.reply(callerOf(request), request.params.reviewId, request.body.reply),
  );

  app.post(
    '/v1/drivers/:driverId/ratings',
    {
      config: { idempotency: 'optional', access: CUSTOMER },
      schema: {
        tags,
        summary: 'Rate the driver of a completed order (once per order)',
        params: DriverParams,
        body: ReviewBody,
        response: { 201: AnyObject, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `catalog:driver-rating:${caller.userId}` },
        async () => ({
          statusCode: 201,
          body: await reviews.rateDriver(caller, request.params.driverId, request.body),
        }),
      );
    },
  );

  app.get(
    '/v1/drivers/:driverId/rating',
    {
      config: { access: PUBLIC },
      schema: {
        tags,
        summary: "A driver's average rating and count",
        params: DriverParams,
        response: { 200: AnyObject, 400: ProblemSchema },
      },
    },
    async (request) => reviews.driverRating(request.params.driverId),
  );
}
