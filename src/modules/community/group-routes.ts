/**
 * Group orders' routes (docs/community.md, "Group orders"): open a shared cart, join it by its
 * code, add your own lines, lock it (host), pay your share, cover the rest (host), abandon it
 * (host). Customers only; a cart is seen only by its members (404 for anyone else), and its
 * host-only steps answer 403 to the other members. Every id is the caller's, from their token.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { RouteAccess } from '../../http/access.js';
import type { Db } from '../../db/database.js';
import { idempotencyKey, withIdempotency } from '../../http/idempotency.js';
import { ProblemSchema } from '../../http/problem.js';
import type { GroupCarts } from './group-carts.js';
import { GROUP_CODE_LENGTH, GROUP_MAX_LINES_PER_MEMBER } from './group-rules.js';
import { problems, userIdOf } from './routes.js';

const MEMBER: RouteAccess = {
  permissions: ['CART_MANAGEMENT'],
  ownership: "the cart's members only (404 for others); lock, cover and abandon are the host's",
};
const tags = ['group-orders'];
const Uuid = Type.String({ format: 'uuid' });
const IdParams = Type.Object({ id: Uuid });
const Line = Type.Object(
  {
    itemId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: 50 }),
    optionIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
const LineView = Type.Object({
  itemId: Type.String(),
  quantity: Type.Integer(),
  optionIds: Type.Array(Type.String()),
});
const GroupCartSchema = Type.Object({
  id: Type.String(),
  code: Type.String({ description: 'what friends type to join' }),
  link: Type.String({ description: 'the link that carries the code' }),
  restaurantId: Type.String(),
  hostId: Type.String(),
  youAreHost: Type.Boolean(),
  status: Type.String({ description: 'open, locked, placing, placed, abandoned, expired or failed' }),
  paymentMode: Type.Union([Type.Literal('host'), Type.Literal('split'), Type.Null()]),
  totalMinor: Type.Union([Type.Integer({ description: 'XAF, set at lock' }), Type.Null()]),
  orderId: Type.Union([Type.String({ description: 'once placed' }), Type.Null()]),
  failure: Type.Union([Type.String({ description: 'why the order could not be placed' }), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
  members: Type.Array(
    Type.Object({ userId: Type.String(), you: Type.Boolean(), lines: Type.Array(LineView) }),
    { maxItems: 10 },
  ),
  shares: Type.Array(
    Type.Object({
      payerId: Type.String(),
      kind: Type.String({ description: "share: a member's part; cover: what the host paid for the others" }),
      amountMinor: Type.Integer(),
      status: Type.String({ description: 'due, collecting, paying, paid, waived or refunded' }),
    }),
    { maxItems: 11 },
  ),
});
const PayAnswer = Type.Object({
  cart: GroupCartSchema,
  collection: Type.Union([
    Type.Object({ paymentId: Type.String(), ussdCode: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
});

export function registerGroupCartRoutes(root: FastifyInstance, groups: GroupCarts, db: Db): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/v1/group-carts', {
    config: { access: MEMBER, idempotency: 'optional', location: true },
    schema: {
      tags,
      summary: 'Open a group cart at a restaurant (Idempotency-Key): its code and link go to your friends',
      body: Type.Object({ restaurantId: Uuid }, { additionalProperties: false }),
      response: { 201: GroupCartSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      return withIdempotency(db, request, reply, { scope: `group-cart-open:${userId}` }, async () => {
        const cart = await groups.open(userId, request.body.restaurantId);
        reply.header('location', `/v1/group-carts/${cart.id}`);
        return { statusCode: 201, body: cart };
      }) as never;
    },
  });
  app.post('/v1/group-carts/join', {
    config: { access: MEMBER },
    schema: {
      tags,
      summary: 'Join an open group cart by its code (joining twice is joining once; at most 10 members)',
      body: Type.Object(
        { code: Type.String({ minLength: GROUP_CODE_LENGTH, maxLength: 16 }) },
        { additionalProperties: false },
      ),
      response: { 200: GroupCartSchema, ...problems },
    },
    handler: async (request) => groups.join(userIdOf(request), request.body.code),
  });
  app.get('/v1/group-carts/:id', {
    config: { access: MEMBER },
    schema: {
      tags,
      summary: 'A group cart you belong to: members, their lines, shares and where it stands',
      params: IdParams,
      response: { 200: GroupCartSchema, ...problems },
    },
    handler: async (request) => groups.read(userIdOf(request), request.params.id),
  });
  app.put('/v1/group-carts/:id/lines', {
    config: { access: MEMBER },
    schema: {
      tags,
      summary: `Your own lines in an open group cart (replaces them; at most ${GROUP_MAX_LINES_PER_MEMBER})`,
      params: IdParams,
      body: Type.Object(
        { items: Type.Array(Line, { maxItems: GROUP_MAX_LINES_PER_MEMBER }) },
        { additionalProperties: false },
      ),
      response: { 200: GroupCartSchema, ...problems },
    },
    handler: async (request) =>
      groups.setLines(
        userIdOf(request),
        request.params.id,
        request.body.items.map((line) => ({ ...line, optionIds: line.optionIds ?? [] })),
      ),
  });
  app.post('/v1/group-carts/:id/lock', {
    config: { access: MEMBER },
    schema: {
      tags,
      summary: "Host: lock the cart, priced now by the orders service; payment 'host' (you pay) or 'split'",
      params: IdParams,
      body: Type.Object(
        {
          delivery: Type.Object(
            {
              latitude: Type.Number({ minimum: -90, maximum: 90 }),
              longitude: Type.Number({ minimum: -180, maximum: 180 }),
              text: Type.String({ minLength: 3, maxLength: 300 }),
            },
            { additionalProperties: false },
          ),
          tipMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
          payment: Type.Union([Type.Literal('host'), Type.Literal('split')]),
        },
        { additionalProperties: false },
      ),
      response: { 200: GroupCartSchema, ...problems },
    },
    handler: async (request) =>
      groups.lock(userIdOf(request), request.params.id, {
        delivery: request.body.delivery,
        tipMinor: request.body.tipMinor ?? 0,
        paymentMode: request.body.payment,
      }),
  });
  app.post('/v1/group-carts/:id/shares/pay', {
    config: { access: MEMBER, idempotency: 'required' },
    schema: {
      tags,
      summary:
        'Pay your share (Idempotency-Key required): from your wallet at once, or by Mobile Money (202: a top-up of your wallet by the share, taken when it arrives)',
      params: IdParams,
      body: Type.Object(
        {
          method: Type.Union([
            Type.Object({ kind: Type.Literal('wallet') }, { additionalProperties: false }),
            Type.Object(
              {
                kind: Type.Literal('mobile_money'),
                phone: Type.String({
                  minLength: 9,
                  maxLength: 20,
                  description: 'an MTN or Orange Cameroon number',
                }),
              },
              { additionalProperties: false },
            ),
          ]),
        },
        { additionalProperties: false },
      ),
      response: { 200: PayAnswer, 202: PayAnswer, 503: ProblemSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      const key = idempotencyKey(request, true)!;
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `group-share:${userId}:${request.params.id}`, required: true },
        async () => {
          const paid = await groups.pay(userId, request.params.id, request.body.method, key);
          return {
            statusCode: paid.collection === null ? 200 : 202,
            body: { cart: paid.cart, collection: paid.collection },
          };
        },
      ) as never;
    },
  });
  app.post('/v1/group-carts/:id/cover', {
    config: { access: MEMBER, idempotency: 'optional' },
    schema: {
      tags,
      summary:
        'Host: pay from your wallet what the others have not paid, and place the order (Idempotency-Key)',
      params: IdParams,
      response: { 200: GroupCartSchema, ...problems },
    },
    handler: async (request, reply) => {
      const userId = userIdOf(request);
      return withIdempotency(
        db,
        request,
        reply,
        { scope: `group-cover:${userId}:${request.params.id}` },
        async () => ({
          statusCode: 200,
          body: await groups.cover(userId, request.params.id),
        }),
      ) as never;
    },
  });
  app.post('/v1/group-carts/:id/abandon', {
    config: { access: MEMBER },
    schema: {
      tags,
      summary: 'Host: give up the cart; every paid share goes back to its payer’s wallet, once',
      params: IdParams,
      response: { 200: GroupCartSchema, ...problems },
    },
    handler: async (request) => groups.abandon(userIdOf(request), request.params.id),
  });
}
