/**
 * The orders context's HTTP routes. Handlers translate HTTP into service calls: who the caller is
 * relative to the order (customer, restaurant owner, claiming driver, staff) is decided here,
 * what may happen is decided by the decider. Every route declares config.access.
 *
 *   placement.ts    POST /v1/orders, GET /v1/orders/{id}, POST /v1/orders/{id}/reorder
 *   transitions.ts  POST /v1/orders/{id}/{accept,decline,prepare,ready,claim,pickup,deliver,…}
 *   lists.ts        the lists of orders and a restaurant's figures
 *   sync.ts         GET /v1/sync/orders: delta sync of the caller's orders (issue #25)
 *   partner.ts      POST /v1/partner/orders/{id}/{accept,decline,prepare,ready}: a POS, signed
 *   shared.ts       access rules, the caller's relation to an order, how an order is shown
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { OrdersContext } from '../index.js';
import { registerOrderListRoutes } from './lists.js';
import { registerPartnerOrderRoutes } from './partner.js';
import { registerPlacementRoutes } from './placement.js';
import { presenter, type OrderRouteServices } from './shared.js';
import { registerOrderSyncRoutes } from './sync.js';
import { registerTransitionRoutes } from './transitions.js';

export type { OrderRouteServices } from './shared.js';

export function registerOrderRoutes(
  root: FastifyInstance,
  services: OrderRouteServices,
  context: OrdersContext,
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const present = presenter(context.orders);
  registerPlacementRoutes(app, services, context, present);
  registerTransitionRoutes(app, services, context, present);
  registerOrderListRoutes(app, services, context);
  registerPartnerOrderRoutes(app, services, context);
  registerOrderSyncRoutes(app, context);
}
