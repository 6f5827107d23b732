/**
 * SMS through Twilio's official SDK (`twilio`), the first SMS adapter (SMS_PROVIDER=twilio).
 * Twilio's refusals become `ChannelResult`s (docs/notification-channels.md): a number Twilio cannot
 * text (21211 invalid, 21614 not a mobile, 21610 unsubscribed, 21612/21408 unroutable) and other
 * request errors are permanent; 429 and 5xx throw (the SDK first retries 429 itself, then the
 * queue retries with its back-off). Each message asks Twilio to report its status to our
 * callback (`POST /v1/webhooks/twilio/status`, signature checked).
 */
import twilio from 'twilio';
import type { ChannelAdapter, ChannelResult } from './outbox.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** A sender number (+1…) or a Messaging Service SID (MG…). */
  from: string;
  /** Where Twilio posts the message's status changes (unset: no receipts). */
  statusCallbackUrl?: string;
  /**
   * Another origin for Twilio's REST API (an outbound relay, or the tests' stand-in): requests
   * still go through the SDK's own `RequestClient` (authentication, form encoding, its 429
   * retries, its errors), passed as the client's `httpClient`.
   */
  apiBaseUrl?: string;
  /** Retries of a 429 inside the SDK before the queue's own (default 2). */
  maxRetries?: number;
}

/** Twilio error codes that say this number cannot be texted (retrying cannot help). */
export const TWILIO_PERMANENT_CODES = new Set([21211, 21408, 21610, 21612, 21614]);
const TWILIO_ORIGIN = /^https:\/\/[a-z0-9.-]+\.twilio\.com/;

type RelayedOptions<TData> = Parameters<twilio.RequestClient['request']>[0] & { data?: TData };

/** The SDK's request client, re-addressed to another origin when one is configured. */
class RelayedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly origin: string,
    options: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(options);
  }
  override request<TData>(options: RelayedOptions<TData>) {
    return super.request<TData>({ ...options, uri: options.uri.replace(TWILIO_ORIGIN, this.origin) });
  }
}

export function createTwilioAdapter(settings: TwilioSettings): ChannelAdapter {
  const clientOptions = {
    timeout: 10_000,
    autoRetry: true,
    maxRetries: settings.maxRetries ?? 2,
  };
  const client = twilio(settings.accountSid, settings.authToken, {
    ...clientOptions,
    ...(settings.apiBaseUrl !== undefined
      ? { httpClient: new RelayedRequestClient(settings.apiBaseUrl.replace(/\/+$/, ''), clientOptions) }
      : {}),
  });
  const sender = settings.from.startsWith('MG')
    ? { messagingServiceSid: settings.from }
    : { from: settings.from };
  return {
    name: 'twilio',
    async send(message) {
      try {
        const sent = await client.messages.create({
          to: message.to,
          body: message.body,
          ...sender,
          ...(settings.statusCallbackUrl !== undefined ? { statusCallback: settings.statusCallbackUrl } : {}),
        });
        return { status: 'sent', providerId: sent.sid };
      } catch (error) {
        return refusal(error);
      }
    },
  };
}

/** Twilio's answer as a result, or the error rethrown when a retry may help. */
function refusal(error: unknown): ChannelResult {
  const { status, code } = error as { status?: unknown; code?: unknown };
  // Network faults and timeouts carry no HTTP status: transient.
  if (typeof status !== 'number') throw error;
  if (status === 429 || status >= 500 || status === 401 || status === 403) throw error;
  // A number Twilio cannot text, or any other refusal of the request itself (400, 404): the same
  // request would be refused again.
  if (typeof code === 'number' && TWILIO_PERMANENT_CODES.has(code))
    return { status: 'failed', reason: `invalid_number (twilio ${code})`, permanent: true };
  const reason = typeof code === 'number' ? `twilio ${code}` : `twilio http ${status}`;
  return { status: 'failed', reason, permanent: true };
}
