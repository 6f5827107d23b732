/**
 * Coupons: admins (platform-funded) and restaurant owners (restaurant-funded, their restaurant
 * only) create, list, withdraw and read the return of their coupons. Creation and withdrawal are
 * audited. Customers use a coupon through `couponCode` in `POST /v1/orders`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import { keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import type { Runtime } from '../../runtime.js';
import { redemptionsCsv } from './coupon-export.js';
import { MAX_COUPON_PAGE } from './coupon-repository.js';
import { MAX_CITY_LENGTH, MAX_COUPON_AMOUNT_XAF, MAX_COUPON_USES, MAX_SCOPE_IDS } from './coupon-rules.js';
import type { CouponCaller, Coupons, CouponView } from './coupons.js';
import type { LoyaltyDb } from './tables.js';

const MANAGERS: RouteAccess = {
  permissions: ['FULL_SYSTEM_ACCESS', 'RESTAURANT_MANAGEMENT'],
  ownership: "admins: all; owners: their restaurants'",
};
/** One tag for coupons and promotions: they share their problem responses in the document. */
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
const Uses = Type.Integer({ minimum: 1, maximum: MAX_COUPON_USES });
const Uuid = Type.String({ format: 'uuid' });

// Answers name their enumerations in words: the document stays small (the request schema validates).
const Coupon = Type.Object({
  id: Type.String(),
  code: Type.String(),
  fundedBy: Type.String({ description: 'platform | restaurant' }),
  restaurantId: Nullable(Type.String()),
  kind: Type.String(),
  percent: Nullable(Type.String()),
  amountMinor: Nullable(Type.Integer()),
  maxDiscountMinor: Nullable(Type.Integer()),
  minSubtotalMinor: Type.Integer(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  totalLimit: Nullable(Type.Integer()),
  perCustomerLimit: Nullable(Type.Integer()),
  uses: Type.Integer(),
  disabledAt: Nullable(Type.String({ format: 'date-time' })),
  firstOrderOnly: Type.Boolean(),
  itemIds: Type.Unsafe<string[] | null>({ type: ['array', 'null'], items: { type: 'string' } }),
  categoryIds: Type.Unsafe<string[] | null>({ type: ['array', 'null'], items: { type: 'string' } }),
  city: Nullable(Type.String()),
});
const ScopeIds = Type.Array(Uuid, { minItems: 1, maxItems: MAX_SCOPE_IDS });

/** The creation's answer: what was created (the list shows it whole; the document stays small). */
const Created = Type.Object({
  id: Type.String(),
  code: Type.String(),
  fundedBy: Type.String({ description: 'platform | restaurant' }),
  restaurantId: Nullable(Type.String()),
});

const Withdrawn = Type.Object({ id: Type.String(), disabledAt: Type.String({ format: 'date-time' }) });

const NewCoupon = Type.Object(
  {
    code: Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9_-]+$' }),
    kind: Type.Union([Type.Literal('percent'), Type.Literal('fixed')]),
    percent: Type.Optional(
      Type.String({
        maxLength: 6,
        pattern: '^[0-9]{1,3}(\\.[0-9]{1,2})?$',
      }),
    ),
    amountMinor: Type.Optional(Money),
    maxDiscountMinor: Type.Optional(Money),
    minSubtotalMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: Number(MAX_COUPON_AMOUNT_XAF) })),
    startsAt: Type.String({ format: 'date-time', maxLength: 40 }),
    endsAt: Type.String({ format: 'date-time', maxLength: 40 }),
    totalLimit: Type.Optional(Uses),
    perCustomerLimit: Type.Optional(Uses),
    restaurantId: Type.Optional(Uuid),
    firstOrderOnly: Type.Optional(Type.Boolean()),
    itemIds: Type.Optional(ScopeIds),
    categoryIds: Type.Optional(ScopeIds),
    city: Type.Optional(
      Type.String({ minLength: 1, maxLength: MAX_CITY_LENGTH, pattern: '^[^\\u0000-\\u001f]+$' }),
    ),
  },
  { additionalProperties: false },
);

const Roi = Type.Object({
  couponId: Type.String(),
  code: Type.String(),
  orders: Type.Integer(),
  pending: Type.Integer(),
  released: Type.Integer(),
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

export interface CouponRouteServices {
  coupons: Coupons;
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

export function registerCouponRoutes(root: FastifyInstance, { coupons, runtime }: CouponRouteServices): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const db = runtime.database.db;

  app.post(
    '/v1/coupons',
    {
      config: { idempotency: 'optional', location: true, access: MANAGERS },
      schema: {
        tags,
        summary: 'Create a coupon (admin: platform-funded; owner: restaurant-funded)',
        body: NewCoupon,
        response: { 201: Created, ...errors, 409: ProblemSchema },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const scope = `coupon:${caller.userId}`;
      const key = request.headers['idempotency-key'];
      const id = typeof key === 'string' ? keyedUuid('coupon', scope, key) : undefined;
      const answer = await withIdempotency(db, request, reply, { scope }, async () => {
        const coupon = await coupons.create(caller, request.body, id);
        reply.header('location', `/v1/coupons/${coupon.id}/roi`);
        const { id: couponId, code, fundedBy, restaurantId } = coupon;
        return { statusCode: 201, body: { id: couponId, code, fundedBy, restaurantId } };
      });
      return answer as Pick<CouponView, 'id' | 'code' | 'fundedBy' | 'restaurantId'>;
    },
  );

  app.get(
    '/v1/coupons',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'Coupons, newest first',
        querystring: Type.Object({
          restaurantId: Type.Optional(Uuid),
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_COUPON_PAGE, default: 20 })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(Coupon), nextCursor: Nullable(Type.String()) }),
          ...errors,
        },
      },
    },
    async (request) => coupons.list(callerOf(request), request.query),
  );

  app.post(
    '/v1/coupons/:id/disable',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'Withdraw a coupon',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Withdrawn, ...errors },
      },
    },
    async (request) => {
      const coupon = await coupons.disable(callerOf(request), request.params.id);
      return { id: coupon.id, disabledAt: coupon.disabledAt! };
    },
  );

  app.get(
    '/v1/coupons/:id/roi',
    {
      config: { access: MANAGERS },
      schema: {
        tags,
        summary: 'A coupon’s return (orders, revenue, cost, repeat rate)',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Roi, ...errors },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'private, no-store');
      return coupons.roi(callerOf(request), request.params.id);
    },
  );
}

const FINANCE: RouteAccess = { permissions: ['FINANCIAL_OVERSIGHT'], ownership: 'admins (finance) only' };
const ExportQuery = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'redemptions created from (inclusive)' }),
    to: Type.String({ format: 'date-time', description: 'until (exclusive); at most 366 days after from' }),
    delimiter: Type.Optional(Type.Union([Type.Literal('comma'), Type.Literal('semicolon')])),
  },
  { additionalProperties: false },
);

/** `GET /v1/coupons/redemptions.csv`: every coupon use of a period for finance, streamed. */
export function registerCouponExportRoute(app: FastifyInstance, db: LoyaltyDb): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get('/v1/coupons/redemptions.csv', {
    config: { access: FINANCE },
    schema: {
      tags,
      summary:
        'Coupon redemptions of a period as CSV for finance (order, coupon, funder, restaurant, amounts, status; no customer)',
      querystring: ExportQuery,
      response: {
        200: Type.String({ contentMediaType: 'text/csv' }),
        400: ProblemSchema,
        401: ProblemSchema,
        403: ProblemSchema,
        422: ProblemSchema,
        429: ProblemSchema,
      },
    },
    handler: async (request, reply) => {
      const { from, to } = request.query;
      const stream = redemptionsCsv(
        db,
        new Date(from),
        new Date(to),
        request.query.delimiter === 'semicolon' ? ';' : ',',
      );
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="coupon-redemptions-${from.slice(0, 10)}-${to.slice(0, 10)}.csv"`.replace(
            /[^A-Za-z0-9._="; -]/g,
            '_',
          ),
        )
        .send(stream as unknown as string); // streamed: Fastify pipes a Readable unserialised
    },
  });
}
