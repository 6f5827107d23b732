/**
 * Which adapter serves each channel, decided once at boot from the configuration
 * (docs/notification-channels.md): the recording outbox for every channel while OUTBOX_ENABLED
 * (development and tests; production refuses it); otherwise push through FCM when a service
 * account is configured, SMS through SMS_PROVIDER (twilio or africastalking) when its credentials
 * are set (production refuses to start without them), e-mail over SMTP when SMTP_HOST and
 * SMTP_FROM are set. A channel without an adapter answers `no_transport`.
 */
import type { Config } from '../../config/index.js';
import {
  AFRICASTALKING_LIVE_URL,
  AFRICASTALKING_SANDBOX_URL,
  createAfricasTalkingAdapter,
} from './sms-africastalking.js';
import { createSmtpAdapter } from './email-smtp.js';
import type { Channel, ChannelAdapter, Transport } from './outbox.js';
import { createFcmAdapter } from './push-fcm.js';
import { createTwilioAdapter } from './sms-twilio.js';

/** Where Twilio posts message status changes (registered by the notify context). */
export const TWILIO_STATUS_PATH = '/v1/webhooks/twilio/status';

export interface ChannelAdapters {
  adapters: Map<Channel, ChannelAdapter>;
  /** Channels left without an adapter, each with the variables that would give it one. */
  missing: Map<Channel, string>;
  /** Releases the SDKs' clients (the Firebase app, the SMTP pool). */
  close(): Promise<void>;
}

type ChannelConfig = Pick<
  Config,
  | 'OUTBOX_ENABLED'
  | 'isProduction'
  | 'PUBLIC_BASE_URL'
  | 'FCM_SERVICE_ACCOUNT_JSON'
  | 'GOOGLE_APPLICATION_CREDENTIALS'
  | 'FCM_PROJECT_ID'
  | 'FCM_TTL_SECONDS'
  | 'SMS_PROVIDER'
  | 'TWILIO_ACCOUNT_SID'
  | 'TWILIO_AUTH_TOKEN'
  | 'TWILIO_FROM'
  | 'AFRICASTALKING_USERNAME'
  | 'AFRICASTALKING_API_KEY'
  | 'AFRICASTALKING_FROM'
  | 'AFRICASTALKING_SANDBOX'
  | 'SMTP_HOST'
  | 'SMTP_PORT'
  | 'SMTP_USER'
  | 'SMTP_PASS'
  | 'SMTP_FROM'
>;

export function createChannelAdapters(config: ChannelConfig, outbox: Transport | undefined): ChannelAdapters {
  const adapters = new Map<Channel, ChannelAdapter>();
  const missing = new Map<Channel, string>();
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const closer of closers) await closer();
  };

  if (outbox !== undefined && config.OUTBOX_ENABLED && !config.isProduction) {
    const recording = adapterOf(outbox);
    for (const channel of ['push', 'sms', 'email'] as const) adapters.set(channel, recording);
    return { adapters, missing, close };
  }

  if (config.FCM_SERVICE_ACCOUNT_JSON !== undefined || config.GOOGLE_APPLICATION_CREDENTIALS !== undefined) {
    const fcm = createFcmAdapter({
      ...(config.FCM_SERVICE_ACCOUNT_JSON !== undefined
        ? { serviceAccountJson: config.FCM_SERVICE_ACCOUNT_JSON }
        : { serviceAccountFile: config.GOOGLE_APPLICATION_CREDENTIALS! }),
      ...(config.FCM_PROJECT_ID !== undefined ? { projectId: config.FCM_PROJECT_ID } : {}),
      ttlSeconds: config.FCM_TTL_SECONDS,
    });
    adapters.set('push', fcm);
    closers.push(() => fcm.close());
  } else missing.set('push', 'FCM_SERVICE_ACCOUNT_JSON or GOOGLE_APPLICATION_CREDENTIALS');

  if (config.SMS_PROVIDER === 'africastalking') {
    if (config.AFRICASTALKING_USERNAME !== undefined && config.AFRICASTALKING_API_KEY !== undefined)
      adapters.set(
        'sms',
        createAfricasTalkingAdapter({
          username: config.AFRICASTALKING_USERNAME,
          apiKey: config.AFRICASTALKING_API_KEY,
          ...(config.AFRICASTALKING_FROM !== undefined ? { from: config.AFRICASTALKING_FROM } : {}),
          baseUrl: config.AFRICASTALKING_SANDBOX ? AFRICASTALKING_SANDBOX_URL : AFRICASTALKING_LIVE_URL,
        }),
      );
    else missing.set('sms', 'AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY');
  } else if (config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_FROM) {
    adapters.set(
      'sms',
      createTwilioAdapter({
        accountSid: config.TWILIO_ACCOUNT_SID,
        authToken: config.TWILIO_AUTH_TOKEN,
        from: config.TWILIO_FROM,
        statusCallbackUrl: `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${TWILIO_STATUS_PATH}`,
      }),
    );
  } else missing.set('sms', 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM');

  if (config.SMTP_HOST !== undefined && config.SMTP_FROM !== undefined) {
    const smtp = createSmtpAdapter({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      from: config.SMTP_FROM,
      ...(config.SMTP_USER !== undefined ? { user: config.SMTP_USER } : {}),
      ...(config.SMTP_PASS !== undefined ? { pass: config.SMTP_PASS } : {}),
    });
    adapters.set('email', smtp);
    closers.push(() => smtp.close());
  } else missing.set('email', 'SMTP_HOST and SMTP_FROM');

  return { adapters, missing, close };
}

/** A throwing transport seen as an adapter: its errors stay transient (retried). */
export function adapterOf(transport: Transport): ChannelAdapter {
  return {
    name: transport.name,
    async send(message) {
      const { id } = await transport.send(message);
      return { status: 'sent', providerId: id };
    },
  };
}

/** A refused message, thrown by the plain `send` path (verification codes) that has no verdicts. */
export class ChannelRefused extends Error {
  constructor(
    readonly channel: Channel,
    readonly reason: string,
  ) {
    super(`the ${channel} message was refused: ${reason}`);
    this.name = 'ChannelRefused';
  }
}

/** An adapter seen as a transport (for `Notifications.send`): a refusal becomes an error. */
export function transportOf(adapter: ChannelAdapter): Transport {
  return {
    name: adapter.name,
    async send(message) {
      const result = await adapter.send(message);
      if (result.status === 'failed') throw new ChannelRefused(message.channel, result.reason ?? 'failed');
      return { id: result.providerId ?? '' };
    },
  };
}
