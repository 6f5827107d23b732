import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCampayProvider,
  createOrangeMoneyProvider,
  createPaymentRouter,
  orangeCallbackToken,
  ProviderRejected,
  ProviderUnavailable,
  type PaymentProvider,
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
const SECRET = 'orange-test-callback-secret-0123';

function moneyRequest(phoneE164: string, amountMinor = 1_000n) {
  return { amountMinor, currency: 'XAF', phoneE164, description: 'Order', externalReference: randomUUID() };
}

let sink: Awaited<ReturnType<typeof startWebhookSink>>;
let simulators: RunningSimulators;
let orange: PaymentProvider;
let campay: PaymentProvider;
let impatientCampay: PaymentProvider;

beforeAll(async () => {
  sink = await startWebhookSink();
  simulators = await startSimulators({
    webhookBaseUrl: sink.webhookBaseUrl,
    delayMs: 50,
    timeoutHoldMs: 3_000,
  });
  orange = createOrangeMoneyProvider({
    baseUrl: simulators.orangeUrl,
    ...SIMULATOR_CREDENTIALS.orange,
    callbackUrl: `${sink.webhookBaseUrl}/orange_money`,
    callbackSecret: SECRET,
    timeoutMs: 3_000,
  });
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
});

afterAll(async () => {
  await simulators.close();
  await sink.close();
});

describe('Orange Money Cameroon adapter against its simulator', () => {
  it('collects from an Orange number: init, pay, a signed notification URL, then SUCCESSFUL with our orderId', async () => {
    const request = moneyRequest(ORANGE.succeed, 2_500n);
    const taken = await orange.collect(request);
    expect(taken).toMatchObject({ provider: 'orange_money', status: 'PENDING', operator: 'ORANGE' });
    const settled = await waitForStatus(orange, taken.providerReference, 'SUCCESSFUL');
    expect(settled).toMatchObject({
      amountMinor: 2_500n,
      currency: 'XAF',
      externalReference: request.externalReference,
    });
    expect(settled.operatorReference).toMatch(/^MP/);
    await simulators.drainWebhooks();
    const [notification] = sink.about(taken.providerReference);
    expect(notification?.provider).toBe('orange_money');
    expect(await orange.verifyWebhook(notification!.request)).toEqual({
      accepted: true,
      providerReference: taken.providerReference,
      externalReference: request.externalReference,
      kind: 'collection',
      hintedStatus: 'SUCCESSFUL',
    });
    // Found by our reference (this process remembers the pay token Orange gave it).
    expect(
      await orange.findByExternalReference({
        externalReference: request.externalReference,
        kind: 'collection',
        since: new Date(),
      }),
    ).toMatchObject({ verdict: 'found', transactions: [{ providerReference: taken.providerReference }] });
    expect(
      await orange.findByExternalReference({
        externalReference: randomUUID(),
        kind: 'collection',
        since: new Date(),
      }),
    ).toMatchObject({ verdict: 'unknown' });
  });

  it('refuses forged, re-addressed and GET notifications', async () => {
    const request = moneyRequest(ORANGE.succeed);
    const taken = await orange.collect(request);
    const other = await orange.collect(moneyRequest(ORANGE.succeed));
    const order = request.externalReference;
    const token = orangeCallbackToken(SECRET, 'collection', taken.providerReference, order);
    const base = { headers: {}, body: { status: 'SUCCESSFULL', payToken: taken.providerReference } };
    const verdict = (method: string, query: Record<string, unknown>) =>
      orange.verifyWebhook({ method, query, ...base });
    expect(
      await verdict('POST', { ref: taken.providerReference, kind: 'collection', order, token }),
    ).toMatchObject({
      accepted: true,
    });
    expect(
      await verdict('POST', { ref: taken.providerReference, kind: 'collection', order: randomUUID(), token }),
    ).toMatchObject({ accepted: false });
    expect(
      await verdict('POST', { ref: other.providerReference, kind: 'collection', order, token }),
    ).toMatchObject({
      accepted: false,
    });
    expect(
      await verdict('POST', { ref: taken.providerReference, kind: 'disbursement', token }),
    ).toMatchObject({
      accepted: false,
    });
    expect(
      await verdict('POST', {
        ref: taken.providerReference,
        kind: 'collection',
        token: 'x' + token.slice(1),
      }),
    ).toMatchObject({ accepted: false });
    expect(await verdict('POST', { ref: taken.providerReference, kind: 'collection' })).toMatchObject({
      accepted: false,
    });
    expect(await verdict('GET', { ref: taken.providerReference, kind: 'collection', token })).toMatchObject({
      accepted: false,
    });
  });

  it('a payer who fails is FAILED with the reason; an MTN number, zero or a non-XAF amount is refused before any call', async () => {
    const failed = await orange.collect(moneyRequest(ORANGE.fail));
    expect(await waitForStatus(orange, failed.providerReference, 'FAILED')).toMatchObject({
      reason: 'FAILED',
    });
    const requests = simulators.orange.state.counters.apiRequests;
    for (const bad of [
      moneyRequest(MTN.succeed),
      moneyRequest(ORANGE.succeed, 0n),
      { ...moneyRequest(ORANGE.succeed), currency: 'USD' },
    ]) {
      await expect(orange.collect(bad)).rejects.toBeInstanceOf(ProviderRejected);
    }
    expect(simulators.orange.state.counters.apiRequests).toBe(requests);
  });

  it('a status read of an unknown pay token is NOT_FOUND; a 500 on pay is ProviderUnavailable that may have acted', async () => {
    await expect(orange.status('MPUNKNOWN000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const error = await orange
      .collect(moneyRequest(ORANGE.everywhereServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).toMatchObject({ code: 'HTTP_500', unprocessed: false });
  });

  it('pays out to an Orange number through cash-in, which reads back SUCCESSFUL', async () => {
    const paid = await orange.disburse(moneyRequest(ORANGE.succeed, 700n));
    expect(await waitForStatus(orange, paid.providerReference, 'SUCCESSFUL', 'disbursement')).toMatchObject({
      kind: 'disbursement',
      amountMinor: 700n,
    });
    await expect(orange.status(paid.providerReference, 'collection')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('a garbage gateway is BAD_RESPONSE before anything payable exists (init), so unprocessed', async () => {
    await postJson(`${simulators.orangeControlUrl}/outage`, { mode: 'garbage' });
    try {
      const error = await orange.collect(moneyRequest(ORANGE.succeed)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderUnavailable);
      expect(error).toMatchObject({ unprocessed: true });
    } finally {
      await postJson(`${simulators.orangeControlUrl}/outage`, { mode: 'none' });
    }
  });
});

describe('the router: Orange numbers fall back to Orange Money when CamPay cannot take them', () => {
  function router(events: RouterEvent[], primary = campay, clock = { ms: 0 }) {
    return createPaymentRouter({
      providers: { campay: primary, orange_money: orange },
      routes: { MTN: { primary: 'campay' }, ORANGE: { primary: 'campay', fallback: 'orange_money' } },
      breaker: { failureThreshold: 2, coolDownMs: 1_000, now: () => clock.ms },
      onEvent: (event) => events.push(event),
    });
  }

  it('CamPay answering 503 (…0005: nothing created) → Orange Money takes it, the attempt names CamPay as not processed', async () => {
    const events: RouterEvent[] = [];
    const taken = await router(events).collect(moneyRequest(ORANGE.primaryServerError));
    expect(taken).toMatchObject({
      provider: 'orange_money',
      attempts: [{ provider: 'campay', outcome: 'not_processed', code: 'HTTP_503' }],
    });
    expect(events).toContainEqual({ type: 'failover', operator: 'ORANGE', from: 'campay', code: 'HTTP_503' });
    await waitForStatus(orange, taken.providerReference, 'SUCCESSFUL');
  });

  it('CamPay timing out (…0006) is NOT failed over: Orange Money is never asked (one payment, one provider)', async () => {
    const events: RouterEvent[] = [];
    const requests = simulators.orange.state.counters.apiRequests;
    const error = await router(events, impatientCampay)
      .collect(moneyRequest(ORANGE.primaryTimeout))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).toMatchObject({ code: 'TIMEOUT', mayHaveReached: ['campay'] });
    expect(simulators.orange.state.counters.apiRequests).toBe(requests);
    expect(events).toContainEqual(expect.objectContaining({ type: 'failover_withheld', provider: 'campay' }));
  });

  it('a CamPay outage opens its Orange circuit: later Orange payments go straight to Orange Money, MTN untouched', async () => {
    const events: RouterEvent[] = [];
    const clock = { ms: 0 };
    const routed = router(events, campay, clock);
    await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'error' });
    try {
      for (let index = 0; index < 2; index += 1)
        await routed.collect(moneyRequest(ORANGE.succeed)).catch(() => undefined);
      expect(events).toContainEqual({ type: 'circuit_opened', operator: 'ORANGE', provider: 'campay' });
      const campayRequests = simulators.campay.state.counters.apiRequests;
      const taken = await routed.collect(moneyRequest(ORANGE.succeed));
      expect(taken).toMatchObject({
        provider: 'orange_money',
        attempts: [{ provider: 'campay', outcome: 'circuit_open' }],
      });
      expect(simulators.campay.state.counters.apiRequests).toBe(campayRequests);
    } finally {
      await postJson(`${simulators.campayControlUrl}/outage`, { mode: 'none' });
    }
  });

  it('refuses to route Orange to a provider that cannot serve it, and MTN to Orange Money', () => {
    expect(() =>
      createPaymentRouter({
        providers: { campay, orange_money: orange },
        routes: { MTN: { primary: 'campay', fallback: 'orange_money' }, ORANGE: { primary: 'campay' } },
        breaker: { failureThreshold: 2, coolDownMs: 1_000 },
      }),
    ).toThrow(/orange_money cannot serve MTN/);
  });
});
