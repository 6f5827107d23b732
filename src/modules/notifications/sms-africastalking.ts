/**
 * SMS through Africa's Talking's bulk SMS HTTP API (SMS_PROVIDER=africastalking), the local
 * aggregator: the USSD channel of this product already speaks Africa's Talking's format, and its
 * SMS API is documented and small (one form-encoded POST answering per-recipient status codes),
 * so a plain `fetch` is the whole client (docs/notification-channels.md).
 *
 * `POST {base}/version1/messaging` with the `apiKey` header and `username`, `to`, `message`
 * (and `from`, an approved sender id) answers `SMSMessageData.Recipients[]`, each with a
 * `statusCode`: 100 processed, 101 sent, 102 queued are accepted; a bad or blacklisted number,
 * an unroutable one, a DND rejection and a refused sender id are permanent; an empty balance
 * and the aggregator's own faults are transient (thrown, the queue retries).
 */
import { Decimal } from 'decimal.js';
import type { ChannelAdapter, ChannelResult } from './outbox.js';

export interface AfricasTalkingSettings {
  username: string;
  apiKey: string;
  /** An approved sender id or short code; unset: the account's default. */
  from?: string;
  /** The live API, the sandbox, or another origin (the tests' stand-in). */
  baseUrl: string;
  timeoutMs?: number;
}

export const AFRICASTALKING_LIVE_URL = 'https://api.africastalking.com';
export const AFRICASTALKING_SANDBOX_URL = 'https://api.sandbox.africastalking.com';

const ACCEPTED = new Set([100, 101, 102]);
/** Per-recipient codes a retry cannot change. */
const PERMANENT: Record<number, string> = {
  401: 'risk_hold',
  402: 'invalid_sender_id',
  403: 'invalid_number',
  404: 'unsupported_number_type',
  406: 'recipient_blacklisted',
  407: 'could_not_route',
  409: 'do_not_disturb',
  502: 'rejected_by_gateway',
};
/** Per-recipient codes worth another try: 405 insufficient balance, 500 and 501 its own faults. */
const TRANSIENT = new Set([405, 500, 501]);

interface Recipient {
  statusCode?: number;
  status?: string;
  messageId?: string;
  number?: string;
  cost?: string;
}

export class AfricasTalkingError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AfricasTalkingError';
  }
}

export function createAfricasTalkingAdapter(settings: AfricasTalkingSettings): ChannelAdapter {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/version1/messaging`;
  return {
    name: 'africastalking',
    async send(message) {
      const form = new URLSearchParams({
        username: settings.username,
        to: message.to,
        message: message.body,
      });
      if (settings.from !== undefined) form.set('from', settings.from);
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          apiKey: settings.apiKey,
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: form,
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
      });
      const text = await response.text();
      // 401 (a wrong key), 429 and 5xx: the request may pass later (or once the key is fixed).
      if (response.status === 401 || response.status === 429 || response.status >= 500)
        throw new AfricasTalkingError(`africastalking answered HTTP ${response.status}`, response.status);
      if (!response.ok)
        return { status: 'failed', reason: `africastalking http ${response.status}`, permanent: true };
      let recipient: Recipient | undefined;
      try {
        const body = JSON.parse(text) as { SMSMessageData?: { Recipients?: Recipient[] } };
        recipient = body.SMSMessageData?.Recipients?.[0];
      } catch {
        throw new AfricasTalkingError('africastalking answered a body that is not JSON', response.status);
      }
      return verdict(recipient);
    },
  };
}

function verdict(recipient: Recipient | undefined): ChannelResult {
  // No recipient at all: the aggregator refused the number before routing it (e.g. malformed).
  if (recipient === undefined || typeof recipient.statusCode !== 'number')
    return { status: 'failed', reason: 'invalid_number (africastalking: no recipient)', permanent: true };
  const code = recipient.statusCode;
  if (ACCEPTED.has(code)) {
    const costXaf = xafOf(recipient.cost);
    return {
      status: 'sent',
      ...(recipient.messageId !== undefined ? { providerId: recipient.messageId } : {}),
      ...(costXaf !== undefined ? { costXaf } : {}),
    };
  }
  if (TRANSIENT.has(code))
    throw new AfricasTalkingError(
      `africastalking recipient status ${code} ${recipient.status ?? ''}`.trim(),
      200,
    );
  return {
    status: 'failed',
    reason: `${PERMANENT[code] ?? 'refused'} (africastalking ${code})`,
    permanent: true,
  };
}

/**
 * The recipient's `cost` ("XAF 25.0000") in whole francs (half up), or undefined when it is in
 * another currency or unreadable (the statistics then count the configured unit cost).
 */
export function xafOf(cost: string | undefined): number | undefined {
  const match = typeof cost === 'string' ? /^XAF\s+(\d{1,9}(?:\.\d{1,6})?)$/.exec(cost.trim()) : null;
  if (match === null) return undefined;
  return new Decimal(match[1]!).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}
