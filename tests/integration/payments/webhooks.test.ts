import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentStream } from '../../../src/modules/payments/payment-decider.js';
import { ownTables } from '../../../src/db/own-tables.js';
import { createPaymentsService } from '../../../src/modules/payments/payments-service.js';
import type { PaymentTables } from '../../../src/modules/payments/tables.js';
import type { Database } from '../../../src/services.js';
import { MAGIC_NUMBERS, SIMULATOR_CREDENTIALS } from '../../../src/modules/payments/simulators/index.js';
import type { TestApp } from '../../helpers/app.js';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { paymentsTestApp, topUp, until, wallet } from './helpers.js';

let testApp: TestApp;

// Polling is slow here (60 s) so that each test decides what reaches the app: webhooks, or a poll it runs.
beforeAll(async () => {
  testApp = await paymentsTestApp({ PAYMENT_POLL_INITIAL_DELAY_MS: '60000' });
});
afterAll(async () => testApp?.close());

async function customer(): Promise<CreatedUser> {
  return createUser(testApp, { roles: ['customer'] });
}

/** The attempt's read-model row, once the provider's reference is recorded on it. */
async function row(paymentId: string) {
  const found = await testApp.services.db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .executeTakeFirstOrThrow();
  if (found.provider === null || found.provider_reference === null)
    throw new Error(`payment ${paymentId} has no provider reference yet`);
  return { ...found, provider: found.provider, provider_reference: found.provider_reference };
}

const simulators = () => testApp.services.payments.providers.simulators!;
async function simulatorStatus(reference: string): Promise<string> {
  return simulators().campay.engine.get(reference)?.status ?? 'UNKNOWN';
}

async function started(user: CreatedUser, amountMinor: number, phone: string): Promise<string> {
  const response = await topUp(testApp, user.accessToken, amountMinor, phone);
  expect(response.statusCode, response.body).toBe(202);
  return response.json().payment.paymentId as string;
}

async function signature(key: string = SIMULATOR_CREDENTIALS.campay.webhookKey): Promise<string> {
  return new SignJWT({ source: 'campay' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(key));
}

async function postWebhook(fields: Record<string, string>) {
  return testApp.app.inject({ method: 'POST', url: '/v1/webhooks/campay', payload: fields });
}

describe('magic numbers, end to end through the webhook or the poll', () => {
  it('a success is booked and its row written once: SUCCEEDED, settled, at the last revision of the stream', async () => {
    const user = await customer();
    const paymentId = await started(user, 2_500, '+237670123456');
    await until(
      () => wallet(testApp, user.accessToken),
      (w) => w.balanceMinor === 2_500,
    );
    const settled = await until(
      () => row(paymentId),
      (payment) => payment.settled_at !== null,
    );
    const events = await testApp.services.eventStore.readStream(paymentStream(paymentId));
    expect(settled.status).toBe('SUCCEEDED');
    expect(events.at(-1)!.type).toBe('PaymentSucceeded');
    expect(BigInt(settled.revision)).toBe(events.at(-1)!.revision);
    expect(Number(settled.received_minor)).toBe(2_500);
  });

  it('40 payments at once: their rows, written in groups, each end SUCCEEDED and settled at their stream revision', async () => {
    const users = await Promise.all(Array.from({ length: 40 }, () => customer()));
    const ids = await Promise.all(
      users.map((user, index) => started(user, 1_000 + index, `+23767012${String(3500 + index)}`)),
    );
    for (const [index, user] of users.entries())
      await until(
        () => wallet(testApp, user.accessToken),
        (w) => w.balanceMinor === 1_000 + index,
      );
    for (const paymentId of ids) {
      const settled = await until(
        () => row(paymentId),
        (payment) => payment.settled_at !== null,
      );
      const events = await testApp.services.eventStore.readStream(paymentStream(paymentId));
      expect(settled.status).toBe('SUCCEEDED');
      expect(BigInt(settled.revision)).toBe(events.at(-1)!.revision);
    }
  });

  it('an initiation told it is the first for its key still answers an attempt that exists, and books nothing twice', async () => {
    const user = await customer();
    const input = {
      userId: user.userId,
      purpose: { kind: 'topup' as const },
      amountMinor: 1_500n,
      currency: 'XAF' as const,
      phone: '+237670123457',
      idempotencyKey: `first-${user.userId}`,
      description: 'test',
    };
    const payments = testApp.services.payments.payments;
    const first = await payments.initiate(input);
    const again = await payments.initiate({ ...input, firstAttempt: true });
    expect(again.paymentId).toBe(first.paymentId);
    await until(
      () => wallet(testApp, user.accessToken),
      (w) => w.balanceMinor === 1_500,
    );
    await simulators().drainWebhooks();
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(1_500);
    expect(
      (await testApp.services.eventStore.readStream(paymentStream(first.paymentId))).filter(
        (event) => event.type === 'PaymentInitiated',
      ),
    ).toHaveLength(1);
  });

  it('…0001 fails (NOT_ENOUGH_FUNDS): the attempt is FAILED and the wallet untouched', async () => {
    const user = await customer();
    const paymentId = await started(user, 5_000, MAGIC_NUMBERS.MTN.fail);
    const failed = await until(
      () => row(paymentId),
      (payment) => payment.status === 'FAILED',
    );
    expect(failed.failure_reason).toBe('NOT_ENOUGH_FUNDS');
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(0);
  });

  it('…0003 sends its webhook twice: the wallet is credited once', async () => {
    const user = await customer();
    const paymentId = await started(user, 3_000, MAGIC_NUMBERS.ORANGE.webhookTwice);
    await until(
      () => wallet(testApp, user.accessToken),
      (w) => w.balanceMinor === 3_000,
    );
    const reference = (await row(paymentId)).provider_reference;
    await until(
      async () => simulators().campay.engine.get(reference)?.webhooksSent ?? 0,
      (sent) => sent === 2,
    );
    await simulators().drainWebhooks();
    // And the dashboard's "resend" twice more.
    for (let copy = 0; copy < 2; copy += 1)
      await fetch(`${simulators().campayControlUrl}/transactions/${reference}/webhook`, { method: 'POST' });
    await simulators().drainWebhooks();
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(3_000);
    const deliveries = simulators().campay.engine.webhookLog.filter(
      (delivery) => delivery.reference === reference,
    );
    expect(deliveries.length).toBe(4);
    expect(deliveries.every((delivery) => delivery.outcome === 200)).toBe(true);
  });

  it('…0004 never sends a webhook: the poll finds the success', async () => {
    const user = await customer();
    const paymentId = await started(user, 2_000, MAGIC_NUMBERS.MTN.noWebhook);
    const reference = (await row(paymentId)).provider_reference;
    await until(
      () => simulatorStatus(reference),
      (status) => status === 'SUCCESSFUL',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await row(paymentId)).status).toBe('PENDING'); // nobody told us
    await testApp.services.payments.payments.poll(paymentId, 1);
    expect((await row(paymentId)).status).toBe('SUCCEEDED');
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(2_000);
  });

  it('…0005 makes CamPay answer 503 (not processed): the payment fails over to MTN MoMo and succeeds there', async () => {
    const user = await customer();
    const paymentId = await started(user, 4_000, MAGIC_NUMBERS.MTN.primaryServerError);
    expect((await row(paymentId)).provider).toBe('mtn_momo');
    await until(
      () => wallet(testApp, user.accessToken),
      (w) => w.balanceMinor === 4_000,
    );
  });

  it('…0007 breaks every provider: 503 problem+json with Retry-After; the attempt, recorded first, ends FAILED and nothing is booked', async () => {
    const user = await customer();
    const response = await topUp(testApp, user.accessToken, 4_000, MAGIC_NUMBERS.MTN.everywhereServerError);
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe('30');
    expect(response.json().code).toBe('payment_provider_unavailable');
    const rows = await testApp.services.db
      .selectFrom('payment_attempts')
      .select(['payment_id', 'status', 'failure_reason', 'provider_reference'])
      .where('user_id', '=', user.userId)
      .execute();
    expect(rows).toEqual([
      {
        payment_id: response.json().paymentId,
        status: 'FAILED',
        failure_reason: 'PROVIDER_UNREACHABLE',
        provider_reference: null,
      },
    ]);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(0);
  });

  it('…0002 stays PENDING (cancelled on the phone): it expires after 15 minutes; a late success still lands in the wallet', async () => {
    const user = await customer();
    const paymentId = await started(user, 6_000, MAGIC_NUMBERS.MTN.pendingForever);
    const reference = (await row(paymentId)).provider_reference;
    const services = testApp.services;
    // The sweep as it will run 16 minutes from now.
    const later = createPaymentsService({
      db: ownTables<PaymentTables, Database>(services.db),
      eventStore: services.eventStore,
      router: services.payments.router,
      ledger: services.ledger,
      queue: services.jobs.queue,
      logger: services.runtime.logger,
      orders: () => undefined,
      pollInitialDelayMs: 60_000,
      now: () => new Date(Date.now() + 16 * 60_000),
    });
    expect((await later.sweep()).expired).toBeGreaterThanOrEqual(1);
    expect((await row(paymentId)).status).toBe('EXPIRED');
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(0);
    // The customer approves on the phone after all: the provider's webhook reaches us.
    const approved = await fetch(`${simulators().campayControlUrl}/transactions/${reference}/approve`, {
      method: 'POST',
    });
    expect(approved.status).toBe(200);
    const landed = await until(
      () => row(paymentId),
      (payment) => payment.status === 'SUCCEEDED',
    );
    expect(landed.after_expiry).toBe(true);
    // The row says SUCCEEDED as soon as the event is appended; the ledger credit follows it.
    await until(
      () => wallet(testApp, user.accessToken),
      (w) => w.balanceMinor === 6_000,
    );
  });
});

describe('webhook security: a webhook is a hint, the provider is the truth', () => {
  it('a forged signature is 401 problem+json and changes nothing', async () => {
    const user = await customer();
    const paymentId = await started(user, 7_000, MAGIC_NUMBERS.ORANGE.pendingForever);
    const payment = await row(paymentId);
    const before = await testApp.services.eventStore.readStream(`payment-${paymentId}`);
    const forged = await postWebhook({
      status: 'SUCCESSFUL',
      reference: payment.provider_reference,
      amount: '7000',
      currency: 'XAF',
      operator: 'ORANGE',
      code: 'CP1',
      operator_reference: 'x',
      external_reference: paymentId,
      signature: await signature('not-the-webhook-key-at-all'),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['content-type']).toContain('application/problem+json');
    expect(forged.json().code).toBe('webhook_signature_invalid');
    const unsigned = await postWebhook({
      status: 'SUCCESSFUL',
      reference: payment.provider_reference,
      amount: '7000',
    });
    expect(unsigned.statusCode).toBe(401);
    expect((await row(paymentId)).status).toBe('PENDING');
    expect(await testApp.services.eventStore.readStream(`payment-${paymentId}`)).toHaveLength(before.length);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(0);
  });

  it('a validly signed webhook claiming SUCCESSFUL for a payment still pending at the provider changes nothing', async () => {
    const user = await customer();
    const paymentId = await started(user, 7_000, MAGIC_NUMBERS.MTN.pendingForever);
    const payment = await row(paymentId);
    const lie = await postWebhook({
      status: 'SUCCESSFUL',
      reference: payment.provider_reference,
      amount: '7000',
      currency: 'XAF',
      operator: 'MTN',
      code: 'CP1',
      operator_reference: 'x',
      external_reference: paymentId,
      signature: await signature(),
    });
    expect(lie.statusCode).toBe(200);
    expect((await row(paymentId)).status).toBe('PENDING');
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(0);
  });

  it('a tampered amount in a signed webhook is ignored: the amount re-read from the provider is booked', async () => {
    const user = await customer();
    const paymentId = await started(user, 2_500, MAGIC_NUMBERS.ORANGE.noWebhook);
    const reference = (await row(paymentId)).provider_reference;
    await until(
      () => simulatorStatus(reference),
      (status) => status === 'SUCCESSFUL',
    );
    const tampered = await postWebhook({
      status: 'SUCCESSFUL',
      reference,
      amount: '999999',
      currency: 'XAF',
      operator: 'ORANGE',
      code: 'CP1',
      operator_reference: 'x',
      external_reference: paymentId,
      signature: await signature(),
    });
    expect(tampered.statusCode, tampered.body).toBe(200);
    expect((await row(paymentId)).received_minor).toBe(2_500n);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(2_500);
  });

  it('an unknown provider is 404', async () => {
    expect(
      (await testApp.app.inject({ method: 'POST', url: '/v1/webhooks/paypal', payload: {} })).statusCode,
    ).toBe(404);
  });
});
