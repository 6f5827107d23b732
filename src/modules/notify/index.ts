/**
 * Who is told what, when and how (issue #19, docs/notifications.md): a checkpointed reactor turns
 * order and payment events into notification intents (the in-app centre), and queues per channel
 * deliver them through the notifications port with retries, a dead-letter table, a fallback
 * chain (push → SMS, e-mail for receipts), the person's preferences and quiet hours, and an
 * hourly cap. Built after identity, orders and payments; the notifications context below it stays
 * the transport (channel adapters and the recording outbox).
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import { fieldCipherOf } from '../../platform/field-crypto.js';
import { preferencesOf, type Identity } from '../identity/index.js';
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { Notifications } from '../notifications/index.js';
import type { PaymentAlerts } from '../payments/index.js';
import type { OrdersService } from '../orders/index.js';
import type { RecipientDirectory } from './delivery.js';
import { createNotifyMetrics } from './metrics.js';
import { notifyPersonalData } from './personal-data.js';
import { registerNotifyRoutes, registerNotifyStatsRoute } from './routes.js';
import { registerAfricasTalkingReceipts, registerReceiptRoutes } from './receipts-routes.js';
import { createNotify, INTENT_REACTOR, type PayoutLookup } from './service.js';
import { staffSweepJob, staffSweepSchedule } from './staff-sweep.js';
import type { NotifyTables } from './tables.js';
import { createTemplates, languageOf } from './templates.js';

export { createNotify, INTENT_REACTOR, type Notify, type CentreItem } from './service.js';
import type { Notify } from './service.js';
export { QUEUES as NOTIFY_QUEUES, channelFlags, quietUntil } from './delivery.js';
export {
  intentId,
  orderIntents,
  paymentIntents,
  type DriverOffer,
  type DriverArrival,
  type DriverReminder,
  type DriverEmergency,
  type DriverSpeedWarning,
  type OrderEtaMoved,
  type IntentDraft,
} from './intents.js';
/** What the dispatch context calls to tell a driver of an offer (notify's service implements it). */
export type DriverOfferNotifier = Pick<Notify, 'driverOffer'>;
/** What the dispatch context calls when a driver enters an order's geofence (a push off the socket). */
export type DriverArrivalNotifier = Pick<Notify, 'driverArrival'>;
/** What the dispatch context's daily round calls: document expiry and maintenance reminders. */
export type DriverReminderNotifier = Pick<Notify, 'driverReminder'>;
/**
 * What the dispatch context calls for a moved ETA (the customer), a driver's emergency (staff) and
 * a stored speed alert (the driver).
 */
export type DispatchAlertNotifier = Pick<Notify, 'orderEta' | 'driverEmergency' | 'driverSpeedWarning'>;
export type { SupportReply, SupportSlaBreach, NewsletterMessage } from './intents.js';

export { checkTemplates, createTemplates, loadTemplates, formatXaf } from './templates.js';

/** Staff alerts go to at most this many accounts per role. */
const STAFF_RECIPIENTS_MAX = 50;

export const notifyContext = defineContext({
  name: 'notify',
  needs: {
    notifications: need<Pick<Notifications, 'deliver'>>(),
    identity: need<Pick<Identity, 'repository'>>(),
    orders: need<{ orders: Pick<OrdersService, 'load' | 'trackingUrl'> }>(),
    payments: need<{ payouts: PayoutLookup; alerts: PaymentAlerts }>(),
    catalog: need<{ orders: Pick<CatalogOrdersApi, 'restaurantOwnerId' | 'stockLevels'> }>(),
  },
  tables: tablesOf<NotifyTables>(),
  create(platform, { notifications, identity, orders, payments, catalog }) {
    const { runtime } = platform;
    const { config } = runtime;
    const recipients: RecipientDirectory = {
      async recipient(userId) {
        const user = await identity.repository.findUserById(userId);
        if (user === undefined || user.status === 'deleted') return undefined;
        return {
          phone: user.phone_verified ? user.phone : null,
          email: user.email,
          language: languageOf(user.locale),
          preferences: preferencesOf(user.notification_preferences),
        };
      },
    };
    const metrics = createNotifyMetrics();
    const notify = createNotify({
      db: platform.db,
      cipher: fieldCipherOf(config),
      eventStore: platform.eventStore,
      queue: platform.jobs.queue,
      bus: platform.realtime.bus,
      sender: notifications,
      recipients,
      nameOf: async (userId) => (await identity.repository.findUserById(userId))?.name ?? null,
      orders: () => orders.orders,
      payouts: payments.payouts,
      restaurantOwnerId: (restaurantId) => catalog.orders.restaurantOwnerId(restaurantId),
      stockLevels: (restaurantId, itemIds) => catalog.orders.stockLevels(restaurantId, itemIds),
      lowStockThreshold: config.NOTIFY_LOW_STOCK_THRESHOLD,
      async staffIds(roles) {
        const ids = new Set<string>();
        for (const role of roles)
          for (const user of await identity.repository.searchUsers({
            role,
            status: 'active',
            limit: STAFF_RECIPIENTS_MAX,
          }))
            ids.add(user.id);
        return [...ids];
      },
      paymentAlerts: payments.alerts,
      templates: createTemplates(),
      metrics,
      logger: runtime.logger,
      hourlyCap: config.NOTIFY_HOURLY_CAP,
      ackTimeoutSeconds: config.NOTIFY_ACK_TIMEOUT_SECONDS,
      concurrency: config.NOTIFY_QUEUE_CONCURRENCY,
      costXaf: { push: 0, sms: config.NOTIFY_SMS_COST_XAF, email: config.NOTIFY_EMAIL_COST_XAF },
    });
    return {
      service: notify,
      routes(app) {
        for (const metric of metrics.all) app.metricsRegistry.registerMetric(metric);
        registerNotifyRoutes(app, notify);
        registerNotifyStatsRoute(app, notify);
        // Delivery receipts (Twilio status callbacks): only with the token that checks their signature.
        if (config.TWILIO_AUTH_TOKEN !== undefined)
          registerReceiptRoutes(app, notify.repository, {
            twilioAuthToken: config.TWILIO_AUTH_TOKEN,
            publicBaseUrl: config.PUBLIC_BASE_URL,
          });
        // Africa's Talking delivery reports: only with the secret their registered URL carries.
        if (config.AFRICASTALKING_CALLBACK_TOKEN !== undefined)
          registerAfricasTalkingReceipts(app, notify.repository, {
            callbackToken: config.AFRICASTALKING_CALLBACK_TOKEN,
          });
      },
      jobs: [...notify.delivery.definitions, staffSweepJob(notify)],
      schedules: [staffSweepSchedule(platform.jobs.queue)],
      reactors: [{ name: INTENT_REACTOR, start: notify.reactor.start, stop: notify.reactor.stop }],
      personalData: notifyPersonalData(notify.repository),
      // Deliveries that gave up, kept for an operator to look into (docs/admin.md "Data retention").
      retention: [
        {
          kind: 'notify.dead_letters',
          description: 'notifications that failed every attempt (GET /v1/admin/notifications/dead-letters)',
          defaultDays: 90,
          minimumDays: 7,
          purge: (before, limit) => notify.repository.purgeDeadLetters(before, limit),
        },
      ],
    };
  },
});
