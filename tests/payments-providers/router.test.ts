import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { problemOf } from '../../src/http/errors.js';
import {
  createCampayProvider,
  createMtnMomoProvider,
  createPaymentProviders,
  createPaymentRouter,
  startPaymentProviders,
  ProviderRejected,
  ProviderUnavailable,
  providerErrorToDomainError,
  type PaymentProvider,
  type PaymentRouter,
  type RouterEvent,
} from '../../src/modules/payments/providers/index.js';
import {
  MAGIC_NUMBERS,
  SIMULATOR_CREDENTIALS,
  startSimulators,
  type RunningSimulators,
} from '../../src/modules/payments/simulators/index.js';
import { postJson, startWebhookSink, waitForStatus } from './helpers.js';

const { MTN, ORANGE } = MAGIC_NUMBERS;
const COOL_DOWN_MS = 150;

function moneyRequest(phoneE164: string, amountMinor = 1_000n) {
  return { amountMinor, currency: 'XAF', phoneE164, description: 'Order', externalReference: randomUUID() };
}

let sink: Awaited<ReturnType<typeof startWebhookSink>>;
let simulators: RunningSimulators;
let campay: PaymentProvider;
let mtn: PaymentProvider;

let impatientCampay: PaymentProvider;

/** The breakers' clock: tests move it by hand, so a busy machine cannot end a cool-down early. */
let clockMs = 0;

function makeRouter(
  events: RouterEvent[] = [],
  failureThreshold = 100,
  primary = () => campay,
): PaymentRouter {
  return createPaymentRouter({
    providers: { campay: primary(), mtn_momo: mtn },
    routes: { MTN: { primary: 'campay', fallback: 'mtn_momo' }, ORANGE: { primary: 'campay' } },
    breaker: { failureThreshold, coolDownMs: COOL_DOWN_MS, now: () => clockMs },
    onEvent: (event) => events.push(event),
  });
}

beforeAll(async () => {
  sink = await startWebhookSink();
  simulators = await startSimulators({
    webhookBaseUrl: sink.webhookBaseUrl,
    delayMs: 50,
    timeoutHoldMs: 5_000,
  });
  // Generous timeouts (the machine may be busy); the timeout test uses the impatient one.
  campay = createCampayProvider({
    baseUrl: simulators.campayUrl,
    ...SIMULATOR_CREDENTIALS.campay,
    timeoutMs: 3_000,
  });
  impatientCampay = createCampayProvider({
    baseUrl: simulators.campayUrl,
    ...SIMULATOR_CREDENTIALS.campay,
    timeoutMs: 300,
  });
  mtn = createMtnMomoProvider({
    baseUrl: simulators.mtnUrl,
    ...SIMULATOR_CREDENTIALS.mtn,
    callbackUrl: `${sink.webhookBaseUrl}/mtn_momo`,
    callbackSecret: 'router-test-callback-secret-0123',
    timeoutMs: 3_000,
  });
});

afterEach(async () => {
  await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'none' });
});

afterAll(async () => {
  await simulators.close();
  await sink.close();
});

describe('routing and failover', () => {
  it('sends MTN and Orange numbers to their primary when it is up', async () => {
    const router = makeRouter();
    expect(await router.collect(moneyRequest(MTN.succeed))).toMatchObject({
      provider: 'campay',
      operator: 'MTN',
      attempts: [],
    });
    expect(await router.collect(moneyRequest(ORANGE.succeed))).toMatchObject({
      provider: 'campay',
      operator: 'ORANGE',
    });
  });

  it('fails over to MTN MoMo when CamPay answers 5xx, and the taker is the one to ask for status', async () => {
    const events: RouterEvent[] = [];
    const router = makeRouter(events);
    const taken = await router.collect(moneyRequest(MTN.primaryServerError));
    expect(taken).toMatchObject({
      provider: 'mtn_momo',
      status: 'PENDING',
      attempts: [{ provider: 'campay', outcome: 'unavailable', code: 'HTTP_500' }],
    });
    expect(events).toEqual([{ type: 'failover', operator: 'MTN', from: 'campay', code: 'HTTP_500' }]);
    const settled = await waitForStatus(
      { status: (reference, kind) => router.status(taken.provider, reference, kind) },
      taken.providerReference,
      'SUCCESSFUL',
    );
    expect(settled.provider).toBe('mtn_momo');
  });

  it('fails over when CamPay times out', async () => {
    const taken = await makeRouter([], 100, () => impatientCampay).collect(moneyRequest(MTN.primaryTimeout));
    expect(taken).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ provider: 'campay', code: 'TIMEOUT' }],
    });
  });

  it('fails over a payout too', async () => {
    const paid = await makeRouter().disburse(moneyRequest(MTN.primaryServerError));
    expect(paid).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ provider: 'campay', outcome: 'unavailable' }],
    });
  });

  it('never fails over after a FAILED: the payment stays with CamPay and MTN never hears of it', async () => {
    const router = makeRouter();
    const mtnBefore = simulators.mtn.engine.list().length;
    const taken = await router.collect(moneyRequest(MTN.fail));
    expect(taken.provider).toBe('campay');
    const settled = await waitForStatus(
      { status: (reference) => router.status('campay', reference) },
      taken.providerReference,
      'FAILED',
    );
    expect(settled.reason).toBe('NOT_ENOUGH_FUNDS');
    expect(simulators.mtn.engine.list()).toHaveLength(mtnBefore);
  });

  it('never fails over after a rejection (ER301): the error is final and MTN is not called', async () => {
    const router = makeRouter();
    const mtnRequests = simulators.mtn.state.counters.apiRequests;
    const error = await router
      .disburse(moneyRequest(MTN.succeed, 10_000_000_000n))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('ER301');
    expect(simulators.mtn.state.counters.apiRequests).toBe(mtnRequests);
    expect(problemOf(providerErrorToDomainError(error as ProviderRejected))).toMatchObject({
      status: 422,
      code: 'payment_rejected',
    });
  });

  it('a refusal by the fallback after the primary timed out names the primary as one that may hold the collection', async () => {
    // A fallback that refuses everything (a stand-in: the MTN simulator takes these numbers).
    const refusing: PaymentProvider = {
      ...mtn,
      collect: async () => {
        throw new ProviderRejected('mtn_momo', 'PAYER_NOT_FOUND', 'unknown payer', 400);
      },
    };
    const router = createPaymentRouter({
      providers: { campay: impatientCampay, mtn_momo: refusing },
      routes: { MTN: { primary: 'campay', fallback: 'mtn_momo' }, ORANGE: { primary: 'campay' } },
      breaker: { failureThreshold: 100, coolDownMs: COOL_DOWN_MS, now: () => clockMs },
    });
    const error = await router.collect(moneyRequest(MTN.primaryTimeout)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).mayHaveReached).toEqual(['campay']);
    // Refused by the primary itself: nothing was left unanswered.
    const direct = await makeRouter()
      .disburse(moneyRequest(MTN.succeed, 10_000_000_000n))
      .catch((caught: unknown) => caught);
    expect((direct as ProviderRejected).mayHaveReached).toEqual([]);
  });

  it('Orange has no fallback: a CamPay outage is ProviderUnavailable (503 for callers)', async () => {
    const error = await makeRouter()
      .collect(moneyRequest(ORANGE.primaryServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(problemOf(providerErrorToDomainError(error as ProviderUnavailable))).toMatchObject({
      status: 503,
      code: 'payment_provider_unavailable',
      headers: { 'retry-after': '30' },
    });
  });

  it('when every provider is down (…0007) the caller gets ProviderUnavailable', async () => {
    const error = await makeRouter()
      .collect(moneyRequest(MTN.everywhereServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).provider).toBe('router');
  });

  it('refuses numbers of operators it does not serve', async () => {
    const router = makeRouter();
    await expect(router.collect(moneyRequest('+237660000000'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_OPERATOR',
    });
    expect(router.routeFor('+237660000000')).toBeUndefined();
    expect(router.routeFor(MTN.succeed)).toEqual({
      operator: 'MTN',
      primary: 'campay',
      fallback: 'mtn_momo',
    });
  });

  it('refuses routes a provider cannot serve, or to unconfigured providers', () => {
    expect(() =>
      createPaymentRouter({
        providers: { campay, mtn_momo: mtn },
        routes: { MTN: { primary: 'campay' }, ORANGE: { primary: 'campay', fallback: 'mtn_momo' } },
        breaker: { failureThreshold: 1, coolDownMs: 1 },
      }),
    ).toThrow(/cannot serve ORANGE/);
    expect(() =>
      createPaymentRouter({
        providers: { campay },
        routes: { MTN: { primary: 'campay', fallback: 'mtn_momo' }, ORANGE: { primary: 'campay' } },
        breaker: { failureThreshold: 1, coolDownMs: 1 },
      }),
    ).toThrow(/not configured/);
  });

  it('routes webhooks and history to the named provider', async () => {
    const router = makeRouter();
    await expect(router.history('mtn_momo', { from: new Date(0), to: new Date() })).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
    });
    expect(
      Array.isArray(
        await router.history('campay', {
          from: new Date(Date.now() - 60_000),
          to: new Date(Date.now() + 1_000),
        }),
      ),
    ).toBe(true);
    expect(
      await router.verifyWebhook('campay', { method: 'POST', query: {}, headers: {}, body: {} }),
    ).toMatchObject({ accepted: false });
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, skips CamPay while open, half-opens after the cool-down and closes on success', async () => {
    const events: RouterEvent[] = [];
    const router = makeRouter(events, 2);
    await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'error' });
    await router.collect(moneyRequest(MTN.succeed));
    await router.collect(moneyRequest(MTN.succeed));
    expect(router.circuits()).toContainEqual({
      provider: 'campay',
      operator: 'MTN',
      state: 'open',
      consecutiveFailures: 2,
    });
    expect(events).toContainEqual({ type: 'circuit_opened', operator: 'MTN', provider: 'campay' });

    const campayRequests = simulators.campay.state.counters.apiRequests;
    const skipped = await router.collect(moneyRequest(MTN.succeed));
    expect(skipped).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ provider: 'campay', outcome: 'circuit_open' }],
    });
    expect(simulators.campay.state.counters.apiRequests).toBe(campayRequests);

    await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'none' });
    clockMs += COOL_DOWN_MS;
    expect(router.circuits()).toContainEqual(
      expect.objectContaining({ provider: 'campay', operator: 'MTN', state: 'half_open' }),
    );
    const trial = await router.collect(moneyRequest(MTN.succeed));
    expect(trial).toMatchObject({ provider: 'campay', attempts: [] });
    expect(router.circuits()).toContainEqual(
      expect.objectContaining({ provider: 'campay', operator: 'MTN', state: 'closed' }),
    );
    expect(events).toContainEqual({ type: 'circuit_closed', operator: 'MTN', provider: 'campay' });
  });

  it('re-opens when the half-open trial fails, and keeps CamPay Orange traffic on its own circuit', async () => {
    const router = makeRouter([], 1);
    await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'error' });
    expect(await router.collect(moneyRequest(MTN.succeed))).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ code: 'HTTP_500' }],
    });
    clockMs += COOL_DOWN_MS;
    expect(await router.collect(moneyRequest(MTN.succeed))).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ outcome: 'unavailable' }],
    });
    expect(router.circuits()).toContainEqual(
      expect.objectContaining({ provider: 'campay', operator: 'MTN', state: 'open' }),
    );
    await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'none' });
    expect(await router.collect(moneyRequest(ORANGE.succeed))).toMatchObject({ provider: 'campay' });
  });

  it('a rejection does not count as a failure', async () => {
    const router = makeRouter([], 1);
    await expect(router.disburse(moneyRequest(MTN.succeed, 10_000_000_000n))).rejects.toBeInstanceOf(
      ProviderRejected,
    );
    expect(router.circuits()).toContainEqual({
      provider: 'campay',
      operator: 'MTN',
      state: 'closed',
      consecutiveFailures: 0,
    });
  });
});

describe('createPaymentProviders from the configuration', () => {
  const baseEnvironment = {
    DATA_DIR: '/tmp/payments-providers-test',
    ENCRYPTION_KEY: 'a'.repeat(64),
    JWT_SECRET: 'j'.repeat(32),
    JWT_REFRESH_SECRET: 'r'.repeat(32),
  };

  it('wires both adapters to running simulators, and the MTN callback URL to our webhook route', async () => {
    const config = loadConfig({
      ...baseEnvironment,
      PUBLIC_BASE_URL: sink.baseUrl,
      PAYMENT_PROVIDER_TIMEOUT_MS: '3000',
    });
    const { router, warnings } = createPaymentProviders(config, { simulators });
    expect(warnings).toEqual([]);
    const taken = await router.collect(moneyRequest(MTN.primaryServerError));
    expect(taken.provider).toBe('mtn_momo');
    await waitForStatus(
      { status: (reference) => router.status('mtn_momo', reference) },
      taken.providerReference,
      'SUCCESSFUL',
    );
    await simulators.drainWebhooks();
    const callback = sink.about(taken.providerReference)[0]!;
    expect(callback.provider).toBe('mtn_momo');
    expect(await router.verifyWebhook('mtn_momo', callback.request)).toMatchObject({ accepted: true });
  });

  it('drops a fallback without credentials with a warning, and refuses a primary without them', () => {
    const config = loadConfig({
      ...baseEnvironment,
      CAMPAY_BASE_URL: 'https://demo.campay.net/api',
      CAMPAY_API_KEY: 'k',
    });
    const { router, warnings } = createPaymentProviders(config);
    expect(warnings).toEqual([expect.stringContaining('PAYMENT_FALLBACK_MTN=mtn_momo')]);
    expect(router.routeFor(MTN.succeed)).toEqual({ operator: 'MTN', primary: 'campay' });
    expect(() => createPaymentProviders(loadConfig(baseEnvironment))).toThrow(/PAYMENT_PROVIDER_MTN=campay/);
  });

  it('startPaymentProviders starts the simulators when PAYMENT_SIMULATORS is on, with the configured delay', async () => {
    const config = loadConfig({
      ...baseEnvironment,
      PAYMENT_SIMULATOR_DELAY_MS: '20',
      PUBLIC_BASE_URL: sink.baseUrl,
    });
    const running = await startPaymentProviders(config);
    try {
      expect(running.simulators?.campayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
      const taken = await running.router.collect(moneyRequest(ORANGE.succeed));
      expect(taken.provider).toBe('campay');
      await waitForStatus(
        { status: (reference) => running.router.status('campay', reference) },
        taken.providerReference,
        'SUCCESSFUL',
      );
      await running.simulators!.drainWebhooks();
      const webhook = sink.about(taken.providerReference)[0]!;
      expect(webhook.provider).toBe('campay');
      expect(await running.router.verifyWebhook('campay', webhook.request)).toMatchObject({ accepted: true });
    } finally {
      await running.close();
    }
  });
});
