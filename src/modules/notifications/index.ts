import { defineContext, tablesOf } from '../../platform/context.js';
import { notificationsPersonalData } from './personal-data.js';
import { registerOutboxRoutes } from './routes.js';
import { createNotifications } from './service.js';
import type { NotificationTables } from './tables.js';

export { createNotifications, type Notifications } from './service.js';
export { TWILIO_STATUS_PATH } from './channels.js';
export {
  CHANNELS,
  type Channel,
  type ChannelAdapter,
  type ChannelResult,
  type OutboundMessage,
  type OutboxReader,
  type RecordedMessage,
  type SendResult,
  type SmsSender,
  type Transport,
} from './outbox.js';

/**
 * Outbound SMS, push and e-mail: the recording outbox in development and tests (with its
 * development route `GET /v1/dev/outbox`), Twilio for SMS otherwise.
 */
export const notificationsContext = defineContext({
  name: 'notifications',
  needs: {},
  tables: tablesOf<NotificationTables>(),
  create({ runtime, db }) {
    const notifications = createNotifications(runtime, db);
    const { config } = runtime;
    const outbox = notifications.outbox;
    return {
      service: notifications,
      routes(app) {
        for (const metric of notifications.metrics) app.metricsRegistry.registerMetric(metric);
        if (outbox !== undefined && config.OUTBOX_ENABLED && !config.isProduction) {
          registerOutboxRoutes(app, outbox);
        }
      },
      personalData: notificationsPersonalData(outbox),
    };
  },
});
