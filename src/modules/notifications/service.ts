import type { Runtime } from '../../runtime.js';
import {
  assertMessage,
  createRecordingTransport,
  type Channel,
  type OutboundMessage,
  type OutboxReader,
  type SendResult,
  type SmsSender,
  type Transport,
} from './outbox.js';
import { createTwilioTransport } from './twilio.js';

export interface Notifications {
  /** Sends one message through its channel's transport; throws when the channel has none. */
  send(message: OutboundMessage): Promise<SendResult>;
  sms: SmsSender;
  /** Installs the production transport of a channel (push: firebase-admin, email: SMTP). */
  useTransport(channel: Channel, transport: Transport): void;
  /** Present only while the recording outbox is on (development and tests). */
  outbox: OutboxReader | undefined;
  transportName(channel: Channel): string | undefined;
}

/**
 * With OUTBOX_ENABLED every channel records into PostgreSQL and nothing leaves the machine;
 * the config refuses OUTBOX_ENABLED in production. Otherwise SMS goes through Twilio when its
 * credentials are set, and other contexts install the push and e-mail transports.
 */
export function createNotifications(runtime: Runtime): Notifications {
  const { config, logger } = runtime;
  const transports = new Map<Channel, Transport>();
  let outbox: OutboxReader | undefined;
  if (config.OUTBOX_ENABLED && !config.isProduction) {
    const recording = createRecordingTransport(runtime.database.db);
    outbox = recording;
    for (const channel of ['sms', 'push', 'email'] as const) transports.set(channel, recording);
  } else if (config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_FROM) {
    transports.set(
      'sms',
      createTwilioTransport({
        accountSid: config.TWILIO_ACCOUNT_SID,
        authToken: config.TWILIO_AUTH_TOKEN,
        from: config.TWILIO_FROM,
      }),
    );
  } else {
    logger.warn('no SMS transport: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM');
  }

  const notifications: Notifications = {
    async send(message) {
      assertMessage(message);
      const transport = transports.get(message.channel);
      if (transport === undefined) throw new Error(`no transport for the ${message.channel} channel`);
      const { id } = await transport.send(message);
      // The recipient and body are personal data: only the channel and transport are logged.
      logger.debug({ channel: message.channel, transport: transport.name }, 'notification sent');
      return { id, channel: message.channel, transport: transport.name };
    },
    sms: { send: (message) => notifications.send({ channel: 'sms', ...message }) },
    useTransport(channel, transport) {
      if (outbox !== undefined) return; // the recording outbox wins while it is on
      transports.set(channel, transport);
    },
    outbox,
    transportName: (channel) => transports.get(channel)?.name,
  };
  return notifications;
}
