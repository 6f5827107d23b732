/**
 * The kitchen transitions for a restaurant's POS (issue #26): the same commands as
 * transitions.ts, sent server-to-server with a partner API key (scope `orders.kitchen`) and an
 * HMAC request signature (identity/partner-keys.ts) instead of a user token. The key is bound to
 * one restaurant: an order of another restaurant is 404, as it is to a stranger.
 */
import { withIdempotency } from '../../../http/idempotency.js';
import { HttpProblem } from '../../../http/problem.js';
import { partnerOf, type PartnerCaller } from '../../identity/index.js';
import type { OrderCommand, OrderActor } from '../events.js';
import type { OrdersContext } from '../index.js';
import Type from 'typebox';
import { AcceptBody, EmptyBody, OrderParams, ReasonBody } from '../schemas.js';
import { orderView } from '../views.js';
import { errors, type OrderApp, type OrderRouteServices } from './shared.js';

const POS_ACCESS = {
  public: true,
  description: 'partner POS: API key (orders.kitchen) and HMAC request signature',
} as const;

/** What a POS needs back: where the order stands and the code the driver must show. */
const PosOrderSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.String(),
  revision: Type.Integer(),
  preparationMinutes: Type.Union([Type.Integer(), Type.Null()]),
  pickupCode: Type.Optional(Type.String()),
});

type PosTransition = {
  path: string;
  summary: string;
  body: object;
  command(body: Record<string, unknown>, by: OrderActor, at: Date): OrderCommand;
};
const POS_TRANSITIONS: readonly PosTransition[] = [
  {
    path: 'accept',
    summary: 'POS accepts with preparation minutes (PLACED → ACCEPTED), signed',
    body: AcceptBody,
    command: (body, by, at) => ({
      type: 'AcceptOrder',
      data: { by, preparationMinutes: body.preparationMinutes as number, at },
    }),
  },
  {
    path: 'decline',
    summary: 'POS declines with a reason (PLACED → REJECTED, full refund), signed',
    body: ReasonBody,
    command: (body, by, at) => ({ type: 'RejectOrder', data: { by, reason: body.reason as string, at } }),
  },
  {
    path: 'prepare',
    summary: 'POS: the kitchen starts cooking (ACCEPTED → PREPARING), signed',
    body: EmptyBody,
    command: (_body, by, at) => ({ type: 'StartPreparing', data: { by, at } }),
  },
  {
    path: 'ready',
    summary: 'POS: the food is ready (PREPARING → READY_FOR_PICKUP), signed',
    body: EmptyBody,
    command: (_body, by, at) => ({ type: 'MarkReady', data: { by, at } }),
  },
];

/** Loads the order if it belongs to the key's restaurant; 404 otherwise (nothing is revealed). */
async function ownOrder(orders: OrdersContext['orders'], partner: PartnerCaller, orderId: string) {
  const notFound = () => new HttpProblem(404, 'order_not_found', 'There is no such order.');
  if (partner.restaurantId === null) throw notFound();
  const current = await orders.load(orderId); // 404 order_not_found when there is none
  if (current.state.order?.restaurantId !== partner.restaurantId) throw notFound();
  return current;
}

function posView(view: ReturnType<typeof orderView>) {
  return {
    id: view.id,
    status: view.status,
    revision: view.revision,
    preparationMinutes: view.preparationMinutes,
    ...(view.pickupCode === undefined ? {} : { pickupCode: view.pickupCode }),
  };
}

export function registerPartnerOrderRoutes(
  app: OrderApp,
  services: OrderRouteServices,
  context: OrdersContext,
): void {
  const { orders } = context;
  const db = services.runtime.database.db;

  for (const transition of POS_TRANSITIONS) {
    app.post(`/v1/partner/orders/:id/${transition.path}`, {
      config: {
        access: POS_ACCESS,
        partner: { scope: 'orders.kitchen', signed: true },
        idempotency: 'optional',
      },
      schema: {
        tags: ['orders'],
        summary: transition.summary,
        params: OrderParams,
        body: transition.body,
        response: { 200: PosOrderSchema, ...errors },
      },
      handler: async (request, reply) => {
        const partner = partnerOf(request);
        const orderId = (request.params as { id: string }).id;
        const result = await withIdempotency(
          db,
          request,
          reply,
          { scope: `partner-orders:${partner.keyId}` },
          async () => {
            const current = await ownOrder(orders, partner, orderId);
            const by: OrderActor = { role: 'restaurant', id: current.state.order!.restaurantOwnerId };
            const body = (request.body ?? {}) as Record<string, unknown>;
            const executed = await orders.execute(orderId, transition.command(body, by, new Date()), {
              correlationId: request.id,
              actorId: by.id,
              actorRole: 'restaurant',
              partnerKeyId: partner.keyId,
            });
            reply.header('cache-control', 'private, no-cache');
            return {
              statusCode: 200,
              body: posView(
                orderView(
                  executed.state,
                  executed.revision,
                  'restaurant',
                  orders.trackingUrl(executed.state),
                ),
              ),
            };
          },
        );
        return result as never;
      },
    });
  }
}
