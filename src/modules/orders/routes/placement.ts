/**
 * Placing and reading orders: `POST /v1/orders` (idempotent by key: the order is named after it),
 * `GET /v1/orders/{id}` (ETag) and the quick reorder. A wallet pays in the append that creates the
 * order; a Mobile Money order tells its customer how to approve the payment.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Principal } from '../../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../../http/problem.js';
import { preferredLanguage, type Language } from '../../../http/problem-catalogue.js';
import { DomainError } from '../../../shared/errors.js';
import type { OrderState } from '../decider.js';
import type { PaymentMethod } from '../events.js';
import type { OrderPaymentProgress, OrdersContext } from '../index.js';
import {
  OFFLINE_ORDER_MAX_AGE_MS,
  OfflineOrderBody,
  OrderParams,
  OrderViewSchema,
  PlaceOrderBody,
  ReorderBody,
} from '../schemas.js';
import {
  errors,
  etagOf,
  isSupportAgent,
  metadataOf,
  PLACE,
  principalOf,
  READ,
  relationTo,
  staffMaySee,
  tags,
  type OrderApp,
  type OrderRouteServices,
  type Present,
} from './shared.js';

const WALLET_REFUSALS: ReadonlySet<string> = new Set([
  'insufficient_funds',
  'wallet_frozen',
  'limit_exceeded',
  'category_restricted',
  'category_limit_exceeded',
]);

function walletPaymentFailed(orderId: string, reason: string | null): HttpProblem {
  const code = reason !== null && WALLET_REFUSALS.has(reason) ? reason : 'payment_failed';
  return new HttpProblem(
    402,
    code,
    'The wallet could not pay this order; nothing was taken. Top up or pay by Mobile Money with a new order.',
    {
      extensions: {
        orderId,
        orderStatus: 'PAYMENT_FAILED',
        order: `/v1/orders/${orderId}`,
        ...(reason === null ? {} : { reason }),
      },
    },
  );
}

export function nextStepOf(
  progress: OrderPaymentProgress,
  method: Extract<PaymentMethod, { kind: 'mobile_money' }>,
  totalMinor: number,
  language: Language,
) {
  const ending = method.phone.slice(-2);
  const amount = `${totalMinor.toLocaleString('fr-FR').replace(/\u202f/g, ' ')} XAF`;
  const dial = progress.ussdCode !== null;
  const instructions =
    language === 'fr'
      ? dial
        ? `Composez ${progress.ussdCode} sur votre téléphone ${method.provider} (…${ending}) et validez ${amount} avec votre code PIN.`
        : `Validez la demande ${method.provider} Mobile Money de ${amount} sur votre téléphone (…${ending}) avec votre code PIN.`
      : dial
        ? `Dial ${progress.ussdCode} on your ${method.provider} phone (…${ending}) and approve ${amount} with your PIN.`
        : `Approve the ${method.provider} Mobile Money request for ${amount} on your phone (…${ending}) with your PIN.`;
  return {
    action: dial ? ('dial_ussd' as const) : ('approve_on_phone' as const),
    instructions,
    language,
    paymentUrl: `/v1/payments/${progress.paymentId}`,
  };
}

export function registerPlacementRoutes(
  app: OrderApp,
  services: OrderRouteServices,
  context: OrdersContext,
  present: Present,
): void {
  const { orders } = context;
  const db = services.runtime.database.db;

  // A Mobile Money order starts a collection (a push to the customer's phone): it counts on the
  // payment tier, per user, with the wallet's top-ups and payments. A wallet order starts no
  // collection and has the general per-user allowance (RATE_LIMIT_USER_MAX) over the same window.
  const { config } = services.runtime;
  const mobileMoney = (request: FastifyRequest) =>
    (request.body as { payment?: { kind?: string } } | undefined)?.payment?.kind === 'mobile_money';
  const placementTier = {
    hook: 'preHandler' as const,
    timeWindow: config.RATE_LIMIT_PAYMENT_WINDOW_MS,
    max: (request: FastifyRequest) => request.server.rateLimitMax(mobileMoney(request) ? 'payment' : 'user'),
    keyGenerator: (request: FastifyRequest) =>
      `${mobileMoney(request) ? 'payment' : 'orders'}:${request.principal?.userId ?? `ip:${request.ip}`}`,
  };

  /**
   * A placement with an Idempotency-Key names its order after the key: the order's stream, written
   * by the append that creates it, is the stored answer. A replay (or a retry after a crash)
   * answers the order as it is now; no answer row is written, one round trip fewer per order.
   */
  function keyedPlacement(request: FastifyRequest, reply: FastifyReply, principal: Principal) {
    const scope = `orders:${principal.userId}`;
    const key = idempotencyKey(request, false);
    const orderId = key === undefined ? undefined : keyedUuid('order', scope, key);
    const answer = async () => {
      const placed = orderId === undefined ? undefined : await orders.find(orderId);
      return placed === undefined ? undefined : placedAnswer(request, reply, principal, placed);
    };
    return { orderId, options: { scope, answer } };
  }

  async function placedAnswer(
    request: FastifyRequest,
    reply: FastifyReply,
    principal: Principal,
    placed: { state: OrderState; revision: bigint },
  ) {
    const order = placed.state.order!;
    // A wallet pays in the append that creates the order: a refusal is known now, and the
    // answer is the refusal (402), naming the order it left in PAYMENT_FAILED.
    if (order.paymentMethod.kind === 'wallet' && placed.state.status === 'PAYMENT_FAILED')
      throw walletPaymentFailed(order.orderId, placed.state.reason);
    reply.header('location', `/v1/orders/${order.orderId}`);
    const view = present(reply, principal, placed, 'customer');
    return { statusCode: 201, body: await withPaymentProgress(request, placed.state, view) };
  }

  /**
   * An order waiting for its Mobile Money payment tells its customer what to do next: the
   * payment's id (GET /v1/payments/{id}), its status, and how to approve it on the phone.
   */
  async function withPaymentProgress<View extends { payment: object }>(
    request: FastifyRequest,
    state: OrderState,
    view: View,
  ): Promise<View> {
    const method = state.order!.paymentMethod;
    if (state.status !== 'PENDING_PAYMENT' || method.kind !== 'mobile_money') return view;
    const progress = await orders.paymentProgress(state);
    if (progress === undefined) return view;
    const language = preferredLanguage(request.headers['accept-language']);
    return {
      ...view,
      payment: {
        ...view.payment,
        id: progress.paymentId,
        status: progress.status,
        ussdCode: progress.ussdCode,
        expiresAt: progress.expiresAt,
        nextStep: nextStepOf(progress, method, state.order!.pricing.totalMinor, language),
      },
    };
  }

  app.post('/v1/orders', {
    config: { access: PLACE, idempotency: 'optional', location: true, rateLimit: placementTier },
    schema: {
      tags,
      summary: 'Place an order (Idempotency-Key): catalog prices at this moment, then payment',
      body: PlaceOrderBody,
      response: { 201: OrderViewSchema, 402: ProblemSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const placement = keyedPlacement(request, reply, principal);
      const result = await withIdempotency(db, request, reply, placement.options, async (attempt) => {
        const body = request.body;
        const placed = await orders.place(
          { ...body, tipMinor: body.tipMinor ?? 0, items: body.items },
          { kind: principal.kind, id: principal.userId },
          metadataOf(request),
          { orderId: placement.orderId, resume: attempt.retry },
        );
        return placedAnswer(request, reply, principal, placed);
      });
      return result as never;
    },
  });

  app.get('/v1/orders/:id', {
    config: { access: READ },
    schema: {
      tags,
      summary: 'One order (ETag; If-None-Match answers 304)',
      params: OrderParams,
      response: { 200: OrderViewSchema, 304: { type: 'null' }, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const loaded = await orders.load(request.params.id);
      const relation = relationTo(principal, loaded.state.order!, loaded.state);
      // A plain support agent sees an order only through a ticket of theirs: others are absent.
      if (!(await staffMaySee(services, principal, relation, request.params.id))) {
        await services.audit?.({
          action: 'order.view_refused',
          actor: { kind: 'user', userId: principal.userId, ip: request.ip, requestId: request.id },
          subjectUserId: loaded.state.order!.customer.id,
          resource: `order:${request.params.id}`,
          newValue: { reason: 'no_ticket_of_agent' },
        });
        throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
      }
      const body = present(reply, principal, loaded);
      if (isSupportAgent(principal, relation))
        await services.audit?.({
          action: 'order.viewed_by_support',
          actor: { kind: 'user', userId: principal.userId, ip: request.ip, requestId: request.id },
          subjectUserId: loaded.state.order!.customer.id,
          resource: `order:${request.params.id}`,
          newValue: { status: loaded.state.status },
        });
      const etag = etagOf(request.params.id, loaded.revision);
      const match = request.headers['if-none-match'];
      if (match !== undefined && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
        return (reply as FastifyReply).code(304).send() as never;
      }
      // Only its customer is told how to pay.
      return loaded.state.order!.customer.id === principal.userId
        ? withPaymentProgress(request, loaded.state, body)
        : body;
    },
  });

  app.post('/v1/orders/:id/reorder', {
    config: { access: PLACE, idempotency: 'optional', location: true, rateLimit: placementTier },
    schema: {
      tags,
      summary: "Quick reorder: the same items at today's prices (Idempotency-Key)",
      params: OrderParams,
      body: ReorderBody,
      response: { 201: OrderViewSchema, 402: ProblemSchema, 503: ProblemSchema, ...errors },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const placement = keyedPlacement(request, reply, principal);
      const result = await withIdempotency(db, request, reply, placement.options, async (attempt) => {
        const previous = await orders.load(request.params.id);
        const order = previous.state.order!;
        if (order.customer.id !== principal.userId)
          throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
        const placed = await orders.place(
          {
            restaurantId: order.restaurantId,
            items: order.lines.map((line) => ({
              itemId: line.itemId,
              quantity: line.quantity,
              optionIds: line.modifiers.map((modifier) => modifier.optionId),
            })),
            delivery: request.body.delivery ?? order.delivery,
            payment: request.body.payment ?? order.paymentMethod,
            tipMinor: request.body.tipMinor ?? order.pricing.tipMinor,
          },
          { kind: principal.kind, id: principal.userId },
          { ...metadataOf(request), causationId: order.orderId },
          { orderId: placement.orderId, resume: attempt.retry },
        );
        return placedAnswer(request, reply, principal, placed);
      });
      return result as never;
    },
  });

  /**
   * An order composed offline (docs/orders.md "Offline orders"): named after the client's id, so
   * a queue that sends it twice, or twice at once, places it once; priced again now, and placed
   * only when the total is still the one the customer agreed to.
   */
  app.post('/v1/orders/offline', {
    config: { access: PLACE, location: true, rateLimit: placementTier },
    schema: {
      tags,
      summary:
        'Place an order composed offline: once per clientOrderId, re-priced, 409 when the total changed',
      body: OfflineOrderBody,
      response: {
        200: OrderViewSchema,
        201: OrderViewSchema,
        402: ProblemSchema,
        503: ProblemSchema,
        ...errors,
      },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request);
      const { clientOrderId, composedAt, expectedTotalMinor, ...body } = request.body;
      const orderId = keyedUuid('order', `orders-offline:${principal.userId}`, clientOrderId);
      // Two sends of one queued order at once: the second waits for the first, then finds it.
      return oneAtATime(db, `orders-offline:${orderId}`, async () => {
        const existing = await orders.find(orderId);
        // Already placed (the queue sent it again): 200 with the order as it is now.
        if (existing !== undefined)
          return answered(reply, {
            ...(await placedAnswer(request, reply, principal, existing)),
            statusCode: 200,
          });
        checkComposedAt(composedAt);
        const input = { ...body, tipMinor: body.tipMinor ?? 0, items: body.items };
        let placed;
        try {
          // Priced once, by the placement itself, which refuses another total than the agreed one
          // before reserving or charging anything: the price charged is the price checked.
          placed = await orders.place(
            input,
            { kind: principal.kind, id: principal.userId },
            metadataOf(request),
            // A retry after a crash may find the stock or the wallet money already taken for this id.
            { orderId, resume: true, expectedTotalMinor },
          );
        } catch (error) {
          if (!(error instanceof DomainError) || error.code !== 'order_repriced') throw error;
          const quote = error.details.quote as { totalMinor: number };
          throw new HttpProblem(
            409,
            'offline_order_repriced',
            `The total is now ${quote.totalMinor} XAF, not ${expectedTotalMinor}; nothing was placed. Send it again with the new total to confirm.`,
            { extensions: { clientOrderId, expectedTotalMinor, quote } },
          );
        }
        return answered(reply, await placedAnswer(request, reply, principal, placed));
      });
    },
  });
}

/**
 * Runs `work` holding a transaction-scoped advisory lock on `key` (one pooled connection held for
 * the duration of one placement): concurrent sends of the same offline order run one after the other.
 */
async function oneAtATime<T>(
  db: Parameters<typeof withIdempotency>[0],
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (transaction) => {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(transaction);
    return work();
  });
}

function answered(reply: FastifyReply, result: { statusCode: number; body: unknown }): never {
  return reply.code(result.statusCode).send(result.body) as never;
}

function checkComposedAt(composedAt: string): void {
  const age = Date.now() - Date.parse(composedAt);
  if (age < -5 * 60_000)
    throw new HttpProblem(400, 'offline_order_composed_in_future', 'composedAt is in the future.');
  if (age > OFFLINE_ORDER_MAX_AGE_MS)
    throw new HttpProblem(
      422,
      'offline_order_stale',
      'This order was composed more than 7 days ago; compose it again with today’s menu.',
    );
}
