/**
 * Fault schedules of the Orange Money fallback (issue #28), end to end through the app, the
 * router, the CamPay and Orange Money simulators and the ledger: the primary down (503 at once,
 * then a whole outage that opens its circuit), the fallback timing out and succeeding late
 * (with and without its notification), the fallback repeating and lying in its notifications,
 * and reporting another amount than asked. After each: what the wallet holds, that nothing is
 * booked twice, and the ledger verifies.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAGIC_NUMBERS } from '../../src/modules/payments/simulators/index.js';
import type { TestApp } from '../helpers/app.js';
import { createUser, type CreatedUser } from '../helpers/auth.js';
import { paymentsTestApp, topUp, until, wallet } from '../integration/payments/helpers.js';

const { ORANGE } = MAGIC_NUMBERS;
let testApp: TestApp;

beforeAll(async () => {
  testApp = await paymentsTestApp({
    // Each test decides what reaches the app: polls are far away, the breaker opens after four
    // outages (CamPay's 503s before it count) and stays open for the whole file, a provider call gives up after 1 s.
    PAYMENT_POLL_INITIAL_DELAY_MS: '60000',
    PAYMENT_CIRCUIT_FAILURE_THRESHOLD: '4',
    PAYMENT_CIRCUIT_COOLDOWN_MS: '600000',
    PAYMENT_PROVIDER_TIMEOUT_MS: '1000',
  });
});
afterAll(async () => testApp?.close());

const simulators = () => testApp.services.payments.providers.simulators!;

async function control(base: string, path: string, body: unknown = {}): Promise<void> {
  const response = await fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, `${path}: ${await response.text()}`).toBeLessThan(300);
}

async function customer(): Promise<CreatedUser> {
  return createUser(testApp, { roles: ['customer'] });
}

async function attempt(paymentId: string) {
  return testApp.services.db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .executeTakeFirstOrThrow();
}

/** The ledger's statement entries (its read model) of the transfers whose id matches `pattern`. */
async function entries(pattern: string): Promise<{ transfer_id: string; account_id: string }[]> {
  const result = await sql<{ transfer_id: string; account_id: string }>`
    SELECT transfer_id, account_id FROM ledger_entries WHERE transfer_id LIKE ${pattern}`.execute(
    testApp.services.db,
  );
  return result.rows;
}

/** The wallet entries of this attempt's credit (`pay:<id>:credit`) once the statement caught up. */
async function credits(paymentId: string): Promise<number> {
  const count = async () =>
    (await entries(`pay:${paymentId}:credit`)).filter((row) => row.account_id.startsWith('wallet:')).length;
  return until(count, (found) => found >= 1);
}

/** CamPay's Orange circuit opened by an outage (the breaker opens after four): Orange goes to Orange Money. */
async function openCampayOrangeCircuit(): Promise<void> {
  const router = testApp.services.payments.providers.router;
  const isOpen = () =>
    router
      .circuits()
      .some(
        (circuit) =>
          circuit.provider === 'campay' && circuit.operator === 'ORANGE' && circuit.state === 'open',
      );
  if (isOpen()) return;
  const user = await customer();
  await control(simulators().campayControlUrl, 'outage', { mode: 'error' });
  try {
    for (let index = 0; index < 5 && !isOpen(); index += 1)
      await topUp(testApp, user.accessToken, 1_000, ORANGE.succeed);
  } finally {
    await control(simulators().campayControlUrl, 'outage', { mode: 'none' });
  }
  expect(isOpen()).toBe(true);
}

async function expectLedgerSound(): Promise<void> {
  const report = await testApp.services.ledger.verify({ projections: false });
  expect(
    report.ok,
    JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
  ).toBe(true);
}

function orangeTransactionOf(paymentId: string) {
  return simulators()
    .orange.engine.list()
    .filter((transaction) => transaction.externalReference === paymentId);
}

describe('Orange numbers when CamPay is down', () => {
  it('CamPay answers 503 (it did not act): Orange Money takes the top-up, the wallet is credited once, CamPay holds nothing', async () => {
    const user = await customer();
    const response = await topUp(testApp, user.accessToken, 3_000, ORANGE.primaryServerError);
    expect(response.statusCode, response.body).toBe(202);
    const payment = response.json().payment as { paymentId: string; provider: string; ussdCode: string };
    expect(payment).toMatchObject({ provider: 'orange_money', ussdCode: '#150*50#' });
    await until(
      () => wallet(testApp, user.accessToken),
      (view) => view.balanceMinor === 3_000,
    );
    await simulators().drainWebhooks();
    expect((await attempt(payment.paymentId)).provider).toBe('orange_money');
    expect(
      simulators().campay.engine.findByExternalReference(payment.paymentId, 'collection'),
    ).toBeUndefined();
    expect(orangeTransactionOf(payment.paymentId)).toHaveLength(1);
    expect(await credits(payment.paymentId)).toBe(1);
    await expectLedgerSound();
  });

  // 0 ms: Orange Money's answer is usually recorded before CamPay's webhook comes; 500 ms: CamPay's
  // webhook may come first and be adopted as the attempt's, so Orange Money's is the one returned
  // (which one wins depends on the machine's load; either way one is booked and one returned).
  it.each([0, 500])(
    'CamPay lies: answers 503 after taking the money, Orange Money collects too (its answer held %i ms); the payer gets the second collection back in the wallet, once',
    async (orangeAnswerDelayMs) => {
      const user = await customer();
      await control(simulators().campayControlUrl, 'outage', { mode: 'unavailable_after_acting' });
      await control(simulators().orangeControlUrl, 'answer-delay', { ms: orangeAnswerDelayMs });
      let paymentId: string;
      try {
        const response = await topUp(testApp, user.accessToken, 5_000, ORANGE.succeed);
        expect(response.statusCode, response.body).toBe(202);
        paymentId = response.json().payment.paymentId as string;
      } finally {
        await control(simulators().campayControlUrl, 'outage', { mode: 'none' });
        await control(simulators().orangeControlUrl, 'answer-delay', { ms: 0 });
      }
      const atCampay = simulators().campay.engine.findByExternalReference(paymentId, 'collection');
      expect(atCampay).toBeDefined();
      // Booked once from the provider the attempt recorded, and the other collection returned.
      await until(
        () => wallet(testApp, user.accessToken),
        (view) => view.balanceMinor === 10_000,
      );
      for (let index = 0; index < 2; index += 1)
        await control(simulators().campayControlUrl, `transactions/${atCampay!.reference}/webhook`);
      await simulators().drainWebhooks();
      expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(10_000);
      expect(await credits(paymentId)).toBe(1);
      const returned = await until(
        () => entries(`pay:${paymentId}:second:%`),
        (rows) => rows.length >= 4,
      );
      // Whichever the attempt recorded, the other provider's collection is the one returned.
      const recorded = (await attempt(paymentId)).provider;
      const other = recorded === 'orange_money' ? 'campay' : 'orange_money';
      expect(['campay', 'orange_money']).toContain(recorded);
      expect([...new Set(returned.map((row) => row.transfer_id))].sort()).toEqual([
        `pay:${paymentId}:second:${other}`,
        `pay:${paymentId}:second:${other}:fee`,
      ]);
      expect(returned.filter((row) => row.account_id.startsWith('wallet:'))).toHaveLength(1);
      await expectLedgerSound();
    },
  );

  it('a CamPay outage: each top-up is a 503 (CamPay may have acted) or taken by Orange Money; once its circuit opens CamPay is not asked; nothing is collected twice', async () => {
    const user = await customer();
    const router = testApp.services.payments.providers.router;
    const taken: number[] = [];
    await control(simulators().campayControlUrl, 'outage', { mode: 'error' });
    try {
      for (const amount of [1_000, 1_100, 1_200]) {
        const response = await topUp(testApp, user.accessToken, amount, ORANGE.succeed);
        if (response.statusCode === 503) {
          expect(response.json()).toMatchObject({ code: 'payment_provider_unavailable' });
          expect(response.headers['retry-after']).toBe('30');
          continue;
        }
        expect(response.statusCode, response.body).toBe(202);
        expect(response.json().payment.provider).toBe('orange_money');
        taken.push(amount);
      }
      expect(
        router.circuits().find((circuit) => circuit.provider === 'campay' && circuit.operator === 'ORANGE')
          ?.state,
      ).toBe('open');
      const campayRequests = simulators().campay.state.counters.apiRequests;
      const served = await topUp(testApp, user.accessToken, 2_000, ORANGE.succeed);
      expect(served.statusCode, served.body).toBe(202);
      expect(served.json().payment.provider).toBe('orange_money');
      expect(simulators().campay.state.counters.apiRequests).toBe(campayRequests);
      taken.push(2_000);
    } finally {
      await control(simulators().campayControlUrl, 'outage', { mode: 'none' });
    }
    const expected = taken.reduce((sum, amount) => sum + amount, 0);
    await until(
      () => wallet(testApp, user.accessToken),
      (view) => view.balanceMinor === expected,
    );
    // The refused ones stay unbooked even after the late re-reads ask every Orange provider.
    await testApp.services.payments.payments.sweep(new Date(Date.now() + 20 * 60_000));
    await simulators().drainWebhooks();
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(expected);
    await expectLedgerSound();
  });
});

describe("Orange Money misbehaving (with CamPay's Orange circuit open, Orange payments go to Orange Money)", () => {
  beforeAll(openCampayOrangeCircuit);

  it('repeats its notification and lies in one (FAILED after the success): credited once, still SUCCEEDED', async () => {
    const user = await customer();
    const response = await topUp(testApp, user.accessToken, 1_500, ORANGE.webhookTwice);
    expect(response.statusCode, response.body).toBe(202);
    const { paymentId, provider } = response.json().payment as { paymentId: string; provider: string };
    expect(provider).toBe('orange_money');
    await until(
      () => wallet(testApp, user.accessToken),
      (view) => view.balanceMinor === 1_500,
    );
    const [transaction] = orangeTransactionOf(paymentId);
    for (let index = 0; index < 3; index += 1)
      await control(simulators().orangeControlUrl, `transactions/${transaction!.reference}/webhook`);
    await control(simulators().orangeControlUrl, `transactions/${transaction!.reference}/webhook`, {
      status: 'FAILED',
    });
    await simulators().drainWebhooks();
    const deliveries = simulators().orange.engine.webhookLog.filter(
      (delivery) => delivery.reference === transaction!.reference,
    );
    expect(deliveries.map((delivery) => delivery.outcome)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(1_500);
    expect((await attempt(paymentId)).status).toBe('SUCCEEDED');
    expect(await credits(paymentId)).toBe(1);
    await expectLedgerSound();
  });

  it('reports three times the amount asked, then 70 % of another: never more than asked is credited, the less is what it took', async () => {
    const user = await customer();
    const ids: string[] = [];
    for (const amount of [1_000, 2_000]) {
      const response = await topUp(testApp, user.accessToken, amount, ORANGE.pendingForever);
      expect(response.statusCode, response.body).toBe(202);
      ids.push(response.json().payment.paymentId as string);
    }
    const [more, less] = ids.map((id) => orangeTransactionOf(id)[0]!);
    await control(simulators().orangeControlUrl, `transactions/${more!.reference}/amount`, {
      amountMinor: 3_000,
    });
    await control(simulators().orangeControlUrl, `transactions/${less!.reference}/amount`, {
      amountMinor: 1_400,
    });
    await control(simulators().orangeControlUrl, `transactions/${more!.reference}/approve`);
    await control(simulators().orangeControlUrl, `transactions/${less!.reference}/approve`);
    await until(
      () => wallet(testApp, user.accessToken),
      (view) => view.balanceMinor === 1_000 + 1_400,
    );
    await simulators().drainWebhooks();
    const rows = await Promise.all(ids.map((id) => attempt(id)));
    expect(rows.map((row) => Number(row.received_minor))).toEqual([3_000, 1_400]);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(2_400);
    await expectLedgerSound();
  });

  it('times out, then succeeds: its notification finds the attempt by our order id and the late success lands in the wallet once', async () => {
    const user = await customer();
    await control(simulators().orangeControlUrl, 'answer-delay', { ms: 2_500 });
    let paymentId: string;
    try {
      const response = await topUp(testApp, user.accessToken, 4_000, ORANGE.succeed);
      expect(response.statusCode, response.body).toBe(503);
      paymentId = response.json().paymentId as string;
      expect(paymentId).toBeTruthy();
    } finally {
      await control(simulators().orangeControlUrl, 'answer-delay', { ms: 0 });
    }
    await until(
      () => wallet(testApp, user.accessToken),
      (view) => view.balanceMinor === 4_000,
    );
    await simulators().drainWebhooks();
    await testApp.services.payments.payments.sweep(new Date(Date.now() + 20 * 60_000));
    expect(orangeTransactionOf(paymentId)).toHaveLength(1);
    expect((await attempt(paymentId)).provider).toBe('orange_money');
    expect(await credits(paymentId)).toBe(1);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(4_000);
    await expectLedgerSound();
  });

  it('times out, then succeeds without a notification: the sweep finds it by our reference and credits it once', async () => {
    const user = await customer();
    await control(simulators().orangeControlUrl, 'answer-delay', { ms: 2_500 });
    let paymentId: string;
    try {
      const response = await topUp(testApp, user.accessToken, 2_200, ORANGE.noWebhook);
      expect(response.statusCode, response.body).toBe(503);
      paymentId = response.json().paymentId as string;
    } finally {
      await control(simulators().orangeControlUrl, 'answer-delay', { ms: 0 });
    }
    await until(
      async () => orangeTransactionOf(paymentId)[0]?.status,
      (status) => status === 'SUCCESSFUL',
    );
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(0);
    for (const minutes of [3, 20, 40])
      await testApp.services.payments.payments.sweep(new Date(Date.now() + minutes * 60_000));
    await until(
      () => wallet(testApp, user.accessToken),
      (view) => view.balanceMinor === 2_200,
    );
    expect((await attempt(paymentId)).provider).toBe('orange_money');
    expect(await credits(paymentId)).toBe(1);
    await expectLedgerSound();
  });
});
