/**
 * What every orders route shares: the access rules by route, who the caller is relative to an
 * order (customer, restaurant owner, claiming driver, staff, or a driver who may claim it), and
 * how an order is shown to that caller.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Principal, RouteAccess } from '../../../http/access.js';
import { HttpProblem, ProblemSchema } from '../../../http/problem.js';
import type { Runtime } from '../../../runtime.js';
import type { CatalogOrdersApi } from '../../catalog/index.js';
import type { OrderState } from '../decider.js';
import type { OrderActor, OrderCreatedData } from '../events.js';
import type { OrdersContext } from '../index.js';
import type { DeliveryProofPort, SupportOrderAccessPort } from '../ports.js';
import { orderView, supportOrderView, type Viewer } from '../views.js';

/** What the order routes need beyond their own context: the runtime and the catalog's owner lookup. */
export interface OrderRouteServices {
  runtime: Runtime;
  catalog: { orders: Pick<CatalogOrdersApi, 'restaurantOwnerId'> };
  /** The delivery's proof (dispatch, built after orders): asked when a driver delivers. */
  deliveryProof?: () => DeliveryProofPort;
  /** Identity's audit log: a support agent's read of an order is recorded. */
  audit?: (entry: {
    action: string;
    actor: { kind: 'user'; userId: string; ip?: string | null; requestId?: string | null };
    subjectUserId?: string | null;
    resource?: string | null;
    newValue?: unknown;
  }) => Promise<void>;
  /** Which orders a plain support agent may see (support, built after orders); absent: every order. */
  supportOrders?: () => SupportOrderAccessPort;
}

/** The Fastify instance the route files register on (TypeBox schemas typed). */
export type OrderApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
};
export const tags = ['orders'];

export const PLACE: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: 'guests need an OTP-verified guest session',
};
export const READ: RouteAccess = {
  permissions: ['GUEST_ORDER', 'ORDER_PROCESSING', 'ORDER_ACCEPTANCE', 'TICKET_MANAGEMENT'],
  allowGuest: true,
  ownership:
    'the customer, the restaurant owner, the claiming driver (others see claimable orders masked), support and admins',
};
export const KITCHEN: RouteAccess = {
  permissions: ['ORDER_PROCESSING'],
  ownership: "the owner of the order's restaurant (or an admin)",
};
export const DRIVER: RouteAccess = {
  permissions: ['ORDER_ACCEPTANCE'],
  ownership: 'the driver who claimed the order (claim: any driver, once)',
};
export const CANCEL: RouteAccess = {
  permissions: ['GUEST_ORDER', 'ORDER_PROCESSING', 'ESCALATION_RIGHTS'],
  allowGuest: true,
  ownership: 'the customer, the restaurant owner, support or an admin, as the cancellation rules allow',
};
export const DISPUTE: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: 'the customer of the order',
};
export const RESOLVE: RouteAccess = { permissions: ['ESCALATION_RIGHTS'], ownership: 'support or an admin' };
export const HISTORY: RouteAccess = {
  permissions: ['GUEST_ORDER'],
  allowGuest: true,
  ownership: "the caller's own orders",
};
export const QUEUE: RouteAccess = {
  permissions: ['ORDER_PROCESSING'],
  ownership: 'orders of restaurants the caller owns',
};
export const FIGURES: RouteAccess = {
  permissions: ['FINANCIAL_REPORTS'],
  ownership: 'the owner of the restaurant (or an admin)',
};
export const AVAILABLE: RouteAccess = { permissions: ['ORDER_ACCEPTANCE'] };
export const ADMIN: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS', 'TICKET_MANAGEMENT'] };
/** Zone statistics (issue #26): administrators only. */
export const ZONE_STATS: RouteAccess = { permissions: ['FULL_SYSTEM_ACCESS'] };

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'Sign in first.');
  return request.principal;
}

export const isAdmin = (principal: Principal) => principal.permissions.has('FULL_SYSTEM_ACCESS');
const isSupport = (principal: Principal) =>
  principal.permissions.has('ESCALATION_RIGHTS') || principal.permissions.has('TICKET_MANAGEMENT');

/** A support agent (not an admin) seeing the order as staff: the minimum view, audited. */
export const isSupportAgent = (principal: Principal, relation: ReturnType<typeof relationTo>): boolean =>
  relation === 'staff' && !isAdmin(principal);

/**
 * Whether the caller may see the order in the relation found: a support agent (not an admin) only
 * through a ticket of theirs, unless support made them a supervisor (support decides: its port).
 */
export async function staffMaySee(
  services: Pick<OrderRouteServices, 'supportOrders'>,
  principal: Principal,
  relation: ReturnType<typeof relationTo>,
  orderId: string,
): Promise<boolean> {
  if (!isSupportAgent(principal, relation) || services.supportOrders === undefined) return true;
  return services.supportOrders().mayView(principal, orderId);
}

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

export function actorFor(principal: Principal, relation: ReturnType<typeof relationTo>): OrderActor {
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

export const etagOf = (orderId: string, revision: bigint) => `"o-${orderId.slice(0, 8)}-${revision}"`;

export const metadataOf = (request: FastifyRequest) => ({
  correlationId: request.id,
  actorId: request.principal?.userId,
  actorRole: request.principal?.roles.join(','),
});

export type Present = ReturnType<typeof presenter>;

/** Shows an order to the caller (ETag, no-cache), or 404 when it is not theirs to see. */
export function presenter(orders: OrdersContext['orders']) {
  return function present(
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
    if (isSupportAgent(principal, relation)) return supportOrderView(view);
    return relation === 'prospect' ? { ...view, pickupCode: undefined, wrongPickupCodesAt: undefined } : view;
  };
}
