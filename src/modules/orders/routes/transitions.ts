/**
 * The order's transitions, one route each (`POST /v1/orders/{id}/<transition>`): who may send it
 * is decided here by the caller's relation to the order; whether it may happen now, by the decider.
 */
import type { RouteAccess } from '../../../http/access.js';
import { withIdempotency } from '../../../http/idempotency.js';
import { HttpProblem } from '../../../http/problem.js';
import type { OrderActor, OrderCommand } from '../events.js';
import type { OrdersContext } from '../index.js';
import {
  AcceptBody,
  DeliverBody,
  EmptyBody,
  OrderParams,
  OrderViewSchema,
  PickupBody,
  ReasonBody,
  ResolveBody,
} from '../schemas.js';
import type { Viewer } from '../views.js';
import {
  actorFor,
  CANCEL,
  DISPUTE,
  DRIVER,
  errors,
  KITCHEN,
  metadataOf,
  principalOf,
  relationTo,
  staffMaySee,
  RESOLVE,
  tags,
  type OrderApp,
  type OrderRouteServices,
  type Present,
} from './shared.js';

type Transition = {
  path: string;
  summary: string;
  access: RouteAccess;
  body?: object;
  /** Which relations may send it at all (the decider then checks the state). */
  relations: readonly (Viewer | 'prospect')[];
  command(body: Record<string, unknown>, actor: OrderActor, at: Date): OrderCommand;
};
const TRANSITIONS: readonly Transition[] = [
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
    summary:
      "Driver delivers with the customer's delivery PIN and a delivery photo (photoFileId; signatureFileId optional) (PICKED_UP → DELIVERED)",
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
    summary:
      'Delivery failed (PICKED_UP → DELIVERY_FAILED), by staff; a driver reports it with a photo and position on POST /v1/drivers/me/orders/{id}/delivery-failed',
    access: {
      permissions: ['ESCALATION_RIGHTS'],
      ownership: 'support or an admin (drivers: the dispatch route with proof)',
    },
    body: ReasonBody,
    relations: ['staff'],
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

export function registerTransitionRoutes(
  app: OrderApp,
  services: OrderRouteServices,
  context: OrdersContext,
  present: Present,
): void {
  const { orders } = context;
  const db = services.runtime.database.db;

  for (const transition of TRANSITIONS) {
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
            if (relation === undefined || !(await staffMaySee(services, principal, relation, orderId)))
              throw new HttpProblem(404, 'order_not_found', 'There is no such order.');
            if (!transition.relations.includes(relation)) {
              throw new HttpProblem(
                403,
                'not_your_role',
                `As ${relation === 'prospect' ? 'a driver' : `the ${relation}`} you cannot ${transition.path} this order.`,
              );
            }
            const body = (request.body ?? {}) as Record<string, unknown>;
            // The driver hands over with proof: the photo (and a signature if sent) of this order.
            if (
              transition.path === 'deliver' &&
              relation === 'driver' &&
              services.deliveryProof !== undefined
            )
              await services.deliveryProof().checkDelivery(orderId, principal.userId, {
                photoFileId: body.photoFileId as string | undefined,
                signatureFileId: body.signatureFileId as string | undefined,
              });
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
}
