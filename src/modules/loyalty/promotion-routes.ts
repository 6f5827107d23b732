/**
 * Promotions without codes: admins (platform-funded) and restaurant owners (restaurant-funded,
 * their restaurant) create, list, withdraw and read the return of them (creation and withdrawal
 * audited); anyone sees a restaurant's promotions beside its menu, with their end time.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { MAX_COUPON_AMOUNT_XAF } from './coupon-rules.js';
import type { CouponCaller } from './coupons.js';
import { MAX_PROMOTION_PAGE } from './promotion-repository.js';
import { MAX_PROMOTION_ITEMS, MAX_PROMOTION_QUANTITY } from './promotion-rules.js';
import type { Promotions, PromotionView } from './promotions.js';

const MANAGERS: RouteAccess = {
  permissions: ['FULL_SYSTEM_ACCESS', 'RESTAURANT_MANAGEMENT'],
  ownership: "admins: all; owners: their restaurants'",
};
const tags = ['promotions'];
const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  429: ProblemSchema,
};
/** A nullable answer field as `type: [t, "null"]` (shorter in the document than anyOf). */
const Nullable = <T extends TSchema & { type: string }>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
const Money = Type.Integer({ minimum: 1, maximum: Number(MAX_COUPON_AMOUNT_XAF) });
const Uuid = Type.String({ format: 'uuid' });
const Clock = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$',
  description: 'HH:MM, Cameroon time',
});
const Kind = Type.Union([
  Type.Literal('percent'),
  Type.Literal('fixed'),
  Type.Literal('free_delivery'),
  Type.Literal('buy_get'),
  Type.Literal('combo'),
]);
const Quantity = Type.Integer({ minimum: 1, maximum: MAX_PROMOTION_QUANTITY });

const PromotionFields = {
  id: Type.String(),
  name: Type.String(),
  fundedBy: Type.String({ description: 'platform | restaurant' }),
  restaurantId: Nullable(Type.String()),
  kind: Type.String({ description: 'percent | fixed | free_delivery | buy_get | combo' }),
  percent: Nullable(Type.String()),
  amountMinor: Nullable(Type.Integer()),
  maxDiscountMinor: Nullable(Type.Integer()),
  itemIds: Nullable(Type.Array(Type.String())),
  buyQuantity: Nullable(Type.Integer()),
  getQuantity: Nullable(Type.Integer()),
  comboPriceMinor: Nullable(Type.Integer()),
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
/** The creation's answer: what was created (the list shows it whole; the document stays small). */
const Created = Type.Object({
  id: Type.String(),
  name: Type.String(),
  fundedBy: PromotionFields.fundedBy,
  restaurantId: PromotionFields.restaurantId,
});
/** What a menu shows of a promotion. */
const MenuPromotion = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: PromotionFields.kind,
  percent: PromotionFields.percent,
  amountMinor: PromotionFields.amountMinor,
  itemIds: PromotionFields.itemIds,
  buyQuantity: PromotionFields.buyQuantity,
  getQuantity: PromotionFields.getQuantity,
  comboPriceMinor: PromotionFields.comboPriceMinor,
  minSubtotalMinor: Type.Integer(),
  endsAt: PromotionFields.endsAt,
  weekdays: Type.Array(Type.Integer()),
  from: Type.String(),
  until: Type.String(),
  activeNow: Type.Boolean(),
});

const NewPromotion = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    kind: Kind,
    percent: Type.Optional(Type.String({ maxLength: 6, pattern: '^[0-9]{1,3}(\\.[0-9]{1,2})?$' })),
    amountMinor: Type.Optional(Money),
    maxDiscountMinor: Type.Optional(Money),
    itemIds: Type.Optional(
      Type.Array(Uuid, { minItems: 1, maxItems: MAX_PROMOTION_ITEMS, uniqueItems: true }),
    ),
    buyQuantity: Type.Optional(Quantity),
    getQuantity: Type.Optional(Quantity),
    comboPriceMinor: Type.Optional(Money),
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
  promotionId: Type.String(),
  name: Type.String(),
  orders: Type.Integer(),
  revenueMinor: Type.Integer(),
  foodMinor: Type.Integer(),
  discountCostMinor: Type.Integer(),
  fundedBy: Type.String(),
  ledger: Type.Object({ promotionFundingMinor: Type.Integer(), restaurantShareMinor: Type.Integer() }),
  customers: Type.Integer(),
  newCustomers: Nullable(Type.Integer({ description: 'customers whose first order this was' })),
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
        summary: 'Create a promotion (no code: happy hour, free delivery…)',
        body: NewPromotion,
        response: { 201: Created, ...errors },
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
        const { id: promotionId, name, fundedBy, restaurantId } = promotion;
        return { statusCode: 201, body: { id: promotionId, name, fundedBy, restaurantId } };
      });
      return answer as Pick<PromotionView, 'id' | 'name' | 'fundedBy' | 'restaurantId'>;
    },
  );

  app.get(
    '/v1/promotions',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'Promotions, newest first',
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
        response: {
          200: Type.Object({ id: Type.String(), disabledAt: Type.String({ format: 'date-time' }) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const promotion = await promotions.disable(callerOf(request), request.params.id);
      return { id: promotion.id, disabledAt: promotion.disabledAt! };
    },
  );

  app.get(
    '/v1/promotions/:id/roi',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'A promotion’s return (orders, revenue, cost, repeat rate)',
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
        summary: 'A restaurant’s promotions for its menu (hours, end, running now)',
        params: Type.Object({ id: Uuid }),
        response: {
          200: Type.Object({ items: Type.Array(MenuPromotion) }),
          400: ProblemSchema,
          404: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request) => promotions.forRestaurant(request.params.id),
  );
}
