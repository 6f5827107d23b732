/**
 * The payments context: Mobile Money payment attempts (event-sourced), wallets, escrow and
 * release, payouts, reconciliation and finance reports, on the ledger. See docs/payments.md.
 *
 * Public API for other contexts (through `services.payments`):
 *   paymentPort                                    the orders context's PaymentPort (wallet or Mobile Money)
 *   useOrders(ordersService)                       late binding: orders is built with our port
 *   payments.initiate({ userId, purpose, amountMinor, currency, phone, idempotencyKey, description })
 *   payments.refresh(paymentId) / payments.view(paymentId)
 *   wallets.summary(userId, currency) / wallets.payOrder(...) / wallets.topUp(userId, amountMinor, phone, key)
 *   escrow.escrowAvailable(orderId) / escrow.sweepStranded(at?)
 *   payouts.request(...) / payouts.approve(payoutId, adminId) / payouts.process(payoutId)
 *   reconciliation.run({ provider, from, to, requestedBy }) / reconciliation.get(runId)
 *   reports.restaurantRevenue / taxCsv / platformRevenue / driverEarnings
 */
import type { Logger } from 'pino';
import type { EventStore } from '../../eventstore/index.js';
import type { Jobs } from '../../jobs/index.js';
import type { Runtime } from '../../runtime.js';
import type { ModuleRegistration } from '../index.js';
import type { AuditFunction } from '../identity/index.js';
import type { OrdersService } from '../orders/index.js';
import type { PaymentPort } from '../orders/ports.js';
import { createEscrow, type Escrow } from './escrow.js';
import type { LedgerPort } from './ledger-port.js';
import { createLedgerPaymentPort } from './payment-port.js';
import { createPaymentsService, type PaymentsService } from './payments-service.js';
import { createPayouts, type Payouts } from './payouts.js';
import { toE164, type PaymentRouter, type RunningPaymentProviders } from './providers/index.js';
import { createReconciliation, type Reconciliation } from './reconciliation.js';
import { createReports, type Reports } from './reports.js';
import { registerPaymentRoutes } from './routes.js';
import { createWalletService, type WalletService } from './wallet-service.js';

export { paymentStream, PAYMENT_STREAM_PREFIX, type PaymentEvent } from './payment-decider.js';
export type { PaymentView } from './payments-service.js';

export interface PaymentsContext {
  router: PaymentRouter;
  /** The in-process simulators when PAYMENT_SIMULATORS is on (never in production). */
  providers: RunningPaymentProviders;
  paymentPort: PaymentPort;
  payments: PaymentsService;
  wallets: WalletService;
  escrow: Escrow;
  payouts: Payouts;
  reconciliation: Reconciliation;
  reports: Reports;
  useOrders(orders: OrdersService): void;
  /** Starts the escrow reactor (the app does it when ready). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PaymentsContextOptions {
  runtime: Runtime;
  eventStore: EventStore;
  ledger: LedgerPort;
  jobs: Jobs;
  audit: AuditFunction;
  /** The user's phone when verified. */
  findUser: (userId: string) => Promise<{ phone: string | null; phone_verified: boolean } | undefined>;
  restaurantOwner: (restaurantId: string) => Promise<string | undefined>;
  ledgerCaughtUp: () => Promise<void>;
  /** Built by the caller (startPaymentProviders), so that the simulators' lifetime is the runtime's. */
  providers: RunningPaymentProviders;
  logger?: Logger;
}

const MAINTENANCE_QUEUE = 'payments-maintenance';
type MaintenanceTask = 'sweep' | 'auto-topup' | 'auto-settlement' | 'reconciliation' | 'stranded-escrow';

export function createPaymentsContext(options: PaymentsContextOptions): PaymentsContext {
  const { runtime, eventStore, ledger, jobs } = options;
  const logger = options.logger ?? runtime.logger.child({ component: 'payments' });
  const db = runtime.database.db;
  const router = options.providers.router;
  let orders: OrdersService | undefined;

  const payouts = createPayouts({
    db,
    ledger,
    router,
    queue: jobs.queue,
    logger,
    audit: options.audit,
    verifiedPhone: async (userId) => {
      const user = await options.findUser(userId);
      return user?.phone_verified === true && user.phone !== null ? toE164(user.phone) : undefined;
    },
    restaurantOwner: options.restaurantOwner,
  });
  const payments = createPaymentsService({
    db,
    eventStore,
    router,
    ledger,
    queue: jobs.queue,
    logger,
    orders: () => orders,
    onUnknownReference: (provider, reference, ours) => payouts.onProviderReference(provider, reference, ours),
    pollInitialDelayMs: runtime.config.PAYMENT_POLL_INITIAL_DELAY_MS,
  });
  const wallets = createWalletService({
    db,
    ledger,
    logger,
    audit: options.audit,
    limits: {
      dailyLimitXaf: BigInt(runtime.config.WALLET_DAILY_LIMIT_XAF),
      monthlyLimitXaf: BigInt(runtime.config.WALLET_MONTHLY_LIMIT_XAF),
    },
    payments: () => payments,
  });
  const escrow = createEscrow({ db, eventStore, ledger, logger, audit: options.audit, orders: () => orders });
  const reconciliation = createReconciliation({
    db,
    ledger,
    router,
    queue: jobs.queue,
    logger,
    audit: options.audit,
    ledgerCaughtUp: options.ledgerCaughtUp,
    recoverCollection: (paymentId, provider, providerReference) =>
      payments.recoverCollection(paymentId, provider, providerReference),
  });
  const reports = createReports(db);
  const paymentPort = createLedgerPaymentPort({
    wallets: () => wallets,
    payments: () => payments,
    pricingOf: async (orderId) => {
      if (orders === undefined) throw new Error('the orders context is not bound to payments');
      const { state } = await orders.load(orderId);
      return state.order!.pricing;
    },
  });

  payments.defineJobs();
  payouts.defineJobs();
  reconciliation.defineJobs();
  jobs.queue.define<{ task: MaintenanceTask; at: string }>({
    queue: MAINTENANCE_QUEUE,
    concurrency: 1,
    attempts: 2,
    backoffMs: 10_000,
    handler: async ({ task, at }) => {
      switch (task) {
        case 'sweep':
          await payments.sweep();
          return;
        case 'auto-topup':
          await wallets.autoTopUpSweep();
          return;
        case 'auto-settlement':
          await payouts.automaticSettlement();
          return;
        case 'reconciliation':
          await reconciliation.enqueueNightly(
            new Date(at),
            Object.keys(options.providers.providers) as ('campay' | 'mtn_momo')[],
          );
          return;
        case 'stranded-escrow':
          await escrow.sweepStranded();
          return;
        default: {
          const unknown: never = task;
          throw new Error(`unknown maintenance task ${String(unknown)}`);
        }
      }
    },
  });
  // Every instance ticks; the job id per time slot makes one of them do the work.
  const tick = (task: MaintenanceTask, slotMs: number) => async (at: Date) =>
    jobs.queue.enqueue(
      MAINTENANCE_QUEUE,
      { task, at: at.toISOString() },
      { jobId: `${task}-${Math.floor(at.getTime() / slotMs)}` },
    );
  jobs.schedule({ name: 'payments-sweep', cron: '* * * * *', run: tick('sweep', 60_000) });
  jobs.schedule({ name: 'wallet-auto-topup', cron: '*/10 * * * *', run: tick('auto-topup', 600_000) });
  jobs.schedule({
    name: 'payouts-auto-settlement',
    cron: '0 6 * * *',
    run: tick('auto-settlement', 86_400_000),
  });
  jobs.schedule({
    name: 'reconciliation-nightly',
    cron: '30 2 * * *',
    run: tick('reconciliation', 86_400_000),
  });
  jobs.schedule({
    name: 'escrow-stranded-sweep',
    cron: '*/5 * * * *',
    run: tick('stranded-escrow', 300_000),
  });

  return {
    router,
    providers: options.providers,
    paymentPort,
    payments,
    wallets,
    escrow,
    payouts,
    reconciliation,
    reports,
    useOrders(service) {
      orders = service;
    },
    start: () => escrow.start(),
    stop: () => escrow.stop(),
  };
}

export const paymentsModule: ModuleRegistration = {
  name: 'payments',
  async plugin(app, { services }) {
    registerPaymentRoutes(app, services);
    app.addHook('onReady', async () => services.payments.start());
    app.addHook('onClose', async () => services.payments.stop());
  },
};
