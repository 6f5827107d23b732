/**
 * The orders context's HTTP routes. Handlers translate HTTP into service calls: who the caller is
 * relative to the order (customer, restaurant owner, claiming driver, staff) is decided here,
 * what may happen is decided by the decider. Every route declares config.access.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, RouteAccess } from '../../http/access.js';
import { idempotencyKey, keyedUuid, withIdempotency } from '../../http/idempotency.js';
import { HttpProblem, ProblemSchema } from '../../http/problem.js';
import { preferredLanguage, type Language } from '../../http/problem-catalogue.js';
import type { Runtime } from '../../runtime.js';
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { OrderState } from './decider.js';
import type { OrderActor, OrderCommand, OrderCreatedData, PaymentMethod } from './events.js';
import type { OrderPaymentProgress, OrdersContext } from './index.js';
import {
  AcceptBody,
  AdminListQuery,
  DeliverBody,
  EmptyBody,
  FiguresQuery,
  FiguresResponse,
  ListResponse,
  OrderParams,
  OrderViewSchema,
  PageQuery,
  PickupBody,
  PlaceOrderBody,
  ReasonBody,
  ReorderBody,
  ResolveBody,
} from './schemas.js';
import { KITCHEN_STATUSES, LIVE_STATUSES } from './repository.js';
import { orderView, type Viewer } from './views.js';

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};
const tags = ['orders'];

const PLACE: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: 'guests need an OTP-verified guest session',
};
const READ: RouteAccess = {
  permissions: ['GUEST_ORDER', 'ORDER_PROCESSING', 'ORDER_ACCEPTANCE', 'TICKET_MANAGEMENT'],
  allowGuest: true,
  ownership:
    'the customer, the restaurant owner, the claiming driver (others see claimable orders masked), support and admins',
};
const KITCHEN: RouteAccess = {
  permissions: ['ORDER_PROCESSING'],
  ownership: "the owner of the order's restaurant (or an admin)",
};
const DRIVER: RouteAccess = {
  permissions: ['ORDER_ACCEPTANCE'],
  ownership: 'the driver who claimed the order (claim: any driver, once)',
};
const CANCEL: RouteAccess = {
  permissions: ['GUEST_ORDER', 'ORDER_PROCESSING', 'ESCALATION_RIGHTS'],
  allowGuest: true,
  ownership: 'the customer, the restaurant owner, support or an admin, as the cancellation rules allow',
};
const DISPUTE: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: 'the customer of the order',
};
const RESOLVE: RouteAccess = { permissions: ['ESCALATION_RIGHTS'], ownership: 'support or an admin' };
const HISTORY: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: "the caller's own orders",
};
const QUEUE: RouteAccess = {
  permissions: ['ORDER_PROCESSING'],
  ownership: 'orders of restaurants the caller owns',
};
const FIGURES: RouteAccess = {
  permissions: ['FINANCIAL_REPORTS'],
  ownership: 'the owner of the restaurant (or an admin)',
};
const AVAILABLE: RouteAccess = { permissions: ['ORDER_ACCEPTANCE'] };
const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS', 'TICKET_MANAGEMENT'] };

function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal;
}

const isAdmin = (principal: Principal) => principal.permissions.has('FULL_SYSTEM_ACCESS');
const isSupport = (principal: Principal) =>
  principal.permissions.has('ESCALATION_RIGHTS') || principal.permissions.has('TICKET_MANAGEMENT');

/** The caller's relation to the order, most specific first; undefined: not theirs to see. */
export function relationTo(
  principal: Principal,
  order: OrderCreatedData,
  state: OrderState,
): Viewer | 'prospect' | undefined {
  if (order.customer.id === principal.userId) return 'customer';
  if (principal.kind === 'guest') return undefined;
  if (order.restaurantOwnerId === principal.userId && principal.permissions.has('ORDER_PROCESSING'))
    return 'restaurant';
  if (state.driverId === principal.userId) return 'driver';
  if (isAdmin(principal) || isSupport(principal)) return 'staff';
  const claimable =
    state.driverId === null && ['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'].includes(state.status);
  if (claimable && principal.permissions.has('ORDER_ACCEPTANCE')) return 'prospect';
  return undefined;
}

function actorFor(principal: Principal, relation: ReturnType<typeof relationTo>): OrderActor {
  switch (relation) {
    case 'customer':
      return { role: 'customer', id: principal.userId };
    case 'restaurant':
      return { role: 'restaurant', id: principal.userId };
    case 'driver':
    case 'prospect':
      return { role: 'driver', id: principal.userId };
    case 'staff':
      return { role: isAdmin(principal) ? 'admin' : 'support', id: principal.userId };
    case undefined:
      throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
    default: {
      const exhaustive: never = relation;
      throw new Error(`unknown relation ${String(exhaustive)}`);
    }
  }
}

/** Codes a wallet refusal keeps as the problem's code; any other reason is `payment_failed`. */
const WALLET_REFUSALS: ReadonlySet<string> = new Set([
  'insufficient_funds',
  'wallet_frozen',
  'limit_exceeded',
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

/** What the customer does to approve a Mobile Money payment, in their language. */
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

export const etagOf = (orderId: string, revision: bigint) => `"o-${orderId.slice(0, 8)}-${revision}"`;

/** What the order routes need beyond their own context: the runtime and the catalog's owner lookup. */
export interface OrderRouteServices {
  runtime: Runtime;
  catalog: { orders: Pick<CatalogOrdersApi, 'restaurantOwnerId'> };
}

export function registerOrderRoutes(
  root: FastifyInstance,
  services: OrderRouteServices,
  context: OrdersContext,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { orders, repository } = context;
  const db = services.runtime.database.db;

  const metadataOf = (request: FastifyRequest) => ({
    correlationId: request.id,
    actorId: request.principal?.userId,
    actorRole: request.principal?.roles.join(','),
  });

  function present(
    reply: FastifyReply,
    principal: Principal,
    loaded: { state: OrderState; revision: bigint },
    viewer?: Viewer,
  ) {
    const order = loaded.state.order!;
    const relation = viewer ?? relationTo(principal, order, loaded.state);
    if (relation === undefined) throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
    reply.header('etag', etagOf(order.orderId, loaded.revision));
    reply.header('cache-control', 'private, no-cache');
    const shown: Viewer = relation === 'prospect' ? 'restaurant' : relation;
    const view = orderView(loaded.state, loaded.revision, shown, orders.trackingUrl(loaded.state));
    return relation === 'prospect' ? { ...view, pickupCode: undefined, wrongPickupCodesAt: undefined } : view;
  }

  // A Mobile Money order starts a collection (a push to the customer's phone): it counts on the
  // payment tier, per user, with the wallet's top-ups and payments. A wallet order starts no
  // collection and has the general per-user allowance (RATE_LIMIT_USER_MAX) over the same window.
  const { config } = services.runtime;
  const mobileMoney = (request: FastifyRequest) =>
    (request.body as { payment?: { kind?: string } } | undefined)?.payment?.kind === 'mobile_money';
  const placementTier = {
    hook: 'preHandler' as const,
    timeWindow: config.RATE_LIMIT_PAYMENT_WINDOW_MS,
    max: (request: FastifyRequest) =>
      mobileMoney(request) ? config.RATE_LIMIT_PAYMENT_MAX : config.RATE_LIMIT_USER_MAX,
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
      const body = present(reply, principal, loaded);
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

  type Transition = {
    path: string;
    summary: string;
    access: RouteAccess;
    body?: object;
    /** Which relations may send it at all (the decider then checks the state). */
    relations: readonly (Viewer | 'prospect')[];
    command(body: Record<string, unknown>, actor: OrderActor, at: Date): OrderCommand;
  };
  const transitions: Transition[] = [
    {
      path: 'accept',
      summary: 'Restaurant accepts with preparation minutes (PLACED → ACCEPTED)',
      access: KITCHEN,
      body: AcceptBody,
      relations: ['restaurant', 'staff'],
      command: (body, by, at) => ({
        type: 'AcceptOrder',
        data: { by, preparationMinutes: body.preparationMinutes as number, at },
      }),
    },
    {
      path: 'decline',
      summary: 'Restaurant declines with a reason (PLACED → REJECTED, full refund)',
      access: KITCHEN,
      body: ReasonBody,
      relations: ['restaurant', 'staff'],
      command: (body, by, at) => ({ type: 'RejectOrder', data: { by, reason: body.reason as string, at } }),
    },
    {
      path: 'prepare',
      summary: 'Kitchen starts cooking (ACCEPTED → PREPARING)',
      access: KITCHEN,
      relations: ['restaurant', 'staff'],
      command: (_body, by, at) => ({ type: 'StartPreparing', data: { by, at } }),
    },
    {
      path: 'ready',
      summary: 'Food is ready (PREPARING → READY_FOR_PICKUP)',
      access: KITCHEN,
      relations: ['restaurant', 'staff'],
      command: (_body, by, at) => ({ type: 'MarkReady', data: { by, at } }),
    },
    {
      path: 'claim',
      summary: 'A driver takes the order (one driver per order)',
      access: DRIVER,
      relations: ['prospect', 'driver'],
      command: (_body, by, at) => ({ type: 'ClaimOrder', data: { driverId: by.id, at } }),
    },
    {
      path: 'pickup',
      summary: "Driver picks up with the restaurant's pickup code (READY_FOR_PICKUP → PICKED_UP)",
      access: DRIVER,
      body: PickupBody,
      relations: ['driver'],
      command: (body, by, at) => ({
        type: 'PickUpOrder',
        data: { driverId: by.id, pickupCode: body.pickupCode as string, at },
      }),
    },
    {
      path: 'deliver',
      summary: "Driver delivers with the customer's delivery PIN (PICKED_UP → DELIVERED)",
      access: DRIVER,
      body: DeliverBody,
      relations: ['driver'],
      command: (body, by, at) => ({
        type: 'DeliverOrder',
        data: { driverId: by.id, deliveryPin: body.deliveryPin as string, at },
      }),
    },
    {
      path: 'delivery-failed',
      summary: 'Delivery failed (PICKED_UP → DELIVERY_FAILED)',
      access: {
        permissions: ['ORDER_ACCEPTANCE', 'ESCALATION_RIGHTS'],
        ownership: 'the claiming driver, support or an admin',
      },
      body: ReasonBody,
      relations: ['driver', 'staff'],
      command: (body, by, at) => ({ type: 'FailDelivery', data: { by, reason: body.reason as string, at } }),
    },
    {
      path: 'cancel',
      summary: 'Cancel (rules in docs/orders.md: who may, what is refunded)',
      access: CANCEL,
      body: ReasonBody,
      relations: ['customer', 'restaurant', 'staff'],
      command: (body, by, at) => ({ type: 'CancelOrder', data: { by, reason: body.reason as string, at } }),
    },
    {
      path: 'dispute',
      summary: 'Customer opens a dispute within the window (DELIVERED → DISPUTED)',
      access: DISPUTE,
      body: ReasonBody,
      relations: ['customer'],
      command: (body, by, at) => ({ type: 'OpenDispute', data: { by, reason: body.reason as string, at } }),
    },
    {
      path: 'resolve',
      summary: 'Support resolves with a refund (DISPUTED | DELIVERY_FAILED → RESOLVED)',
      access: RESOLVE,
      body: ResolveBody,
      relations: ['staff'],
      command: (body, by, at) => ({
        type: 'ResolveDispute',
        data: { by, refundMinor: body.refundMinor as number, note: body.note as string, at },
      }),
    },
  ];

  for (const transition of transitions) {
    app.post(`/v1/orders/:id/${transition.path}`, {
      config: { access: transition.access, idempotency: 'optional' },
      schema: {
        tags,
        summary: transition.summary,
        params: OrderParams,
        body: transition.body ?? EmptyBody,
        response: { 200: OrderViewSchema, ...errors },
      },
      handler: async (request, reply) => {
        const principal = principalOf(request);
        const orderId = (request.params as { id: string }).id;
        const result = await withIdempotency(
          db,
          request,
          reply,
          { scope: `orders:${principal.userId}` },
          async () => {
            const current = await orders.load(orderId);
            const relation = relationTo(principal, current.state.order!, current.state);
            if (relation === undefined)
              throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
            if (!transition.relations.includes(relation)) {
              throw new HttpProblem(
                403,
                'not_your_role',
                `As ${relation === 'prospect' ? 'a driver' : `the ${relation}`} you cannot ${transition.path} this order.`,
              );
            }
            const body = (request.body ?? {}) as Record<string, unknown>;
            const executed = await orders.execute(
              orderId,
              transition.command(body, actorFor(principal, relation), new Date()),
              metadataOf(request),
            );
            return { statusCode: 200, body: present(reply, principal, executed) };
          },
        );
        return result as never;
      },
    });
  }

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

  app.get('/v1/orders', {
    config: { access: HISTORY },
    schema: {
      tags,
      summary: "The caller's order history, newest first",
      querystring: PageQuery,
      response: { 200: ListResponse, ...errors },
    },
    handler: async (request) => repository.list({ customerId: principalOf(request).userId }, request.query),
  });

  app.get('/v1/restaurant/orders', {
    config: { access: QUEUE },
    schema: {
      tags,
      summary: "Live queue of the caller's restaurants (PLACED to READY_FOR_PICKUP)",
      querystring: PageQuery,
      response: { 200: ListResponse, ...errors },
    },
    handler: async (request) =>
      repository.list({ ownerId: principalOf(request).userId, statuses: KITCHEN_STATUSES }, request.query),
  });

  app.get('/v1/driver/orders/available', {
    config: { access: AVAILABLE },
    schema: {
      tags,
      summary: 'Orders a driver may claim (accepted, no driver yet)',
      querystring: PageQuery,
      response: { 200: ListResponse, ...errors },
    },
    handler: async (request) =>
      repository.list(
        { statuses: ['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'], unclaimed: true },
        request.query,
      ),
  });

  app.get('/v1/driver/orders', {
    config: { access: AVAILABLE },
    schema: {
      tags,
      summary: 'Orders the calling driver claimed',
      querystring: PageQuery,
      response: { 200: ListResponse, ...errors },
    },
    handler: async (request) => repository.list({ driverId: principalOf(request).userId }, request.query),
  });

  app.get('/v1/admin/orders', {
    config: { access: ADMIN },
    schema: {
      tags,
      summary: 'Admin list: live orders (default) or any status',
      querystring: AdminListQuery,
      response: { 200: ListResponse, ...errors },
    },
    handler: async (request) => {
      const { status, live, ...page } = request.query;
      const statuses = status !== undefined ? [status] : live === false ? undefined : LIVE_STATUSES;
      return repository.list({ ...(statuses === undefined ? {} : { statuses }) }, page);
    },
  });

  app.get('/v1/restaurants/:id/order-figures', {
    config: { access: FIGURES },
    schema: {
      tags,
      summary:
        'Per-restaurant figures: orders, revenue (food of delivered orders), dispute refunds, peak hours, best sellers',
      params: OrderParams,
      querystring: FiguresQuery,
      response: { 200: FiguresResponse, ...errors },
    },
    handler: async (request) => {
      const principal = principalOf(request);
      const ownerId = await services.catalog.orders.restaurantOwnerId(request.params.id);
      if (ownerId === undefined || (ownerId !== principal.userId && !isAdmin(principal))) {
        throw new HttpProblem(404, 'restaurant_not_found', 'There is no such restaurant of yours.');
      }
      const to = request.query.to ?? new Date(Date.now() + 3_600_000).toISOString().slice(0, 10);
      const from =
        request.query.from ?? new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
      const figures = await repository.figures(request.params.id, from, to);
      const days = figures.days.map((day) => ({
        day: day.day,
        orders: day.orders,
        delivered: day.delivered,
        revenueMinor: Number(day.revenue_minor),
        refundedMinor: Number(day.refunded_minor),
      }));
      const revenueMinor = days.reduce((sum, day) => sum + day.revenueMinor, 0);
      const refundedMinor = days.reduce((sum, day) => sum + day.refundedMinor, 0);
      return {
        restaurantId: request.params.id,
        from,
        to,
        orders: days.reduce((sum, day) => sum + day.orders, 0),
        delivered: days.reduce((sum, day) => sum + day.delivered, 0),
        revenueMinor,
        refundedMinor,
        netRevenueMinor: revenueMinor - refundedMinor,
        days,
        peakHours: [...figures.hours]
          .sort((a, b) => b.orders - a.orders || a.hour - b.hour)
          .map((hour) => ({ hour: hour.hour, orders: hour.orders })),
        bestSellers: figures.sellers.map((item) => ({
          itemId: item.item_id,
          name: item.name,
          quantity: Number(item.quantity),
          revenueMinor: Number(item.revenue_minor),
        })),
      };
    },
  });
}
