import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** A fallback stand-in that records the money calls it receives, then lets MTN MoMo serve them. */
function recording(inner: PaymentProvider): { provider: PaymentProvider; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    provider: {
      ...inner,
      collect: async (request) => {
        calls.push('collect');
        return inner.collect(request);
      },
      disburse: async (request) => {
        calls.push('disburse');
        return inner.disburse(request);
      },
    },
  };
}

/** CamPay at `baseUrl` with a permanent app token (no token call before the money call). */
function campayAt(baseUrl: string): PaymentProvider {
  return createCampayProvider({ baseUrl, appToken: 'permanent-app-token', timeoutMs: 3_000 });
}

function mtnAt(baseUrl: string): PaymentProvider {
  return createMtnMomoProvider({
    baseUrl,
    ...SIMULATOR_CREDENTIALS.mtn,
    callbackUrl: `${sink.webhookBaseUrl}/mtn_momo`,
    callbackSecret: 'router-test-callback-secret-0123',
    timeoutMs: 3_000,
  });
}

/** A server that answers every request with `status` (and records the paths it was asked). */
async function startAnswering(status: number) {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? '');
    request.resume();
    request.on('end', () => response.writeHead(status, { 'content-type': 'text/html' }).end('<h1>no</h1>'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on: connections to it are refused. */
let closedPortUrl = '';

/** The breakers' clock: tests move it by hand, so a busy machine cannot end a cool-down early. */
let clockMs = 0;

function makeRouter(
  events: RouterEvent[] = [],
  failureThreshold = 100,
  primary = () => campay,
  fallback: PaymentProvider = mtn,
): PaymentRouter {
  return createPaymentRouter({
    providers: { campay: primary(), mtn_momo: fallback },
    routes: { MTN: { primary: 'campay', fallback: 'mtn_momo' }, ORANGE: { primary: 'campay' } },
    breaker: { failureThreshold, coolDownMs: COOL_DOWN_MS, now: () => clockMs },
    onEvent: (event) => events.push(event),
  });
}

beforeAll(async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPortUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/api`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
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

  it('fails over to MTN MoMo when CamPay answers 503 (not processed), and the taker is the one to ask for status', async () => {
    const events: RouterEvent[] = [];
    const router = makeRouter(events);
    const taken = await router.collect(moneyRequest(MTN.primaryServerError));
    expect(taken).toMatchObject({
      provider: 'mtn_momo',
      status: 'PENDING',
      attempts: [{ provider: 'campay', outcome: 'not_processed', code: 'HTTP_503' }],
    });
    expect(events).toEqual([{ type: 'failover', operator: 'MTN', from: 'campay', code: 'HTTP_503' }]);
    const settled = await waitForStatus(
      { status: (reference, kind) => router.status(taken.provider, reference, kind) },
      taken.providerReference,
      'SUCCESSFUL',
    );
    expect(settled.provider).toBe('mtn_momo');
  });

  it.each([429, 503])(
    'fails over a collect and a payout when CamPay answers %i to the money call',
    async (status) => {
      const answering = await startAnswering(status);
      try {
        const fallback = recording(mtn);
        const router = makeRouter([], 100, () => campayAt(answering.url), fallback.provider);
        for (const move of ['collect', 'disburse'] as const) {
          expect(await router[move](moneyRequest(MTN.succeed))).toMatchObject({
            provider: 'mtn_momo',
            attempts: [{ provider: 'campay', outcome: 'not_processed', code: `HTTP_${status}` }],
          });
        }
        expect(answering.paths).toEqual(['/api/collect/', '/api/withdraw/']);
        expect(fallback.calls).toEqual(['collect', 'disburse']);
      } finally {
        await answering.close();
      }
    },
  );

  it('fails over when the connection to CamPay is refused (nothing was sent)', async () => {
    const events: RouterEvent[] = [];
    const fallback = recording(mtn);
    const router = makeRouter(events, 100, () => campayAt(closedPortUrl), fallback.provider);
    expect(await router.collect(moneyRequest(MTN.succeed))).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ provider: 'campay', outcome: 'not_processed', code: 'CONNECT_FAILED' }],
    });
    expect(await router.disburse(moneyRequest(MTN.succeed))).toMatchObject({ provider: 'mtn_momo' });
    expect(fallback.calls).toEqual(['collect', 'disburse']);
    expect(events[0]).toEqual({ type: 'failover', operator: 'MTN', from: 'campay', code: 'CONNECT_FAILED' });
  });

  it('fails over when CamPay gives no token: the collect never left', async () => {
    // CamPay's token endpoint answers 500; the money call is never sent.
    const answering = await startAnswering(500);
    try {
      const fallback = recording(mtn);
      const withCredentials = createCampayProvider({
        baseUrl: answering.url,
        ...SIMULATOR_CREDENTIALS.campay,
        timeoutMs: 3_000,
      });
      const router = makeRouter([], 100, () => withCredentials, fallback.provider);
      expect(await router.collect(moneyRequest(MTN.succeed))).toMatchObject({
        provider: 'mtn_momo',
        attempts: [{ provider: 'campay', outcome: 'not_processed' }],
      });
      expect(answering.paths.every((path) => path === '/api/token/')).toBe(true);
      expect(fallback.calls).toEqual(['collect']);
    } finally {
      await answering.close();
    }
  });

  it('does NOT fail over when CamPay times out: the stand-in fallback receives nothing, the error names CamPay', async () => {
    const events: RouterEvent[] = [];
    const fallback = recording(mtn);
    const router = makeRouter(events, 100, () => impatientCampay, fallback.provider);
    for (const move of ['collect', 'disburse'] as const) {
      const error = await router[move](moneyRequest(MTN.primaryTimeout)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error).toMatchObject({ provider: 'campay', code: 'TIMEOUT', mayHaveReached: ['campay'] });
      expect(problemOf(providerErrorToDomainError(error as ProviderUnavailable))).toMatchObject({
        status: 503,
        headers: { 'retry-after': '30' },
      });
    }
    expect(fallback.calls).toEqual([]);
    expect(events).toEqual([
      { type: 'failover_withheld', operator: 'MTN', provider: 'campay', code: 'TIMEOUT' },
      { type: 'failover_withheld', operator: 'MTN', provider: 'campay', code: 'TIMEOUT' },
    ]);
  });

  it('does NOT fail over a collect or a payout on a 500 (CamPay may have acted)', async () => {
    const answering = await startAnswering(500);
    try {
      const fallback = recording(mtn);
      const router = makeRouter([], 100, () => campayAt(answering.url), fallback.provider);
      for (const move of ['collect', 'disburse'] as const) {
        await expect(router[move](moneyRequest(MTN.succeed))).rejects.toMatchObject({
          provider: 'campay',
          code: 'HTTP_500',
          mayHaveReached: ['campay'],
        });
      }
      expect(fallback.calls).toEqual([]);
    } finally {
      await answering.close();
    }
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

  it('a refusal by the fallback after a failover names no one as holding the collection (the primary did not act)', async () => {
    const refusing: PaymentProvider = {
      ...mtn,
      collect: async () => {
        throw new ProviderRejected('mtn_momo', 'PAYER_NOT_FOUND', 'unknown payer', 400);
      },
    };
    const router = makeRouter([], 100, () => campay, refusing);
    const error = await router
      .collect(moneyRequest(MTN.primaryServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).mayHaveReached).toEqual([]);
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

  it('a 500 from CamPay (…0007) stays with CamPay: ProviderUnavailable naming it, MTN never asked', async () => {
    const mtnRequests = simulators.mtn.state.counters.apiRequests;
    const error = await makeRouter()
      .collect(moneyRequest(MTN.everywhereServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).toMatchObject({ provider: 'campay', code: 'HTTP_500', mayHaveReached: ['campay'] });
    expect(simulators.mtn.state.counters.apiRequests).toBe(mtnRequests);
  });

  it('when every provider is known not to have acted, the caller gets ProviderUnavailable from the router', async () => {
    const router = createPaymentRouter({
      providers: { campay: campayAt(closedPortUrl), mtn_momo: mtnAt(closedPortUrl) },
      routes: { MTN: { primary: 'campay', fallback: 'mtn_momo' }, ORANGE: { primary: 'campay' } },
      breaker: { failureThreshold: 100, coolDownMs: COOL_DOWN_MS, now: () => clockMs },
    });
    const error = await router.collect(moneyRequest(MTN.succeed)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).toMatchObject({ provider: 'router', code: 'CONNECT_FAILED', mayHaveReached: [] });
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
    // A 500 may have been processed: no failover, but the failures open the circuit.
    await expect(router.collect(moneyRequest(MTN.succeed))).rejects.toMatchObject({ code: 'HTTP_500' });
    await expect(router.collect(moneyRequest(MTN.succeed))).rejects.toMatchObject({ code: 'HTTP_500' });
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
    await expect(router.collect(moneyRequest(MTN.succeed))).rejects.toMatchObject({ code: 'HTTP_500' });
    // Open: never sent to CamPay, so MTN MoMo may take it.
    expect(await router.collect(moneyRequest(MTN.succeed))).toMatchObject({
      provider: 'mtn_momo',
      attempts: [{ outcome: 'circuit_open' }],
    });
    clockMs += COOL_DOWN_MS;
    // The half-open trial is sent and fails with a 500: not failed over, the circuit re-opens.
    await expect(router.collect(moneyRequest(MTN.succeed))).rejects.toMatchObject({
      provider: 'campay',
      code: 'HTTP_500',
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
    expect(router.routeFor(ORANGE.succeed)).toEqual({
      operator: 'ORANGE',
      primary: 'campay',
      fallback: 'orange_money',
    });
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
    expect(warnings).toEqual([
      expect.stringContaining('PAYMENT_FALLBACK_MTN=mtn_momo'),
      expect.stringContaining('PAYMENT_FALLBACK_ORANGE=orange_money'),
    ]);
    expect(router.routeFor(MTN.succeed)).toEqual({ operator: 'MTN', primary: 'campay' });
    expect(router.routeFor(ORANGE.succeed)).toEqual({ operator: 'ORANGE', primary: 'campay' });
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
