import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';

/**
 * Twilio status callbacks (`POST /v1/webhooks/twilio/status`): signed with the account's auth
 * token over our public URL and the posted form (X-Twilio-Signature, computed here by Twilio's
 * signing scheme: HMAC-SHA1 over the URL and the sorted parameters), they update the receipt of
 * the delivery Twilio knows by its SID.
 */
const AUTH_TOKEN = 'receipts-test-twilio-token';
const PUBLIC_BASE_URL = 'https://api.example.cm';
const CALLBACK_URL = `${PUBLIC_BASE_URL}/v1/webhooks/twilio/status`;
let testApp: TestApp;

/** Twilio's signature: HMAC-SHA1 (auth token) of the URL then each parameter's name and value, sorted by name. */
function sign(params: Record<string, string>, url = CALLBACK_URL, token = AUTH_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, key) => text + key + params[key], url);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

const sid = () => `SM${randomBytes(16).toString('hex')}`;

/** A sent SMS delivery of a fresh intent, as the queue leaves it (claimed, then sent), known to Twilio as `providerId`. */
async function sentDelivery(providerId: string): Promise<string> {
  const { repository } = testApp.services.notify;
  const intentId = randomUUID();
  const recipientId = randomUUID();
  const now = new Date();
  await repository.insertIntents(
    [
      {
        id: intentId,
        recipientId,
        kind: 'order.ready',
        category: 'orders',
        priority: 'normal',
        params: { restaurant: 'Chez Mama' },
        orderId: null,
        sourceEventId: randomUUID(),
        requiresAck: false,
        receipt: false,
      },
    ],
    now,
  );
  expect(
    await repository.claimDelivery({
      intentId,
      recipientId,
      channel: 'sms',
      priority: 'normal',
      allowance: Number.POSITIVE_INFINITY,
      now,
    }),
  ).toBe('claimed');
  await repository.finishDelivery(intentId, 'sms', { status: 'sent', transport: 'twilio', providerId }, now);
  return `${intentId}:sms`;
}

async function receipt(deliveryId: string) {
  const { rows } = await testApp.database.pool.query<{
    status: string;
    provider_status: string | null;
    provider_reason: string | null;
  }>('SELECT status, provider_status, provider_reason FROM notification_deliveries WHERE id = $1', [
    deliveryId,
  ]);
  return rows[0];
}

/** `notification_receipts_total` for Twilio SMS with this status, from /metrics. */
async function receiptsCounted(status: string): Promise<number> {
  const response = await testApp.app.inject({ method: 'GET', url: '/metrics' });
  const line = response.body
    .split('\n')
    .find((text) =>
      text.startsWith(`notification_receipts_total{provider="twilio",channel="sms",status="${status}"}`),
    );
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

function post(params: Record<string, string>, signature: string | null = sign(params)) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/webhooks/twilio/status',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature !== null ? { 'x-twilio-signature': signature } : {}),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

/** What Twilio posts (a subset of its parameters; the signature covers all of them). */
const callback = (messageSid: string, status: string, extra: Record<string, string> = {}) => ({
  AccountSid: `AC${'1'.repeat(32)}`,
  ApiVersion: '2010-04-01',
  From: '+237650000000',
  To: '+237670000001',
  MessageSid: messageSid,
  SmsSid: messageSid,
  SmsStatus: status,
  MessageStatus: status,
  ...extra,
});

beforeAll(async () => {
  testApp = await createTestApp({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL } });
}, 60_000);
afterAll(async () => testApp?.close());

describe('Twilio status callbacks', () => {
  it('records sent, then delivered, for a good signature', async () => {
    const messageSid = sid();
    const delivery = await sentDelivery(messageSid);
    const sent = await post(callback(messageSid, 'sent'));
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toEqual({ received: true, applied: true });
    expect(await receipt(delivery)).toEqual({
      status: 'sent',
      provider_status: 'sent',
      provider_reason: null,
    });

    const before = await receiptsCounted('delivered');
    const delivered = await post(callback(messageSid, 'delivered'));
    expect(delivered.statusCode).toBe(200);
    expect(await receipt(delivery)).toMatchObject({ status: 'sent', provider_status: 'delivered' });
    expect(await receiptsCounted('delivered')).toBe(before + 1);
  });

  it('records a failure with the provider’s reason', async () => {
    const messageSid = sid();
    const delivery = await sentDelivery(messageSid);
    const response = await post(callback(messageSid, 'undelivered', { ErrorCode: '30003' }));
    expect(response.statusCode).toBe(200);
    expect(await receipt(delivery)).toEqual({
      status: 'sent',
      provider_status: 'failed',
      provider_reason: 'twilio undelivered 30003',
    });
  });

  it('never moves a receipt back when callbacks arrive out of order', async () => {
    const messageSid = sid();
    const delivery = await sentDelivery(messageSid);
    expect((await post(callback(messageSid, 'delivered'))).statusCode).toBe(200);
    expect((await post(callback(messageSid, 'sent'))).statusCode).toBe(200);
    expect((await post(callback(messageSid, 'queued'))).statusCode).toBe(200);
    expect((await receipt(delivery))?.provider_status).toBe('delivered');
  });

  it('refuses a bad signature with 403 and changes nothing', async () => {
    const messageSid = sid();
    const delivery = await sentDelivery(messageSid);
    const params = callback(messageSid, 'delivered');
    for (const signature of [
      sign(params, CALLBACK_URL, 'another-token'), // signed with another account's token
      sign({ ...params, MessageStatus: 'failed' }), // the form was altered after signing
      sign(params, 'https://attacker.example/v1/webhooks/twilio/status'),
      null, // no signature at all
    ]) {
      const response = await post(params, signature);
      expect(response.statusCode, String(signature)).toBe(403);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.json()).toMatchObject({ status: 403, code: 'receipt_signature_invalid' });
    }
    expect((await receipt(delivery))?.provider_status).toBeNull();
  });

  it('answers 200 for a message it does not know, and changes nothing', async () => {
    const response = await post(callback(sid(), 'delivered'));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true, applied: false });
  });

  it('answers 400 for a signed form that is not a status callback', async () => {
    const params = { MessageSid: 'not-a-sid', MessageStatus: 'delivered' };
    const response = await post(params);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
