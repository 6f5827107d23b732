/**
 * Favourites (docs/community.md): `GET /v1/me/favourites`, `PUT`/`DELETE
 * /v1/me/favourites/{restaurants|dishes}/{id}`, and the quick reorder into the cart, `POST
 * /v1/me/favourites/{restaurants|dishes}/{id}/cart`. A customer's own favourites only: every
 * route reads the caller's id from their token, never from the request.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Favourites } from './favourites.js';
import type { FavouriteKind } from './tables.js';

const OWN: RouteAccess = { permissions: ['PROFILE_MANAGEMENT'], ownership: "the caller's own favourites" };
const tags = ['favourites'];
/** The problems every community route may answer (its routes and group orders' share them). */
export const problems = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
const Uuid = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Uuid });
const Localized = (nullable: boolean) =>
  Type.Object({
    fr: nullable ? Type.Union([Type.String(), Type.Null()]) : Type.String(),
    en: Type.Union([Type.String(), Type.Null()]),
  });
const Photo = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]);

const FavouritesSchema = Type.Object({
  restaurants: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      description: Localized(true),
      cuisines: Type.Array(Type.String()),
      city: Type.String(),
      active: Type.Boolean({ description: 'takes orders (an inactive one stays in the list)' }),
      ratingAverage: Type.Union([Type.Number(), Type.Null()]),
      ratingCount: Type.Integer(),
      logo: Photo,
      favouritedAt: Type.String({ format: 'date-time' }),
    }),
    { maxItems: 100 },
  ),
  dishes: Type.Array(
    Type.Object({
      id: Type.String(),
      restaurantId: Type.String(),
      name: Localized(false),
      description: Localized(true),
      priceMinor: Type.Integer({ description: 'XAF' }),
      discountPriceMinor: Type.Union([Type.Integer(), Type.Null()]),
      photo: Photo,
      listed: Type.Boolean({ description: "on an active restaurant's menu" }),
      orderable: Type.Boolean({ description: 'can be ordered now (available, in stock)' }),
      favouritedAt: Type.String({ format: 'date-time' }),
    }),
    { maxItems: 100 },
  ),
});

const CartSchema = Type.Object({
  restaurantId: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(
    Type.Object({ itemId: Type.String(), quantity: Type.Integer(), optionIds: Type.Array(Type.String()) }),
  ),
});
const DishCartBody = Type.Object(
  {
    quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 1 })),
    replaceCart: Type.Optional(
      Type.Boolean({ description: "replace a cart of another restaurant's dishes" }),
    ),
  },
  { additionalProperties: false },
);
const RestaurantCartBody = Type.Object(
  { replaceCart: Type.Optional(Type.Boolean({ description: 'replace what the cart holds' })) },
  { additionalProperties: false },
);

/** The caller's id, from their token (never from the request). */
export function userIdOf(request: FastifyRequest): string {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal.userId;
}

const KINDS: [FavouriteKind, string][] = [
  ['restaurant', 'restaurants'],
  ['dish', 'dishes'],
];

export function registerFavouriteRoutes(root: FastifyInstance, favourites: Favourites): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/v1/me/favourites', {
    config: { access: OWN },
    schema: {
      tags,
      summary: 'Your favourite restaurants and dishes, newest first, with whether each can be ordered now',
      response: { 200: FavouritesSchema, ...problems },
    },
    handler: async (request) => favourites.list(userIdOf(request)),
  });
  for (const [kind, segment] of KINDS) {
    app.put(`/v1/me/favourites/${segment}/:id`, {
      config: { access: OWN },
      schema: {
        tags,
        summary: `Favourite a ${kind} (idempotent: created says whether it is new; at most 100 of each kind)`,
        params: IdParams,
        response: { 200: Type.Object({ created: Type.Boolean() }), ...problems },
      },
      handler: async (request) => favourites.add(userIdOf(request), kind, request.params.id),
    });
    app.delete(`/v1/me/favourites/${segment}/:id`, {
      config: { access: OWN },
      schema: {
        tags,
        summary: `Remove a ${kind} from your favourites (204, also when it was not one)`,
        params: IdParams,
        response: { 204: Type.Null(), ...problems },
      },
      handler: async (request, reply) => {
        await favourites.remove(userIdOf(request), kind, request.params.id);
        return (reply as FastifyReply).code(204).send() as never;
      },
    });
  }
  app.post('/v1/me/favourites/dishes/:id/cart', {
    config: { access: OWN },
    schema: {
      tags,
      summary: 'Quick reorder: a favourite dish into your cart (then check out as usual)',
      params: IdParams,
      body: DishCartBody,
      response: { 200: CartSchema, ...problems },
    },
    handler: async (request) =>
      favourites.dishToCart(
        userIdOf(request),
        request.params.id,
        request.body.quantity ?? 1,
        request.body.replaceCart === true,
      ),
  });
  app.post('/v1/me/favourites/restaurants/:id/cart', {
    config: { access: OWN },
    schema: {
      tags,
      summary: 'Quick reorder: your last order at a favourite restaurant into your cart (then check out)',
      params: IdParams,
      body: RestaurantCartBody,
      response: { 200: CartSchema, ...problems },
    },
    handler: async (request) =>
      favourites.restaurantToCart(userIdOf(request), request.params.id, request.body.replaceCart === true),
  });
}
