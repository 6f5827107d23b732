/**
 * The orders context: event-sourced orders (pure decider in decider.ts), carts, pricing, the
 * projections for lists and figures, public tracking, and who hears which order event over
 * WebSocket (realtime.ts; src/realtime only delivers).
 *
 * Public API for other contexts (by declaring `orders` in their needs):
 *   service.place(input, customer, metadata?)                 place an order (catalog snapshot, pricing, stock, payment)
 *   service.quote(input, customerId)                          the price `place` would charge now, nothing placed (USSD)
 *   service.execute(orderId, command, metadata?)              any OrderCommand through the decider (409 naming the state)
 *   service.recordPaymentOutcome(orderId, outcome, metadata?) payments (issue 8) reports captured / failed
 *   service.load(orderId)                                     { state, revision } from the stream
 *   service.sweep(now?)                                       scheduled commands: payment expiry, auto-reject, completion
 *   service.onChange(listener)                                after every append (real-time fan-out)
 *   completedOrders.findCompletedOrder(orderId)               catalog's CompletedOrderLookup (reviews)
 *   driverOrders.carriedBy(driverId)                          dispatch: the orders a driver carries and who follows them
 * Events (stream `order-<uuid>`): see events.ts; refunds are in OrderRejected / OrderCancelled /
 * OrderDisputeResolved `refundMinor`, for payments to act on.
 */
import type { OrderRemedyData, OrderStatus } from './events.js';
import type { Logger } from 'pino';
import type { EventMetadata, EventStore } from '../../eventstore/index.js';
import type { Runtime } from '../../runtime.js';
import { defineContext, need, tablesOf, type Reactor } from '../../platform/context.js';
import type { CatalogOrdersApi, CompletedOrderLookup } from '../catalog/index.js';
import type { Identity } from '../identity/index.js';
import { registerCartRoutes } from './cart-routes.js';
import { createCarts, type Carts } from './carts.js';
import {
  noCoupons,
  type CatalogPort,
  type CouponPort,
  type DeliveryProofPort,
  type DriverOrdersLookup,
  type DriverPositionPort,
  type PaymentPort,
  type PointsPort,
  type PreparationPort,
  type SupportOrderAccessPort,
} from './ports.js';
import { taxRateFromConfig } from './pricing.js';
import { createOrdersRepository, type OrdersRepository, type ZoneDeliveryMinutes } from './repository.js';
import { ordersPersonalData } from './personal-data.js';
import { ordersProjection } from './projection.js';
import { orderPublisher, trackingChannel } from './realtime.js';
import { registerDriverLoadMetrics, registerOrderMetrics } from './metrics.js';
import { registerOrderRoutes } from './routes/index.js';
import { ordersSeedStep, type DemoPayments, type DemoWallets } from './seed.js';
import { createOrdersService, orderPolicyFromConfig, type OrdersService } from './service.js';
import { createStockReservations, type StockReservations } from './stock.js';
import type { OrderTables, OrdersDb } from './tables.js';
import { createTestPaymentPort } from './test-payment-port.js';
import { registerTrackingRoutes } from './tracking.js';

export { ordersProjection, ORDERS_PROJECTION } from './projection.js';
/** The public tracking audience of one order (`/ws/track`): dispatch tells it the driver's position at PICKED_UP. */
export { orderAudience } from './realtime.js';
export type {
  OrderCommand,
  OrderEvent,
  OrderStatus,
  OrderCreatedData,
  OrderRemedyData,
  PaymentMethod,
} from './events.js';
export type {
  PaymentPort,
  OrderPaymentProgress,
  PaymentOutcome,
  PaymentRequest,
  PaymentMethodProblem,
  CatalogPort,
  CouponPort,
  CouponContext,
  CouponResult,
  CouponReservation,
  CouponReserveResult,
  CouponRefusalCode,
  PromotionContext,
  AutomaticDiscount,
  DiscountFunder,
  CarriedOrder,
  DriverOrdersLookup,
  DriverPosition,
  DriverPositionPort,
  DeliveryProofPort,
  PointsPort,
  FreeDeliveryReservation,
  PreparationPort,
  PreparationEstimate,
  SupportOrderAccessPort,
} from './ports.js';
export type { OrderChange, OrdersService, PlaceOrderInput } from './service.js';
export { discountMinor, type Discount } from './pricing.js';
export {
  MAX_FIRST_ORDERS_BATCH,
  MAX_ZONE_DELIVERY_DAYS,
  type OrdersRepository,
  type ZoneDeliveryMinutes,
} from './repository.js';
export { orderStream, orderStreamExists, ORDER_STREAM_PREFIX, ORDER_EVENT_TYPES } from './events.js';
export { isOrderRefusal, OrderError, type OrderErrorCode } from './errors.js';
export { CartError, normalizeCart, type Cart, type CartLine } from './cart-rules.js';
export { stockOutcomeOf } from './stock.js';

/** How often open stock reservations without an order are looked for (each waits 10 minutes first). */
const STRANDED_STOCK_SWEEP_INTERVAL_MS = 5 * 60_000;
/** How often the sweeper runs scheduled commands (auto-reject, payment expiry, completion). */
export const SWEEP_INTERVAL_MS = 30_000;

export interface OrdersContext {
  orders: OrdersService;
  /** Stock reservations: settled once (restored or consumed); reactor and stranded sweep. */
  stock: StockReservations;
  repository: OrdersRepository;
  carts: Carts;
  completedOrders: CompletedOrderLookup;
  /** Who an order concerns and where it stands (the files context checks proofs against it). */
  parties: OrderPartiesLookup;
  /** The orders a driver carries, with their customer and restaurant owner (dispatch). */
  driverOrders: DriverOrdersLookup;
  /** The customer's dispute, opened on their behalf by another context (support tickets). */
  disputes: OrderDisputes;
  /** Support's remedies (booked on the ledger by support), recorded on the order once each. */
  remedies: OrderRemedies;
  /** Delivery times and drivers of a zone over the last days (dispatch reads them, issue #26). */
  zoneDeliveries: ZoneDeliveryLookup;
}

export interface ZoneDeliveryLookup {
  /** The zone's delivered orders placed in the last `days` (1-92, default 7) days. */
  zoneDeliveryMinutes(cityId: string, zoneId: string, days?: number): Promise<ZoneDeliveryMinutes>;
}

export interface OrderRemedies {
  /**
   * Sends `RecordRemedy` through the decider: appends `OrderRemedyRecorded` unless the order already
   * has this remedy id (`recorded: false`, nothing appended). An unknown order is an `OrderError`.
   */
  record(orderId: string, remedy: OrderRemedyData, metadata?: EventMetadata): Promise<{ recorded: boolean }>;
}

export interface OrderDisputes {
  /**
   * Sends `OpenDispute` as the order's customer through the decider (same rules as
   * `POST /v1/orders/{id}/dispute`: DELIVERED and within the window, else an `OrderError`).
   */
  open(
    orderId: string,
    customerId: string,
    reason: string,
    metadata?: EventMetadata,
  ): Promise<{ status: OrderStatus }>;
}

/** The people an order concerns and its status, read from its stream (never stale). */
export interface OrderParties {
  orderId: string;
  status: OrderStatus;
  customerId: string;
  restaurantId: string;
  restaurantOwnerId: string;
  driverId: string | null;
  /** What the customer paid (XAF), and what a resolution refunded so far. */
  totalMinor: number;
  refundMinor: number;
}

export interface OrderPartiesLookup {
  /** The order's parties, or undefined when there is no such order. */
  partiesOf(orderId: string): Promise<OrderParties | undefined>;
}

export interface OrdersContextOptions {
  runtime: Runtime;
  /** The orders context's own tables. */
  db: OrdersDb;
  eventStore: EventStore;
  catalog: CatalogPort;
  /** The payments context's port; until it exists, development and tests get the TestPaymentPort. */
  payments?: PaymentPort;
  coupons?: CouponPort;
  /** Loyalty's points port, once every context is built (a `later` need). */
  points?: () => PointsPort;
  /** The preparation-time model (recommendations, a `later` need); absent: the stated time. */
  preparation?: () => PreparationPort | undefined;
  logger?: Logger;
}

export function createOrdersContext(options: OrdersContextOptions): OrdersContext {
  const { runtime, db } = options;
  const { config } = runtime;
  const repository = createOrdersRepository(db);
  // The TestPaymentPort never runs in production: there, no payment port means 503 on placement.
  const payments = options.payments ?? (config.isProduction ? undefined : createTestPaymentPort());
  const logger = options.logger ?? runtime.logger;
  const stock = createStockReservations({
    db,
    eventStore: options.eventStore,
    catalog: options.catalog,
    logger,
  });
  const orders = createOrdersService({
    stock,
    eventStore: options.eventStore,
    repository,
    logger,
    catalog: options.catalog,
    payments,
    coupons: options.coupons ?? noCoupons,
    ...(options.points === undefined ? {} : { points: options.points }),
    ...(options.preparation === undefined ? {} : { preparation: options.preparation }),
    pointsRules: {
      valueXaf: BigInt(config.LOYALTY_POINT_VALUE_XAF),
      maxSharePercent: BigInt(config.LOYALTY_REDEEM_MAX_PERCENT),
    },
    taxRatePercent: taxRateFromConfig(config.TAX_RATE_PERCENT),
    publicBaseUrl: config.PUBLIC_BASE_URL,
    policy: orderPolicyFromConfig(config),
    schedule: {
      minLeadMinutes: config.ORDER_SCHEDULE_MIN_LEAD_MINUTES,
      maxDays: config.ORDER_SCHEDULE_MAX_DAYS,
    },
  });
  const completedOrders: CompletedOrderLookup = {
    async findCompletedOrder(orderId) {
      if (!/^[0-9a-f-]{36}$/i.test(orderId)) return undefined;
      const row = await repository.findSummary(orderId);
      if (
        row === undefined ||
        row.delivered_at === null ||
        !['DELIVERED', 'COMPLETED', 'DISPUTED', 'RESOLVED'].includes(row.status)
      )
        return undefined;
      return {
        orderId,
        customerId: row.customer_id,
        restaurantId: row.restaurant_id,
        driverId: row.driver_id,
        completedAt: row.delivered_at,
      };
    },
  };
  const parties: OrderPartiesLookup = {
    async partiesOf(orderId) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(orderId)) return undefined;
      const found = await orders.find(orderId);
      const order = found?.state.order;
      if (found === undefined || order === null || order === undefined || found.state.status === 'NONE')
        return undefined;
      return {
        orderId,
        status: found.state.status,
        customerId: order.customer.id,
        restaurantId: order.restaurantId,
        restaurantOwnerId: order.restaurantOwnerId,
        driverId: found.state.driverId,
        totalMinor: order.pricing.totalMinor,
        refundMinor: Number(found.state.refundMinor),
      };
    },
  };
  const driverOrders: DriverOrdersLookup = {
    carriedBy: (driverId) => repository.carriedBy(driverId),
    carriedByMany: (driverIds) => repository.carriedByMany(driverIds),
    deliveredBy: (driverId, from, to, limit) => repository.deliveredBy(driverId, from, to, limit),
  };
  const disputes: OrderDisputes = {
    async open(orderId, customerId, reason, metadata) {
      const command = {
        type: 'OpenDispute',
        data: { by: { role: 'customer', id: customerId }, reason, at: new Date() },
      } as const;
      const result = await orders.execute(orderId, command, metadata);
      return { status: result.state.status as OrderStatus };
    },
  };
  const remedies: OrderRemedies = {
    async record(orderId, remedy, metadata) {
      const before = await orders.load(orderId);
      if (before.state.remedies.some((earlier) => earlier.remedyId === remedy.remedyId))
        return { recorded: false };
      const result = await orders.execute(
        orderId,
        { type: 'RecordRemedy', data: { ...remedy, at: new Date() } },
        metadata,
      );
      return { recorded: result.revision !== before.revision };
    },
  };
  return {
    orders,
    stock,
    repository,
    carts: createCarts(db),
    completedOrders,
    parties,
    driverOrders,
    disputes,
    remedies,
    zoneDeliveries: {
      zoneDeliveryMinutes: (cityId, zoneId, days) => repository.zoneDeliveryMinutes(cityId, zoneId, days),
    },
  };
}

/** The scheduled commands and the stranded-stock sweep, on every instance (each is idempotent). */
function sweeps(context: OrdersContext, logger: Logger): Reactor {
  let timer: NodeJS.Timeout | undefined;
  let strandedTimer: NodeJS.Timeout | undefined;
  return {
    name: 'orders sweeps',
    async start() {
      await context.stock.start();
      timer = setInterval(() => {
        void context.orders
          .sweep()
          .catch((error: unknown) => logger.error({ err: error }, 'order sweep failed'));
        void context.carts.purgeExpired().catch(() => undefined);
      }, SWEEP_INTERVAL_MS);
      timer.unref();
      strandedTimer = setInterval(() => {
        void context.stock
          .sweepStranded()
          .catch((error: unknown) => logger.error({ err: error }, 'stranded stock sweep failed'));
      }, STRANDED_STOCK_SWEEP_INTERVAL_MS);
      strandedTimer.unref();
    },
    async stop() {
      clearInterval(timer);
      clearInterval(strandedTimer);
      await context.stock.stop();
    },
  };
}

export const ordersContext = defineContext({
  name: 'orders',
  needs: {
    catalog: need<{ orders: CatalogOrdersApi }>(),
    // Its PaymentPort (ports.ts): payments implements it and needs orders back only later.
    payments: need<{ paymentPort: PaymentPort; wallets: DemoWallets; payments: DemoPayments }>(),
    identity: need<Pick<Identity, 'repository' | 'audit'>>(),
  },
  // Dispatch needs orders (the orders a driver carries); the public tracking view reads the
  // driver's position back from it once everything is built. Loyalty implements orders'
  // PointsPort and is built after orders: asked only in requests.
  later: {
    dispatch: need<{ positions: DriverPositionPort; deliveryProof: DeliveryProofPort }>(),
    loyalty: need<{ points: PointsPort; coupons: CouponPort }>(),
    // Recommendations predicts preparation times (PreparationPort) and reads the order events.
    recommendations: need<{ preparation: PreparationPort }>(),
    // Support decides which orders a plain agent sees (their tickets'); built after orders.
    support: need<{ orderAccess: SupportOrderAccessPort }>(),
  },
  projections: [ordersProjection],
  tables: tablesOf<OrderTables>(),
  create(platform, { catalog, payments, identity }, later) {
    const { runtime } = platform;
    const context = createOrdersContext({
      runtime,
      db: platform.db,
      eventStore: platform.eventStore,
      catalog: catalog.orders,
      points: () => later.loyalty().points,
      preparation: () => later.recommendations().preparation,
      // Loyalty implements the coupon hook and is built after orders: asked only in requests.
      coupons: {
        evaluate: (code, context) => later.loyalty().coupons.evaluate(code, context),
        reserve: (reservation) => later.loyalty().coupons.reserve(reservation),
        releaseUnplaced: (orderId) => later.loyalty().coupons.releaseUnplaced?.(orderId) ?? Promise.resolve(),
        automatic: (context) => later.loyalty().coupons.automatic?.(context) ?? Promise.resolve(undefined),
      },
      ...(runtime.config.ORDERS_PAYMENT_PORT === 'ledger' ? { payments: payments.paymentPort } : {}),
    });
    context.orders.onChange(orderPublisher(platform.realtime.bus, runtime.logger));
    return {
      service: context,
      routes(app) {
        registerOrderRoutes(
          app,
          {
            runtime,
            catalog,
            deliveryProof: () => later.dispatch().deliveryProof,
            audit: (entry) => identity.audit(entry),
            supportOrders: () => later.support().orderAccess,
          },
          context,
        );
        registerCartRoutes(app, context.carts);
        registerTrackingRoutes(app, context.orders, () => later.dispatch().positions);
        registerOrderMetrics(app.metricsRegistry, runtime.database.db);
        registerDriverLoadMetrics(app.metricsRegistry, runtime.database.db);
      },
      channels: [trackingChannel(context.orders)],
      reactors: [sweeps(context, runtime.logger)],
      seed: { run: () => ordersSeedStep.run({ runtime, identity, catalog, payments, orders: context }) },
      personalData: ordersPersonalData({ db: platform.db, orders: context.orders }),
    };
  },
});
