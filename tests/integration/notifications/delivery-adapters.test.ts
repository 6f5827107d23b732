import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFcmAdapter, type FcmAdapter } from '../../../src/modules/notifications/push-fcm.js';
import { createTwilioAdapter } from '../../../src/modules/notifications/sms-twilio.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { createUser, randomPhone } from '../../helpers/auth.js';
import {
  FCM_TOKENS,
  startFcmStandIn,
  startTwilioStandIn,
  testServiceAccount,
  TWILIO_NUMBERS,
} from './stand-ins.js';

/**
 * Notify's queues through the real adapters (the outbox off): a push through firebase-admin to
 * the FCM stand-in, and when FCM answers that the token is unregistered, the device forgotten and
 * the SMS fallback through the twilio SDK to its stand-in, whose status callback then marks the
 * delivery delivered. The same code path as production, short of the providers' hosts.
 */
const AUTH_TOKEN = 'delivery-test-twilio-token';
const ACCOUNT_SID = `AC${'3'.repeat(32)}`;
const PUBLIC_BASE_URL = 'https://api.example.cm';
const PROJECT = 'food-delivery-e2e';
let testApp: TestApp;
let fcm: Awaited<ReturnType<typeof startFcmStandIn>>;
let twilio: Awaited<ReturnType<typeof startTwilioStandIn>>;
let push: FcmAdapter;
const directory = mkdtempSync(join(tmpdir(), 'fcm-key-'));

beforeAll(async () => {
  const account = testServiceAccount(PROJECT);
  fcm = await startFcmStandIn(account);
  twilio = await startTwilioStandIn({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  testApp = await createTestApp({
    env: {
      OUTBOX_ENABLED: 'false',
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      PUBLIC_BASE_URL,
    },
  });
  const keyFile = join(directory, 'key.json');
  writeFileSync(keyFile, account.json, { mode: 0o600 });
  push = createFcmAdapter({ serviceAccountFile: keyFile, ttlSeconds: 600, httpAgent: fcm.agent });
  const { notifications } = testApp.services;
  notifications.useAdapter('push', push);
  notifications.useAdapter(
    'sms',
    createTwilioAdapter({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: '+237650000000',
      statusCallbackUrl: `${PUBLIC_BASE_URL}/v1/webhooks/twilio/status`,
      apiBaseUrl: twilio.baseUrl,
    }),
  );
}, 60_000);
afterAll(async () => {
  await testApp?.close();
  await push?.close();
  await fcm?.close();
  await twilio?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** A customer with a verified phone and maybe a device, and an order-ready intent dispatched to them. */
async function readyIntentFor(deviceToken: string | undefined, phone?: string) {
  const { notify } = testApp.services;
  const user = await createUser(testApp, phone !== undefined ? { phone } : {});
  if (deviceToken !== undefined)
    expect(await notify.repository.registerDevice(user.userId, deviceToken, 'android', new Date())).not.toBe(
      'too_many',
    );
  const id = randomUUID();
  const orderId = randomUUID();
  await notify.repository.insertIntents(
    [
      {
        id,
        recipientId: user.userId,
        kind: 'order.ready',
        category: 'orders',
        priority: 'high',
        params: { restaurant: 'Chez Mama' },
        orderId,
        sourceEventId: randomUUID(),
        requiresAck: false,
        receipt: false,
      },
    ],
    new Date(),
  );
  await notify.delivery.dispatch(id);
  return { id, orderId, user };
}

const drain = async () => {
  for (const queue of ['notify-push', 'notify-sms', 'notify-push', 'notify-sms'])
    await testApp.services.jobs.queue.drain(queue, 15_000);
};

describe('delivery through the real adapters', () => {
  it('pushes through FCM with the order in the data and records the message name', async () => {
    const { id, orderId } = await readyIntentFor('device-token-e2e-ok');
    await drain();
    const send = fcm.sends().find((request) => request.body.includes('device-token-e2e-ok'));
    expect(send).toBeDefined();
    const { message } = JSON.parse(send!.body) as {
      message: { data: Record<string, string>; android: { collapse_key?: string } };
    };
    expect(message.data).toMatchObject({ intentId: id, kind: 'order.ready', orderId });
    expect(message.android.collapse_key).toBe(orderId);
    const deliveries = await testApp.services.notify.repository.deliveries(id);
    expect(deliveries).toEqual([
      expect.objectContaining({ channel: 'push', status: 'sent', transport: 'fcm' }),
    ]);
    expect(deliveries[0]!.provider_id).toMatch(new RegExp(`^projects/${PROJECT}/messages/`));
    expect(twilio.requests.length).toBe(0);
  });

  it('forgets an unregistered token, falls back to SMS through Twilio, and takes its receipt', async () => {
    const { id, user } = await readyIntentFor(FCM_TOKENS.unregistered);
    await drain();
    const { notify } = testApp.services;
    expect(await notify.repository.devices(user.userId)).toEqual([]);

    const sms = twilio.requests.find((request) => new URLSearchParams(request.body).get('To') === user.phone);
    expect(sms, 'the SMS fallback reached Twilio').toBeDefined();
    const form = new URLSearchParams(sms!.body);
    expect(form.get('StatusCallback')).toBe(`${PUBLIC_BASE_URL}/v1/webhooks/twilio/status`);
    const deliveries = await notify.repository.deliveries(id);
    const smsDelivery = deliveries.find((delivery) => delivery.channel === 'sms');
    expect(smsDelivery).toMatchObject({ status: 'sent', transport: 'twilio' });
    expect(deliveries.find((delivery) => delivery.channel === 'push')).toMatchObject({
      status: 'failed',
      reason: 'messaging/registration-token-not-registered',
    });

    // Twilio reports the handset got it.
    const params = { MessageSid: smsDelivery!.provider_id!, MessageStatus: 'delivered', To: user.phone };
    const data = Object.keys(params)
      .sort()
      .reduce(
        (text, key) => text + key + params[key as keyof typeof params],
        `${PUBLIC_BASE_URL}/v1/webhooks/twilio/status`,
      );
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/webhooks/twilio/status',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': createHmac('sha1', AUTH_TOKEN).update(data).digest('base64'),
      },
      payload: new URLSearchParams(params).toString(),
    });
    expect(response.json()).toEqual({ received: true, applied: true });
    const { rows } = await testApp.database.pool.query<{ provider_status: string }>(
      `SELECT provider_status FROM notification_deliveries WHERE id = $1`,
      [`${id}:sms`],
    );
    expect(rows[0]?.provider_status).toBe('delivered');
  });

  it.each([
    ['a 503', 503, 1, 1],
    ['a 429 (after the SDK’s own two retries)', 429, 3, 3],
  ])(
    'retries an SMS refused with %s through the queue, then sends it once',
    async (_, status, times, firstTry) => {
      const phone = randomPhone();
      twilio.failNext(phone, status, times);
      const { id } = await readyIntentFor(undefined, phone);
      const { repository } = testApp.services.notify;
      const deadline = Date.now() + 20_000;
      let sms: Awaited<ReturnType<typeof repository.deliveries>>[number] | undefined;
      while (Date.now() < deadline) {
        sms = (await repository.deliveries(id)).find((delivery) => delivery.channel === 'sms');
        if (sms?.status === 'sent') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sms).toMatchObject({ status: 'sent', transport: 'twilio' });
      const tries = twilio.requests.filter(
        (request) => new URLSearchParams(request.body).get('To') === phone,
      );
      // The first job's request(s) refused, the queue's retry accepted: one message sent.
      expect(tries.length).toBe(firstTry + 1);
      const { rows } = await testApp.database.pool.query(
        `SELECT 1 FROM notification_dead_letters WHERE intent_id = $1`,
        [id],
      );
      expect(rows).toEqual([]);
    },
  );

  it('dead-letters an SMS to a number Twilio calls invalid, without retrying it', async () => {
    const { id } = await readyIntentFor(FCM_TOKENS.unregistered, TWILIO_NUMBERS.invalid);
    await drain();
    const tries = twilio.requests.filter(
      (request) => new URLSearchParams(request.body).get('To') === TWILIO_NUMBERS.invalid,
    );
    expect(tries.length).toBe(1);
    const deliveries = await testApp.services.notify.repository.deliveries(id);
    expect(deliveries.find((delivery) => delivery.channel === 'sms')).toMatchObject({
      status: 'failed',
      reason: 'invalid_number (twilio 21211)',
    });
    const { rows } = await testApp.database.pool.query<{ reason: string }>(
      `SELECT reason FROM notification_dead_letters WHERE intent_id = $1 AND channel = 'sms'`,
      [id],
    );
    expect(rows).toEqual([{ reason: 'invalid_number (twilio 21211)' }]);
  });
});
