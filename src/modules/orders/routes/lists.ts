/**
 * Lists of orders (the customer's history, a restaurant's live queue, what a driver may claim or
 * has claimed, the admin's list) and a restaurant's figures, all from the orders read model.
 */
import { HttpProblem } from '../../../http/problem.js';
import type { OrdersContext } from '../index.js';
import { KITCHEN_STATUSES, LIVE_STATUSES } from '../repository.js';
import {
  AdminListQuery,
  FiguresQuery,
  FiguresResponse,
  ListResponse,
  OrderParams,
  MAX_ZONE_STATS_DAYS,
  PageQuery,
  ZoneStatsQuery,
  ZoneStatsResponse,
} from '../schemas.js';
import {
  ADMIN,
  AVAILABLE,
  errors,
  FIGURES,
  HISTORY,
  isAdmin,
  principalOf,
  QUEUE,
  tags,
  ZONE_STATS,
  type OrderApp,
  type OrderRouteServices,
} from './shared.js';

export function registerOrderListRoutes(
  app: OrderApp,
  services: OrderRouteServices,
  context: OrdersContext,
): void {
  const { repository } = context;

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
      const principal = principalOf(request);
      const { status, live, ...page } = request.query;
      const statuses = status !== undefined ? [status] : live === false ? undefined : LIVE_STATUSES;
      // A plain support agent lists only the orders their tickets name (support decides).
      const visible =
        isAdmin(principal) || services.supportOrders === undefined
          ? 'all'
          : await services.supportOrders().visibleOrders(principal);
      return repository.list(
        {
          ...(statuses === undefined ? {} : { statuses }),
          ...(visible === 'all' ? {} : { orderIds: visible }),
        },
        page,
      );
    },
  });

  app.get('/v1/admin/zone-stats', {
    config: { access: ZONE_STATS },
    schema: {
      tags,
      summary:
        'Zone statistics: orders paid per zone and local day, their delivery fees and the surges in them (newest day first)',
      querystring: ZoneStatsQuery,
      response: { 200: ZoneStatsResponse, ...errors },
    },
    handler: async (request) => {
      const { city, zone, limit, cursor } = request.query;
      // Local days (Africa/Douala, UTC+1); the last 7 by default.
      const to = request.query.to ?? new Date(Date.now() + 3_600_000).toISOString().slice(0, 10);
      const from = request.query.from ?? new Date(Date.parse(to) - 6 * 86_400_000).toISOString().slice(0, 10);
      const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
      if (!(days >= 1 && days <= MAX_ZONE_STATS_DAYS))
        throw new HttpProblem(
          422,
          'invalid_period',
          `from must be on or before to, at most ${MAX_ZONE_STATS_DAYS} days apart.`,
        );
      const page = await repository.zoneStats({ cityId: city, zoneId: zone, from, to }, { limit, cursor });
      return { from, to, ...page };
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
