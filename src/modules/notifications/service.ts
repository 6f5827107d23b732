import { Counter, Histogram } from 'prom-client';
import type { Runtime } from '../../runtime.js';
import type { NotificationsDb } from './tables.js';
import {
  assertMessage,
  createRecordingTransport,
  type Channel,
  type OutboundMessage,
  type ChannelAdapter,
  type ChannelResult,
  type OutboxReader,
  type SendResult,
  type SmsSender,
  type Transport,
} from './outbox.js';
import { createChannelAdapters, transportOf } from './channels.js';

export interface Notifications {
  /** Sends one message through its channel's transport; throws when the channel has none. */
  send(message: OutboundMessage): Promise<SendResult>;
  sms: SmsSender;
  /**
   * Sends one message and answers the adapter's verdict (`ChannelResult`) instead of throwing
   * for a refusal; throws only for transient faults (the caller's queue retries them). A channel
   * with no adapter is a permanent failure (`no_transport`).
   */
  deliver(message: OutboundMessage): Promise<ChannelResult & { transport: string }>;
  /** Installs a channel adapter (the later push, SMS-aggregator and SMTP adapters plug in here). */
  useAdapter(channel: Channel, adapter: ChannelAdapter): void;
  /** Installs the production transport of a channel (push: firebase-admin, email: SMTP). */
  useTransport(channel: Channel, transport: Transport): void;
  /** Present only while the recording outbox is on (development and tests). */
  outbox: OutboxReader | undefined;
  transportName(channel: Channel): string | undefined;
  /** Sends by channel, transport and outcome, and their duration: registered on /metrics by the context. */
  metrics: readonly [Counter<'channel' | 'transport' | 'outcome'>, Histogram<'channel' | 'transport'>];
}

/**
 * With OUTBOX_ENABLED every channel records into PostgreSQL and nothing leaves the machine;
 * the config refuses OUTBOX_ENABLED in production. Otherwise each channel goes through its real
 * adapter when configured (`createChannelAdapters`: FCM, Twilio or Africa's Talking, SMTP).
 */
export function createNotifications(runtime: Runtime, db: NotificationsDb): Notifications {
  const { config, logger } = runtime;
  const transports = new Map<Channel, Transport>();
  const adapters = new Map<Channel, ChannelAdapter>();
  // One adapter per channel (docs/notification-channels.md): the recording outbox for all while it
  // is on; otherwise FCM, Twilio or Africa's Talking, SMTP, each when configured.
  const recording = config.OUTBOX_ENABLED && !config.isProduction ? createRecordingTransport(db) : undefined;
  const outbox: OutboxReader | undefined = recording;
  const channels = createChannelAdapters(config, recording);
  runtime.closers.push({ name: 'notification channels', close: () => channels.close() });
  for (const [channel, adapter] of channels.adapters) {
    adapters.set(channel, adapter);
    transports.set(channel, recording ?? transportOf(adapter));
  }
  for (const [channel, variables] of channels.missing) logger.warn(`no ${channel} adapter: set ${variables}`);

  const sent = new Counter({
    name: 'notifications_sent_total',
    help: 'Notifications handed to a transport, by channel, transport and outcome (sent, failed, no_transport)',
    labelNames: ['channel', 'transport', 'outcome'] as const,
    registers: [],
  });
  const sendSeconds = new Histogram({
    name: 'notification_send_seconds',
    help: 'Time a transport took to accept a notification, by channel and transport',
    labelNames: ['channel', 'transport'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [],
  });

  const notifications: Notifications = {
    async send(message) {
      assertMessage(message);
      const transport = transports.get(message.channel);
      if (transport === undefined) {
        sent.inc({ channel: message.channel, transport: 'none', outcome: 'no_transport' });
        throw new Error(`no transport for the ${message.channel} channel`);
      }
      const labels = { channel: message.channel, transport: transport.name };
      const stopTimer = sendSeconds.startTimer(labels);
      let id: string;
      try {
        ({ id } = await transport.send(message));
      } catch (error) {
        sent.inc({ ...labels, outcome: 'failed' });
        throw error;
      } finally {
        stopTimer();
      }
      sent.inc({ ...labels, outcome: 'sent' });
      // The recipient and body are personal data: only the channel and transport are logged.
      logger.debug({ channel: message.channel, transport: transport.name }, 'notification sent');
      return { id, channel: message.channel, transport: transport.name };
    },
    sms: { send: (message) => notifications.send({ channel: 'sms', ...message }) },
    async deliver(message) {
      assertMessage(message);
      const adapter = adapters.get(message.channel) ?? adapterOf(transports.get(message.channel));
      if (adapter === undefined) {
        sent.inc({ channel: message.channel, transport: 'none', outcome: 'no_transport' });
        return { status: 'failed', reason: 'no_transport', permanent: true, transport: 'none' };
      }
      const labels = { channel: message.channel, transport: adapter.name };
      const stopTimer = sendSeconds.startTimer(labels);
      let result: ChannelResult;
      try {
        result = await adapter.send(message);
      } catch (error) {
        sent.inc({ ...labels, outcome: 'failed' });
        throw error;
      } finally {
        stopTimer();
      }
      sent.inc({ ...labels, outcome: result.status });
      return { ...result, transport: adapter.name };
    },
    useAdapter(channel, adapter) {
      if (outbox !== undefined) return; // the recording outbox wins while it is on
      adapters.set(channel, adapter);
    },
    useTransport(channel, transport) {
      if (outbox !== undefined) return; // the recording outbox wins while it is on
      transports.set(channel, transport);
    },
    outbox,
    transportName: (channel) => adapters.get(channel)?.name ?? transports.get(channel)?.name,
    metrics: [sent, sendSeconds],
  };
  return notifications;
}

/** A transport that throws on failure, seen as an adapter: its errors stay transient (retried). */
function adapterOf(transport: Transport | undefined): ChannelAdapter | undefined {
  if (transport === undefined) return undefined;
  return {
    name: transport.name,
    async send(message) {
      const { id } = await transport.send(message);
      return { status: 'sent', providerId: id };
    },
  };
}
