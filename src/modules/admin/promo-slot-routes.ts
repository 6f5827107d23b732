/**
 * Promotional slots (docs/admin.md "Promotional slots"): admins sell positions on a city's home
 * feed (create, change, cancel, list; audited; Idempotency-Key on creation), and the apps read the
 * running ones for the home screen.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { preferredLanguage } from '../../http/problem-catalogue.js';
import { ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { signedInActorOf } from '../identity/index.js';
import { PROMO_POSITIONS, PROMO_PRICE_MAX_MINOR } from './promo-slot-rules.js';
import { adminErrors } from './errors.js';
import { PROMO_PAGE_MAX, type PromoSlotChange, type PromoSlotInput, type PromoSlots } from './promo-slots.js';

const ADMINS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };
const tags = ['admin'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  429: ProblemSchema,
};
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const CityId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,39}$', description: 'a city id, e.g. douala' });
const Position = Type.Integer({ minimum: 1, maximum: PROMO_POSITIONS, description: '1 is the first card' });
const Price = Type.Integer({
  minimum: 0,
  maximum: PROMO_PRICE_MAX_MINOR,
  description: 'the agreed price, XAF',
});
const Headline = Type.Object(
  {
    fr: Type.String({ minLength: 1, maxLength: 80 }),
    en: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  },
  { additionalProperties: false },
);
const Slot = Type.Object({
  id: Type.String({ format: 'uuid' }),
  restaurantId: Type.String({ format: 'uuid' }),
  city: Type.String(),
  position: Type.Integer(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  priceMinor: Type.Integer(),
  headline: Type.Object({ fr: Type.String(), en: Nullable(Type.String()) }),
  status: Type.Unsafe<'scheduled' | 'running' | 'ended' | 'cancelled'>({
    type: 'string',
    enum: ['scheduled', 'running', 'ended', 'cancelled'],
  }),
  version: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  cancelledAt: Nullable(Type.String({ format: 'date-time' })),
  cancelledBy: Nullable(Type.String()),
});
const Params = Type.Object({ id: Type.String({ format: 'uuid' }) });
const FeedItem = Type.Object({
  slotId: Type.String({ format: 'uuid' }),
  position: Type.Integer(),
  headline: Type.String(),
  endsAt: Type.String({ format: 'date-time' }),
  restaurant: Type.Object({
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    cuisines: Type.Array(Type.String()),
    ratingAverage: Nullable(Type.Number()),
    ratingCount: Type.Integer(),
  }),
});

export function registerPromoSlotRoutes(root: FastifyInstance, slots: PromoSlots, runtime: Runtime): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/admin/promo-slots',
    {
      config: { access: ADMINS, idempotency: 'optional', location: true },
      schema: {
        tags,
        summary: "Sell a position on a city's home feed to a restaurant for a period (audited)",
        body: Type.Object(
          {
            restaurantId: Type.String({ format: 'uuid' }),
            city: CityId,
            position: Position,
            startsAt: Type.String({ format: 'date-time' }),
            endsAt: Type.String({ format: 'date-time' }),
            priceMinor: Price,
            headline: Headline,
          },
          { additionalProperties: false },
        ),
        response: { 201: Slot, ...errors },
      },
    },
    async (request, reply) => {
      const actor = signedInActorOf(request);
      const scope = `admin:promo-slot:${actor.userId}`;
      const key = idempotencyKey(request, false);
      const answer = await withIdempotency(runtime.database.db, request, reply, { scope }, async () => {
        const slot = await slots.create(
          request.body as PromoSlotInput,
          actor,
          key === undefined ? undefined : keyedUuid('promo-slot', scope, key),
        );
        reply.header('location', `/v1/admin/promo-slots/${slot.id}`);
        return { statusCode: 201, body: slot };
      });
      return answer as Static<typeof Slot>;
    },
  );

  app.get(
    '/v1/admin/promo-slots',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Promotional placements, newest first (cursor pages)',
        querystring: Type.Object(
          {
            city: Type.Optional(CityId),
            restaurantId: Type.Optional(Type.String({ format: 'uuid' })),
            current: Type.Optional(
              Type.Boolean({ description: 'true: not cancelled and not ended; false: the others' }),
            ),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PROMO_PAGE_MAX })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Slot), nextCursor: Nullable(Type.String()) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => slots.list(request.query),
  );

  app.get(
    '/v1/admin/promo-slots/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'One promotional placement',
        params: Params,
        response: { 200: Slot, ...errors },
      },
    },
    async (request) => slots.get(request.params.id),
  );

  app.patch(
    '/v1/admin/promo-slots/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Change a placement not ended: position, period, price or headline (audited)',
        params: Params,
        body: Type.Object(
          {
            expectedVersion: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
            position: Type.Optional(Position),
            startsAt: Type.Optional(Type.String({ format: 'date-time' })),
            endsAt: Type.Optional(Type.String({ format: 'date-time' })),
            priceMinor: Type.Optional(Price),
            headline: Type.Optional(Headline),
          },
          { additionalProperties: false },
        ),
        response: { 200: Slot, ...errors },
      },
    },
    async (request) =>
      slots.change(request.params.id, request.body as PromoSlotChange, signedInActorOf(request)),
  );

  app.delete(
    '/v1/admin/promo-slots/:id',
    {
      config: { access: ADMINS },
      schema: {
        tags,
        summary: 'Cancel a placement not ended (audited; again: the same answer)',
        params: Params,
        response: { 200: Slot, ...errors },
      },
    },
    async (request) => slots.cancel(request.params.id, signedInActorOf(request)),
  );

  app.get(
    '/v1/home/promotions',
    {
      config: { access: { public: true, description: 'the home feed’s paid placements' } },
      schema: {
        tags: ['catalog'],
        summary: "The home feed's promoted restaurants of a city now, by position",
        querystring: Type.Object(
          { city: CityId, lang: Type.Optional(Type.String({ maxLength: 5 })) },
          {
            additionalProperties: false,
          },
        ),
        response: {
          200: Type.Object({ city: Type.String(), items: Type.Array(FeedItem) }),
          400: ProblemSchema,
          404: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const { city } = request.query;
      if (!(await slots.cityExists(city)))
        throw adminErrors.of('not_found', 'city_not_found', 'No city has this id.');
      const language = preferredLanguage(request.headers['accept-language'], request.query.lang);
      reply.header('cache-control', 'public, max-age=30').header('vary', 'accept-language');
      return { city, items: await slots.feed(city, language) };
    },
  );
}
