/**
 * Bulk orders' routes (docs/community.md, "Bulk orders"). The customer requests (paying the
 * deposit), reads and lists their own, accepts a proposal, pays the balance and cancels; the
 * restaurant's owner (or an administrator) lists its requests and confirms, refuses or proposes
 * another time. A request is seen only by its customer and its restaurant's owner (404 for anyone
 * else). Every id is the caller's, from their token.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import type { Db } from '../../db/database.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { BulkActor, BulkMobileMoney, BulkOrders } from './bulk-orders.js';
import { BULK_MAX_LINES, BULK_MAX_QUANTITY_PER_LINE, BULK_NOTE_MAX_LENGTH } from './bulk-rules.js';
import { problems, userIdOf } from './routes.js';
import type { BulkOrderStatus } from './tables.js';

const CUSTOMER: RouteAccess = {
  permissions: ['CART_MANAGEMENT'],
  ownership: "the customer's own bulk orders (404 for others)",
};
const RESTAURANT: RouteAccess = {
  permissions: ['ORDER_PROCESSING'],
  ownership: "bulk orders of the caller's own restaurant, or an admin (404 for others)",
};
const EITHER: RouteAccess = {
  permissions: ['CART_MANAGEMENT', 'ORDER_PROCESSING'],
  ownership: "the bulk order's customer or its restaurant's owner, or an admin (404 for others)",
};
const tags = ['bulk-orders'];
const Uuid = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Uuid });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
const STATUSES: BulkOrderStatus[] = [
  'awaiting_deposit',
  'requested',
  'proposed',
  'confirmed',
  'placing',
  'placed',
  'cancelled',
  'refused',
  'expired',
  'failed',
];
const Line = Type.Object(
  {
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: BULK_MAX_QUANTITY_PER_LINE }),
    optionIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
const LineView = Type.Object({
  itemId: Type.String(),
  quantity: Type.Integer(),
  optionIds: Type.Array(Type.String()),
});
const Delivery = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    text: Type.String({ minLength: 3, maxLength: 300 }),
  },
  { additionalProperties: false },
);
const Instant = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);
const BulkOrderSchema = Type.Object({
  id: Type.String(),
  restaurantId: Type.String(),
  customerId: Type.String(),
  status: Type.String({
    description:
      'awaiting_deposit (Mobile Money, yours only), requested, proposed, confirmed, placing, placed, cancelled, refused, expired or failed',
  }),
  items: Type.Array(LineView, { maxItems: BULK_MAX_LINES }),
  delivery: Type.Object({ latitude: Type.Number(), longitude: Type.Number(), text: Type.String() }),
  note: Nullable(Type.String()),
  scheduledFor: Type.String({ format: 'date-time' }),
  totalMinor: Type.Integer({ description: "XAF, orders' quote at the request" }),
  depositMinor: Type.Integer({ description: 'taken into escrow with the request' }),
  balanceMinor: Type.Integer(),
  balancePaid: Type.Boolean(),
  depositPaid: Type.Boolean({ description: 'false while a Mobile Money request waits for its deposit' }),
  collecting: Type.Union([Type.Literal('deposit'), Type.Literal('balance'), Type.Null()], {
    description: 'the part a Mobile Money payment is collecting now',
  }),
  balanceDueBy: Type.String({ format: 'date-time' }),
  respondBy: Nullable(Type.String({ format: 'date-time', description: 'while an answer is awaited' })),
  proposal: Type.Union([
    Type.Object({ scheduledFor: Type.String({ format: 'date-time' }), note: Nullable(Type.String()) }),
    Type.Null(),
  ]),
  depositRefundMinor: Type.Union([
    Type.Integer({ description: 'once ended: what of the deposit went back' }),
    Type.Null(),
  ]),
  orderId: Nullable(Type.String({ description: 'once placed' })),
  failure: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});
/** A Mobile Money payment of a part (payments' attempt; dial `ussdCode` to approve it). */
const MobileMoney = Type.Object(
  {
    method: Type.Literal('mobile_money'),
    phone: Type.String({ minLength: 6, maxLength: 20 }),
    operator: Type.Optional(Type.Union([Type.Literal('MTN'), Type.Literal('ORANGE')])),
  },
  { additionalProperties: false },
);
const CollectionSchema = Type.Object({
  paymentId: Type.String(),
  status: Type.String({ description: 'PENDING, SUCCEEDED, FAILED or EXPIRED (payments’ attempt)' }),
  amountMinor: Type.Integer(),
  provider: Nullable(Type.String()),
  ussdCode: Nullable(Type.String()),
  failureReason: Nullable(Type.String()),
});
const CollectingSchema = Type.Object({ bulkOrder: BulkOrderSchema, collection: CollectionSchema });
const PageSchema = Type.Object({
  items: Type.Array(BulkOrderSchema, { maxItems: 50 }),
  nextCursor: Nullable(Type.String()),
});
const PageQuery = {
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
};

function mobileMoney(
  payment: { phone: string; operator?: 'MTN' | 'ORANGE' },
  idempotencyKey: string,
): BulkMobileMoney {
  return {
    phone: payment.phone,
    ...(payment.operator === undefined ? {} : { operator: payment.operator }),
    idempotencyKey,
  };
}

function actorOf(request: FastifyRequest): BulkActor {
  const userId = userIdOf(request);
  return { userId, admin: request.principal?.permissions.has('FULL_SYSTEM_ACCESS') === true };
}

export function registerBulkOrderRoutes(root: FastifyInstance, bulk: BulkOrders, db: Db): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/v1/bulk-orders', {
    config: { access: CUSTOMER, idempotency: 'required', location: true },
    schema: {
      tags,
      summary:
        'Request a bulk order (Idempotency-Key required): priced now, its deposit taken from your wallet into escrow, then sent to the restaurant',
      body: Type.Object(
        {
          restaurantId: Uuid,
          items: Type.Array(Line, { minItems: 1, maxItems: BULK_MAX_LINES }),
          delivery: Delivery,
          scheduledFor: Instant,
          note: Type.Optional(Text(BULK_NOTE_MAX_LENGTH)),
          payment: Type.Optional(
            Type.Union([
              Type.Object({ method: Type.Literal('wallet') }, { additionalProperties: false }),
              MobileMoney,
            ]),
          ),
        },
        { additionalProperties: false },
      ),
      response: { 201: BulkOrderSchema, 202: CollectingSchema, 503: ProblemSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      const key = idempotencyKey(request, true)!;
      const scope = `bulk-order:${userId}`;
      return withIdempotency(db, request, reply, { scope, required: true }, async () => {
        const body = request.body;
        const input = {
          restaurantId: body.restaurantId,
          items: body.items.map((line) => ({ ...line, optionIds: line.optionIds ?? [] })),
          delivery: body.delivery,
          scheduledFor: body.scheduledFor,
          note: body.note ?? null,
        };
        const ids = {
          id: keyedUuid('bulk-order', scope, key),
          orderId: keyedUuid('bulk-order-order', scope, key),
        };
        if (body.payment?.method === 'mobile_money') {
          // The deposit by Mobile Money: the request waits for it (202), seen by you only till then.
          const started = await bulk.requestByMobileMoney(userId, input, ids, mobileMoney(body.payment, key));
          reply.header('location', `/v1/bulk-orders/${started.bulkOrder.id}`);
          return { statusCode: 202, body: started };
        }
        const created = await bulk.request(userId, input, ids);
        reply.header('location', `/v1/bulk-orders/${created.id}`);
        return { statusCode: 201, body: created };
      }) as never;
    },
  });
  app.get('/v1/bulk-orders', {
    config: { access: CUSTOMER },
    schema: {
      tags,
      summary: 'Your bulk orders, newest first (cursor pages)',
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: { 200: PageSchema, ...problems },
    },
    handler: async (request) =>
      bulk.listOwn(userIdOf(request), { cursor: request.query.cursor, limit: request.query.limit ?? 20 }),
  });
  app.get('/v1/bulk-orders/:id', {
    config: { access: EITHER },
    schema: {
      tags,
      summary: 'A bulk order: yours, or one of your restaurant’s',
      params: IdParams,
      response: { 200: BulkOrderSchema, ...problems },
    },
    handler: async (request) => bulk.read(actorOf(request), request.params.id),
  });
  app.get('/v1/restaurants/:id/bulk-orders', {
    config: { access: RESTAURANT },
    schema: {
      tags,
      summary: 'The bulk orders asked of your restaurant, newest first (cursor pages, optional statuses)',
      params: IdParams,
      querystring: Type.Object(
        {
          ...PageQuery,
          status: Type.Optional(
            Type.Array(Type.Union(STATUSES.map((status) => Type.Literal(status))), { maxItems: 9 }),
          ),
        },
        { additionalProperties: false },
      ),
      response: { 200: PageSchema, ...problems },
    },
    handler: async (request) =>
      bulk.listForRestaurant(actorOf(request), request.params.id, {
        cursor: request.query.cursor,
        limit: request.query.limit ?? 20,
        ...(request.query.status === undefined ? {} : { statuses: request.query.status }),
      }),
  });
  const answer = (path: string, summary: string, handler: (request: FastifyRequest) => Promise<unknown>) =>
    app.post(`/v1/bulk-orders/:id/${path}`, {
      config: { access: RESTAURANT },
      schema: { tags, summary, params: IdParams, response: { 200: BulkOrderSchema, ...problems } },
      handler: handler as never,
    });
  answer('confirm', 'Restaurant: confirm you can make it (confirming twice is confirming once)', (request) =>
    bulk.confirm(actorOf(request), (request.params as { id: string }).id),
  );
  app.post('/v1/bulk-orders/:id/refuse', {
    config: { access: RESTAURANT },
    schema: {
      tags,
      summary: 'Restaurant: refuse the request; its deposit goes back whole',
      params: IdParams,
      body: Type.Optional(Type.Object({ reason: Type.Optional(Text(300)) }, { additionalProperties: false })),
      response: { 200: BulkOrderSchema, ...problems },
    },
    handler: async (request) =>
      bulk.refuse(actorOf(request), request.params.id, request.body?.reason ?? null),
  });
  app.post('/v1/bulk-orders/:id/propose', {
    config: { access: RESTAURANT },
    schema: {
      tags,
      summary: 'Restaurant: propose another time; the customer accepts it or cancels (deposit back)',
      params: IdParams,
      body: Type.Object(
        { scheduledFor: Instant, note: Type.Optional(Text(BULK_NOTE_MAX_LENGTH)) },
        { additionalProperties: false },
      ),
      response: { 200: BulkOrderSchema, ...problems },
    },
    handler: async (request) =>
      bulk.propose(actorOf(request), request.params.id, {
        scheduledFor: request.body.scheduledFor,
        note: request.body.note ?? null,
      }),
  });
  app.post('/v1/bulk-orders/:id/accept', {
    config: { access: CUSTOMER },
    schema: {
      tags,
      summary: "Accept the restaurant's proposed time: the bulk order is confirmed for it",
      params: IdParams,
      response: { 200: BulkOrderSchema, ...problems },
    },
    handler: async (request) => bulk.accept(userIdOf(request), request.params.id),
  });
  app.post('/v1/bulk-orders/:id/deposit', {
    config: { access: CUSTOMER, idempotency: 'required' },
    schema: {
      tags,
      summary:
        'Pay the deposit of a request waiting for it by Mobile Money again (after a failed collection; Idempotency-Key required)',
      params: IdParams,
      body: MobileMoney,
      response: { 202: CollectingSchema, 503: ProblemSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      const key = idempotencyKey(request, true)!;
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `bulk-deposit:${userId}:${request.params.id}`, required: true },
        async () => ({
          statusCode: 202,
          body: await bulk.payByMobileMoney(
            userId,
            request.params.id,
            'deposit',
            mobileMoney(request.body, key),
          ),
        }),
      ) as never;
    },
  });
  app.post('/v1/bulk-orders/:id/balance', {
    config: { access: CUSTOMER, idempotency: 'optional' },
    schema: {
      tags,
      summary: 'Pay the balance of a confirmed bulk order from your wallet (Idempotency-Key)',
      params: IdParams,
      response: { 200: BulkOrderSchema, 503: ProblemSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `bulk-balance:${userId}:${request.params.id}` },
        async () => ({ statusCode: 200, body: await bulk.payBalance(userId, request.params.id) }),
      ) as never;
    },
  });
  app.post('/v1/bulk-orders/:id/balance/mobile-money', {
    config: { access: CUSTOMER, idempotency: 'required' },
    schema: {
      tags,
      summary: 'Pay the balance of a confirmed bulk order by Mobile Money (202; Idempotency-Key required)',
      params: IdParams,
      body: MobileMoney,
      response: { 202: CollectingSchema, 503: ProblemSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      const key = idempotencyKey(request, true)!;
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `bulk-balance-momo:${userId}:${request.params.id}`, required: true },
        async () => ({
          statusCode: 202,
          body: await bulk.payByMobileMoney(
            userId,
            request.params.id,
            'balance',
            mobileMoney(request.body, key),
          ),
        }),
      ) as never;
    },
  });
  app.post('/v1/bulk-orders/:id/cancel', {
    config: { access: CUSTOMER },
    schema: {
      tags,
      summary:
        'Cancel: the deposit back whole before confirmation or the free-cancellation cutoff, in part after; a paid balance back whole',
      params: IdParams,
      response: { 200: BulkOrderSchema, ...problems },
    },
    handler: async (request) => bulk.cancel(userIdOf(request), request.params.id),
  });
}
