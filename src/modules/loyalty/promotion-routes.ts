/**
 * Promotions without codes: admins (platform-funded) and restaurant owners (restaurant-funded,
 * their restaurant) create, list, withdraw and read the return of them (creation and withdrawal
 * audited); anyone sees a restaurant's promotions beside its menu, with their end time.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { MAX_COUPON_AMOUNT_XAF } from './coupon-rules.js';
import type { CouponCaller } from './coupons.js';
import { MAX_PROMOTION_PAGE } from './promotion-repository.js';
import type { Promotions, PromotionView } from './promotions.js';

const MANAGERS: RouteAccess = {
  permissions: ['FULL_SYSTEM_ACCESS', 'RESTAURANT_MANAGEMENT'],
  ownership: "admins: every promotion; restaurant owners: their own restaurants' promotions",
};
const tags = ['promotions'];
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
const Money = Type.Integer({ minimum: 1, maximum: Number(MAX_COUPON_AMOUNT_XAF) });
const Uuid = Type.String({ format: 'uuid' });
const Clock = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$',
  description: 'HH:MM, Cameroon time',
});
const Kind = Type.Union([Type.Literal('percent'), Type.Literal('fixed'), Type.Literal('free_delivery')]);

const PromotionFields = {
  id: Type.String(),
  name: Type.String(),
  fundedBy: Type.Union([Type.Literal('platform'), Type.Literal('restaurant')]),
  restaurantId: Nullable(Type.String()),
  kind: Kind,
  percent: Nullable(Type.String()),
  amountMinor: Nullable(Type.Integer()),
  maxDiscountMinor: Nullable(Type.Integer()),
  minSubtotalMinor: Type.Integer(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  weekdays: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), {
    description: '0 = Sunday … 6 = Saturday',
  }),
  from: Type.String(),
  until: Type.String(),
  disabledAt: Nullable(Type.String({ format: 'date-time' })),
};
const Promotion = Type.Object(PromotionFields);

const NewPromotion = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    kind: Kind,
    percent: Type.Optional(Type.String({ maxLength: 6, pattern: '^[0-9]{1,3}(\\.[0-9]{1,2})?$' })),
    amountMinor: Type.Optional(Money),
    maxDiscountMinor: Type.Optional(Money),
    minSubtotalMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: Number(MAX_COUPON_AMOUNT_XAF) })),
    startsAt: Type.String({ format: 'date-time', maxLength: 40 }),
    endsAt: Type.String({ format: 'date-time', maxLength: 40 }),
    weekdays: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7, uniqueItems: true }),
    ),
    from: Type.Optional(Clock),
    until: Type.Optional(Clock),
    restaurantId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const Roi = Type.Object({
  promotion: Promotion,
  orders: Type.Integer({ description: 'delivered orders that had the promotion' }),
  revenueMinor: Type.Integer(),
  foodMinor: Type.Integer(),
  discountCostMinor: Type.Integer(),
  fundedBy: Type.Union([Type.Literal('platform'), Type.Literal('restaurant')]),
  ledger: Type.Object({ promotionFundingMinor: Type.Integer(), restaurantShareMinor: Type.Integer() }),
  customers: Type.Integer(),
  repeatCustomers: Type.Integer(),
  repeatRatePercent: Type.String(),
  foodPerDiscountFranc: Nullable(Type.String()),
});

export interface PromotionRouteServices {
  promotions: Promotions;
  runtime: Runtime;
}

function callerOf(request: FastifyRequest): CouponCaller {
  const principal = request.principal;
  if (principal === null || principal.kind !== 'user')
    throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return {
    userId: principal.userId,
    admin: principal.permissions.has('FULL_SYSTEM_ACCESS'),
    actor: {
      kind: 'user',
      userId: principal.userId,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      requestId: request.id,
    },
  };
}

export function registerPromotionRoutes(
  root: FastifyInstance,
  { promotions, runtime }: PromotionRouteServices,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;
  const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

  app.post(
    '/v1/promotions',
    {
      config: { idempotency: 'optional', location: true, access: MANAGERS },
      schema: {
        tags,
        summary:
          'Create a promotion without a code (happy hour, fixed discount, free delivery above an amount)',
        body: NewPromotion,
        response: { 201: Promotion, ...errors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const scope = `promotion:${caller.userId}`;
      const key = request.headers['idempotency-key'];
      const id = typeof key === 'string' ? keyedUuid('promotion', scope, key) : undefined;
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const promotion = await promotions.create(caller, request.body, id);
        reply.header('location', `/v1/promotions/${promotion.id}/roi`);
        return { statusCode: 201, body: promotion };
      });
      return answer as PromotionView;
    },
  );

  app.get(
    '/v1/promotions',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'Promotions, newest first: an owner names their restaurant; an admin may filter by one',
        querystring: Type.Object({
          restaurantId: Type.Optional(Uuid),
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PROMOTION_PAGE, default: 20 })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(Promotion), nextCursor: Nullable(Type.String()) }),
          ...errors,
        },
      },
    },
    async (request) => promotions.list(callerOf(request), request.query),
  );

  app.post(
    '/v1/promotions/:id/disable',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'Withdraw a promotion from new orders',
        params: IdParams,
        response: { 200: Promotion, ...errors },
      },
    },
    async (request) => promotions.disable(callerOf(request), request.params.id),
  );

  app.get(
    '/v1/promotions/:id/roi',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary:
          'A promotion’s return: delivered orders, revenue, discount cost (and the ledger’s bookings), repeat rate',
        params: IdParams,
        response: { 200: Roi, ...errors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return promotions.roi(callerOf(request), request.params.id);
    },
  );

  app.get(
    '/v1/restaurants/:id/promotions',
    {
      config: { access: { public: true, description: 'what a menu shows' } },
      schema: {
        tags,
        summary:
          'The promotions of a restaurant in their validity window, with their hours, end time and whether they run now',
        params: Type.Object({ id: Uuid }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ ...PromotionFields, activeNow: Type.Boolean() })),
          }),
          ...errors,
        },
      },
    },
    async (request) => promotions.forRestaurant(request.params.id),
  );
}
