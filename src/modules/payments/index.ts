/**
 * The payments context: Mobile Money payment attempts (event-sourced), wallets, escrow and
 * release, payouts, reconciliation and finance reports, on the ledger. See docs/payments.md.
 *
 * Public API for other contexts (by declaring `payments` in their needs):
 *   paymentPort                                    the orders context's PaymentPort (wallet or Mobile Money)
 *   payments.initiate({ userId, purpose, amountMinor, currency, phone, idempotencyKey, description })
 *   payments.refresh(paymentId) / payments.view(paymentId)
 *   wallets.summary(userId, currency) / wallets.payOrder(...) / wallets.topUp(userId, amountMinor, phone, key)
 *   escrow.escrowAvailable(orderId) / escrow.sweepStranded(at?)
 *   payouts.request(...) / payouts.approve(payoutId, adminId) / payouts.process(payoutId)
 *   reconciliation.run({ provider, from, to, requestedBy }) / reconciliation.get(runId)
 *   reports.restaurantRevenue / taxCsv / platformRevenue / driverEarnings
 */
import { fieldCipherOf } from '../../platform/field-crypto.js';
import type { Logger } from 'pino';
import type { EventStore } from '../../eventstore/index.js';
import type { JobQueue, Jobs, Schedule } from '../../jobs/index.js';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Runtime } from '../../runtime.js';
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { AuditFunction, Identity } from '../identity/index.js';
import type { OrdersService, PaymentPort } from '../orders/index.js';
import { createEscrow, type Escrow } from './escrow.js';
import type { LedgerPort } from './ledger-port.js';
import { createLedgerPaymentPort } from './payment-port.js';
import { createPaymentsService, type BulkCollectionsHook, type PaymentsService } from './payments-service.js';
import { paymentsPersonalData } from './personal-data.js';
import { encryptPaymentsAtRest } from './pii-backfill.js';
import { createPayouts, type HeldPayee, type Payouts } from './payouts.js';
import type { WithdrawalHolds } from '../admin/index.js';
import {
  startPaymentProviders,
  toE164,
  type PaymentRouter,
  type ProviderName,
  type RunningPaymentProviders,
} from './providers/index.js';
import { createReconciliation, type Reconciliation } from './reconciliation.js';
import { createReports, type Reports } from './reports.js';
import { registerPaymentMetrics } from './metrics.js';
import { registerPaymentRoutes } from './routes.js';
import { paymentsSeedStep } from './seed.js';
import { createCommissionRepository, type CommissionRepository } from './commission-repository.js';
import type { PaymentTables, PaymentsDb } from './tables.js';
import { createWalletService, type WalletService } from './wallet-service.js';
import { createCardFunding, type CardFunding } from './card-funding.js';
import { createCardFundingRepository } from './card-funding-repository.js';
import { createCardReversals, type CardReversals } from './card-reversals.js';
import { createCardReversalsRepository } from './card-reversals-repository.js';
import { createFxConversion, type FxConversion } from './fx-conversion.js';
import { createReceivableRecovery, type ReceivableRecovery } from './receivable-recovery.js';
import { createReceivableRecoveryRepository } from './receivable-recovery-repository.js';
import { startCardProvider, type RunningCardProvider } from './cards/index.js';
import { maskPhone, normalizePhone } from '../identity/index.js';
import { createPaymentAlerts, type PaymentAlerts } from './staff-alerts.js';

export { paymentStream, PAYMENT_STREAM_PREFIX, type PaymentEvent } from './payment-decider.js';
export { paymentIdOf, type BulkCollectionsHook, type PaymentView } from './payments-service.js';
export type { PaymentAlerts } from './staff-alerts.js';

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
  /** Payouts in review and reconciliation exceptions, for notify's staff alerts. */
  alerts: PaymentAlerts;
  /** Commission overrides (finance admins set them; escrow reads the rate in force). */
  commission: CommissionRepository;
  /** International card funding of USD wallets (issue #28). */
  cards: CardFunding;
  /** Card refunds and chargebacks (issue #28). */
  cardReversals: CardReversals;
  /** The card aggregator and its simulator (when PAYMENT_SIMULATORS is on). */
  cardProvider: RunningCardProvider;
  /** USD → XAF conversion of a customer's own wallets (issue #28). */
  fx: FxConversion;
  /** What a customer owes after a card chargeback, recovered from later credits (issue #28). */
  receivables: ReceivableRecovery;
  /** Starts the escrow reactor (the app does it when ready). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PaymentsContextOptions {
  runtime: Runtime;
  /** The payments context's own tables. */
  db: PaymentsDb;
  eventStore: EventStore;
  ledger: LedgerPort;
  jobs: Jobs;
  audit: AuditFunction;
  /** The user's phone when verified. */
  findUser: (userId: string) => Promise<{ phone: string | null; phone_verified: boolean } | undefined>;
  /** The user holding this E.164 phone. */
  findUserByPhone: (
    phone: string,
  ) => Promise<{ id: string; phone_verified: boolean; status: string } | undefined>;
  /** Built by the caller (startCardProvider), so that the simulator's lifetime is the runtime's. */
  cardProvider: RunningCardProvider;
  restaurantOwner: (restaurantId: string) => Promise<string | undefined>;
  /** Whether an admin's or a fraud case's hold stops this payee's payouts (admin context; absent: never). */
  payoutHeld?: (payee: HeldPayee) => Promise<boolean>;
  ledgerCaughtUp: () => Promise<void>;
  /** Built by the caller (startPaymentProviders), so that the simulators' lifetime is the runtime's. */
  providers: RunningPaymentProviders;
  /** The orders context, built after us with our PaymentPort: called only once everything is built. */
  orders: () => OrdersService;
  /** Community's bulk orders (built after us): a bulk order's Mobile Money deposit or balance lands there. */
  bulkOrders?: () => BulkCollectionsHook | undefined;
  logger?: Logger;
}

const MAINTENANCE_QUEUE = 'payments-maintenance';
type MaintenanceTask =
  | 'sweep'
  | 'auto-topup'
  | 'auto-settlement'
  | 'reconciliation'
  | 'stranded-escrow'
  | 'card-fundings'
  | 'card-chargebacks'
  | 'fx-converting'
  | 'receivable-recovery';

export function createPaymentsContext(options: PaymentsContextOptions): PaymentsContext {
  const { runtime, eventStore, ledger, jobs } = options;
  const logger = options.logger ?? runtime.logger.child({ component: 'payments' });
  const { db } = options;
  const router = options.providers.router;
  const orders = options.orders;

  const payouts = createPayouts({
    db,
    fields: fieldCipherOf(runtime.config),
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
    ...(options.payoutHeld === undefined ? {} : { payoutHeld: options.payoutHeld }),
  });
  const payments = createPaymentsService({
    db,
    eventStore,
    router,
    ledger,
    queue: jobs.queue,
    logger,
    orders,
    ...(options.bulkOrders === undefined ? {} : { bulkOrders: options.bulkOrders }),
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
    fields: fieldCipherOf(runtime.config),
  });
  const escrow = createEscrow({ db, eventStore, ledger, logger, audit: options.audit, orders });
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
    ...(options.cardProvider.provider === undefined ? {} : { cards: options.cardProvider.provider }),
  });
  const reports = createReports(db);
  const cardFundingRepository = createCardFundingRepository(db);
  const cardReversals = createCardReversals({
    fundings: cardFundingRepository,
    repository: createCardReversalsRepository(db),
    ledger,
    provider: options.cardProvider.provider,
    logger,
    audit: options.audit,
    putUnderReview: (userId, reason) => wallets.putUnderReview(userId, reason),
  });
  const receivables = createReceivableRecovery({
    repository: createReceivableRecoveryRepository(db),
    ledger,
    logger,
    audit: options.audit,
    enabled: runtime.config.RECEIVABLE_RECOVERY,
  });
  const cards = createCardFunding({
    repository: cardFundingRepository,
    onSettledFundingHint: (row) => cardReversals.syncChargebacks(row),
    ledger,
    queue: jobs.queue,
    logger,
    audit: options.audit,
    provider: options.cardProvider.provider,
    publicBaseUrl: runtime.config.PUBLIC_BASE_URL,
    rates: options.cardProvider.rates,
    spreadBps: runtime.config.FX_SPREAD_BPS,
    limits: {
      perFundingMinor: BigInt(runtime.config.CARD_FUNDING_MAX_USD_MINOR),
      dailyMinor: BigInt(runtime.config.CARD_FUNDING_DAILY_USD_MINOR),
    },
    findRecipientByPhone: async (phone) => {
      const normalized = normalizePhone(phone);
      if (normalized === undefined) return undefined;
      const user = await options.findUserByPhone(normalized);
      return user !== undefined && user.phone_verified && user.status === 'active'
        ? { userId: user.id }
        : undefined;
    },
    maskedPhoneOf: async (userId) => {
      const user = await options.findUser(userId);
      return user?.phone === null || user === undefined ? null : maskPhone(user.phone);
    },
  });
  const fx = createFxConversion({
    db,
    ledger,
    logger,
    rates: options.cardProvider.rates,
    spreadBps: runtime.config.FX_SPREAD_BPS,
    quoteTtlSeconds: runtime.config.FX_QUOTE_TTL_SECONDS,
  });
  const paymentPort = createLedgerPaymentPort({
    wallets: () => wallets,
    payments: () => payments,
    pricingOf: async (orderId) => {
      const { state } = await orders().load(orderId);
      return state.order!.pricing;
    },
  });

  payments.defineJobs();
  payouts.defineJobs();
  cards.defineJobs();
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
          await reconciliation.enqueueNightly(new Date(at), [
            ...(Object.keys(options.providers.providers) as ProviderName[]),
            ...(options.cardProvider.provider === undefined ? [] : (['flutterwave'] as const)),
          ]);
          return;
        case 'stranded-escrow':
          await escrow.sweepStranded();
          return;
        case 'card-fundings':
          await cards.sweep();
          return;
        case 'card-chargebacks':
          await cardReversals.sweepChargebacks();
          return;
        case 'fx-converting':
          await fx.sweepConverting();
          return;
        case 'receivable-recovery':
          await receivables.sweep();
          return;
        default: {
          const unknown: never = task;
          throw new Error(`unknown maintenance task ${String(unknown)}`);
        }
      }
    },
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
    alerts: createPaymentAlerts(db),
    commission: createCommissionRepository(db),
    cards,
    cardReversals,
    cardProvider: options.cardProvider,
    fx,
    receivables,
    start: () => escrow.start(),
    stop: () => escrow.stop(),
  };
}

/** Every instance ticks; the job id per time slot makes one of them do the work. */
export function paymentSchedules(queue: JobQueue): Schedule[] {
  const tick = (task: MaintenanceTask, slotMs: number) => async (at: Date) =>
    queue.enqueue(
      MAINTENANCE_QUEUE,
      { task, at: at.toISOString() },
      { jobId: `${task}-${Math.floor(at.getTime() / slotMs)}` },
    );
  return [
    { name: 'payments-sweep', cron: '* * * * *', run: tick('sweep', 60_000) },
    { name: 'wallet-auto-topup', cron: '*/10 * * * *', run: tick('auto-topup', 600_000) },
    { name: 'payouts-auto-settlement', cron: '0 6 * * *', run: tick('auto-settlement', 86_400_000) },
    { name: 'reconciliation-nightly', cron: '30 2 * * *', run: tick('reconciliation', 86_400_000) },
    { name: 'escrow-stranded-sweep', cron: '*/5 * * * *', run: tick('stranded-escrow', 300_000) },
    { name: 'card-fundings-sweep', cron: '*/10 * * * *', run: tick('card-fundings', 600_000) },
    { name: 'card-chargebacks-sweep', cron: '15 * * * *', run: tick('card-chargebacks', 3_600_000) },
    { name: 'fx-converting-sweep', cron: '*/5 * * * *', run: tick('fx-converting', 300_000) },
    { name: 'receivable-recovery-sweep', cron: '* * * * *', run: tick('receivable-recovery', 60_000) },
  ];
}

export const paymentsContext = defineContext({
  name: 'payments',
  needs: {
    identity: need<Pick<Identity, 'audit' | 'repository'>>(),
    ledger: need<LedgerPort>(),
    catalog: need<{ orders: Pick<CatalogOrdersApi, 'restaurantOwnerId'> }>(),
    admin: need<{ withdrawalHolds: Pick<WithdrawalHolds, 'isHeld'> }>(),
  },
  // Orders is built with our PaymentPort; we call it back only when a payment settles. Community
  // (bulk orders) is built after us too: told when a bulk order's Mobile Money payment lands.
  later: {
    orders: need<{ orders: OrdersService }>(),
    community: need<{ bulk: { collections: BulkCollectionsHook } }>(),
  },
  tables: tablesOf<PaymentTables>(),
  async create(platform, { identity, ledger, catalog, admin }, later) {
    const { runtime } = platform;
    const providers = await startPaymentProviders(runtime.config, {
      onEvent: (event) =>
        runtime.logger.warn({ component: 'payments', ...event }, `payment router: ${event.type}`),
    });
    // Closed last (closers run in reverse): jobs and requests still talking to the simulators stop first.
    runtime.closers.unshift({ name: 'payment providers', close: () => providers.close() });
    for (const warning of providers.warnings) runtime.logger.warn(warning);
    const cardProvider = await startCardProvider(runtime.config);
    runtime.closers.unshift({ name: 'card provider', close: () => cardProvider.close() });
    for (const warning of cardProvider.warnings) runtime.logger.warn(warning);
    // Before anything reads a payout or a wallet: encrypt phones written before encryption.
    await encryptPaymentsAtRest(platform.db, fieldCipherOf(runtime.config));
    const payments = createPaymentsContext({
      runtime,
      db: platform.db,
      eventStore: platform.eventStore,
      ledger,
      jobs: platform.jobs,
      audit: identity.audit,
      findUser: (userId) => identity.repository.findUserById(userId),
      findUserByPhone: (phone) => identity.repository.findUserByPhone(phone),
      cardProvider,
      restaurantOwner: (restaurantId) => catalog.orders.restaurantOwnerId(restaurantId),
      payoutHeld: (payee) => admin.withdrawalHolds.isHeld(payee),
      ledgerCaughtUp: () => platform.projections.waitUntilCaughtUp('ledger', 10_000),
      providers,
      orders: () => later.orders().orders,
      bulkOrders: () => later.community().bulk.collections,
    });
    return {
      service: payments,
      routes(app) {
        registerPaymentRoutes(app, { runtime, payments, orders: later.orders(), catalog, identity });
        registerPaymentMetrics(app.metricsRegistry, runtime.database.db);
      },
      schedules: paymentSchedules(platform.jobs.queue),
      reactors: [{ name: 'escrow', start: () => payments.start(), stop: () => payments.stop() }],
      seed: { run: () => paymentsSeedStep.run({ runtime, identity, payments, ledger }) },
      personalData: paymentsPersonalData({
        db: platform.db,
        wallets: payments.wallets,
        fields: fieldCipherOf(runtime.config),
      }),
    };
  },
});
