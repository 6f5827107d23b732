import type { Runtime } from './runtime.js';
import { createEventStoreService, type AppEventStore } from './eventstore/index.js';
import {
  createProjectionRunner,
  type ProjectionDefinition,
  type ProjectionRunner,
} from '../projections/index.js';
import { ledgerProjection } from '../ledger/projections/index.js';
import { ordersProjection } from './modules/orders/projection.js';
import { createIdentity, type Identity } from './modules/identity/index.js';
import { createNotifications, type Notifications } from './modules/notifications/index.js';
import { createCatalog, type Catalog } from './modules/catalog/index.js';
import { createLedgerService, type Ledger } from './modules/ledger/service.js';
import { createOrdersContext, type OrdersContext } from './modules/orders/index.js';
import { createRealtime, type Realtime } from './realtime/index.js';
import { createJobs, type Jobs } from './jobs/index.js';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.js';
import { createPaymentsContext, type PaymentsContext } from './modules/payments/index.js';
import { startPaymentProviders } from './modules/payments/providers/index.js';

/**
 * The read models the projection runner runs: each context's definitions (the runner knows none).
 * Tests may push one of their own before building the services.
 */
export const projectionDefinitions: ProjectionDefinition[] = [ordersProjection, ledgerProjection];

/**
 * The application's services, built once per process from the runtime and shared by routes,
 * jobs and command-line tools. Each bounded context adds its entry here.
 */
export interface Services {
  runtime: Runtime;
  /** The event store port (src/eventstore): PostgreSQL, or EventStoreDB when EVENTSTORE_URL is set. */
  eventStore: AppEventStore;
  /** Read models over the event store (projections/): started when the app is ready. */
  projections: ProjectionRunner;
  /** Outbound SMS, push and e-mail (src/modules/notifications): the recording outbox in dev and tests. */
  notifications: Notifications;
  /** Users, tokens, sessions, 2FA, audit log (src/modules/identity). */
  identity: Identity;
  /** Restaurants, menus, search and reviews (src/modules/catalog). */
  catalog: Catalog;
  /** The double-entry ledger (ledger/, src/modules/ledger): submit transfers, balances, verify. */
  ledger: Ledger;
  /** Event-sourced orders, carts, tracking (src/modules/orders). */
  orders: OrdersContext;
  /** WebSocket fan-out bus (src/realtime): Redis pub/sub + capped streams, in-process without Redis. */
  realtime: Realtime;
  /** Job queue (BullMQ on Redis, in-process without REDIS_URL) and node-cron schedules (src/jobs). */
  jobs: Jobs;
  /** Mobile Money payments, wallets, escrow, payouts, reconciliation, reports (src/modules/payments). */
  payments: PaymentsContext;
}

export async function createServices(runtime: Runtime): Promise<Services> {
  const eventStore = createEventStoreService(runtime);
  const jobs = createJobs(runtime);
  // Idempotency keys are kept 24 h; the purge is one idempotent DELETE, harmless on every instance.
  jobs.schedule({
    name: 'idempotency-keys-purge',
    cron: '17 * * * *',
    run: async () => void (await purgeExpiredIdempotencyKeys(runtime.database.db)),
  });
  const projections = createProjectionRunner({
    db: runtime.database.db,
    store: eventStore,
    projections: projectionDefinitions,
    logger: runtime.logger,
  });
  const notifications = createNotifications(runtime);
  const identity = createIdentity(runtime, notifications);
  const ledger = createLedgerService(runtime, eventStore);
  const catalog = createCatalog({
    db: runtime.database.db,
    logger: runtime.logger,
    audit: identity.audit,
    grantRole: async (userId, role, actor) => void (await identity.grantRole(userId, role, actor)),
    redis: runtime.redis,
    redisKeyPrefix: runtime.config.REDIS_KEY_PREFIX,
  });
  runtime.closers.push({ name: 'catalog cache invalidation', close: () => catalog.close() });
  // Payments before orders: orders takes its PaymentPort; payments gets orders back (useOrders).
  const paymentProviders = await startPaymentProviders(runtime.config, {
    onEvent: (event) =>
      runtime.logger.warn({ component: 'payments', ...event }, `payment router: ${event.type}`),
  });
  // Closed last (closers run in reverse): jobs and requests still talking to the simulators stop first.
  runtime.closers.unshift({ name: 'payment providers', close: () => paymentProviders.close() });
  for (const warning of paymentProviders.warnings) runtime.logger.warn(warning);
  const payments = createPaymentsContext({
    runtime,
    eventStore,
    ledger,
    jobs,
    audit: identity.audit,
    findUser: (userId) => identity.repository.findUserById(userId),
    restaurantOwner: (restaurantId) => catalog.orders.restaurantOwnerId(restaurantId),
    ledgerCaughtUp: () => projections.waitUntilCaughtUp('ledger', 10_000),
    providers: paymentProviders,
  });
  const orders = createOrdersContext({
    runtime,
    eventStore,
    catalog: catalog.orders,
    ...(runtime.config.ORDERS_PAYMENT_PORT === 'ledger' ? { payments: payments.paymentPort } : {}),
  });
  payments.useOrders(orders.orders);
  catalog.useCompletedOrderLookup(orders.completedOrders);
  const realtime = createRealtime(runtime);
  orders.orders.onChange(realtime.publishChange);
  return {
    runtime,
    eventStore,
    projections,
    notifications,
    identity,
    catalog,
    ledger,
    orders,
    realtime,
    jobs,
    payments,
  };
}
