import type { ModuleRegistration } from '../index.js';
import { registerOutboxRoutes } from './routes.js';

export { createNotifications, type Notifications } from './service.js';
export {
  CHANNELS,
  type Channel,
  type OutboundMessage,
  type OutboxReader,
  type RecordedMessage,
  type SendResult,
  type SmsSender,
  type Transport,
} from './outbox.js';

export const notificationsModule: ModuleRegistration = {
  name: 'notifications',
  async plugin(app, { services }) {
    const { config } = services.runtime;
    const outbox = services.notifications.outbox;
    if (outbox !== undefined && config.OUTBOX_ENABLED && !config.isProduction) {
      registerOutboxRoutes(app, outbox);
    }
  },
};
