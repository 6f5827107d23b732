import twilio from 'twilio';
import type { Transport } from './outbox.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** A sender number (+1…) or a Messaging Service SID (MG…). */
  from: string;
}

/** The production SMS transport over the official SDK. */
export function createTwilioTransport(settings: TwilioSettings): Transport {
  const client = twilio(settings.accountSid, settings.authToken, {
    timeout: 10_000,
    autoRetry: true,
    maxRetries: 2,
  });
  const sender = settings.from.startsWith('MG')
    ? { messagingServiceSid: settings.from }
    : { from: settings.from };
  return {
    name: 'twilio',
    async send(message) {
      const sent = await client.messages.create({ to: message.to, body: message.body, ...sender });
      return { id: sent.sid };
    },
  };
}
