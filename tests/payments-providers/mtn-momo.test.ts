import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMtnMomoProvider,
  ProviderRejected,
  ProviderUnavailable,
  type MtnMomoOptions,
  type PaymentProvider,
} from '../../src/modules/payments/providers/index.js';
import {
  MAGIC_NUMBERS,
  SIMULATOR_CREDENTIALS,
  startSimulators,
  type RunningSimulators,
} from '../../src/modules/payments/simulators/index.js';
import { getJson, postJson, startWebhookSink, waitForStatus } from './helpers.js';

const DELAY_MS = 50;
const CALLBACK_SECRET = 'mtn-callback-secret-for-tests-0123456789';
const { MTN, ORANGE } = MAGIC_NUMBERS;

function moneyRequest(phoneE164: string, amountMinor = 1_000n, externalReference: string = randomUUID()) {
  return { amountMinor, currency: 'XAF', phoneE164, description: 'Order', externalReference };
}

let sink: Awaited<ReturnType<typeof startWebhookSink>>;
let simulators: RunningSimulators;
let mtn: PaymentProvider;
let options: MtnMomoOptions;

beforeAll(async () => {
  sink = await startWebhookSink();
  simulators = await startSimulators({ webhookBaseUrl: sink.webhookBaseUrl, delayMs: DELAY_MS });
  options = {
    baseUrl: simulators.mtnUrl,
    ...SIMULATOR_CREDENTIALS.mtn,
    callbackUrl: `${sink.webhookBaseUrl}/mtn_momo`,
    callbackSecret: CALLBACK_SECRET,
    timeoutMs: 3_000,
  };
  mtn = createMtnMomoProvider(options);
});

afterAll(async () => {
  await simulators.close();
  await sink.close();
});

describe('MTN MoMo adapter against the simulator: magic numbers', () => {
  it('an ordinary number: 202 PENDING, SUCCESSFUL with a financialTransactionId, one callback naming it in its URL', async () => {
    const request = moneyRequest(MTN.succeed, 3_000n);
    const collected = await mtn.collect(request);
    expect(collected).toEqual({
      provider: 'mtn_momo',
      providerReference: request.externalReference,
      status: 'PENDING',
      operator: 'MTN',
    });
    const settled = await waitForStatus(mtn, collected.providerReference, 'SUCCESSFUL');
    expect(settled).toMatchObject({
      amountMinor: 3_000n,
      currency: 'XAF',
      operator: 'MTN',
      externalReference: request.externalReference,
    });
    expect(settled.operatorReference).toMatch(/^\d{10}$/);
    await simulators.drainWebhooks();
    const callbacks = sink.about(collected.providerReference);
    expect(callbacks).toHaveLength(1);
    expect((callbacks[0]!.request.body as Record<string, unknown>).referenceId).toBeUndefined(); // MTN's body never names it
    expect(await mtn.verifyWebhook(callbacks[0]!.request)).toEqual({
      accepted: true,
      providerReference: collected.providerReference,
      kind: 'collection',
      hintedStatus: 'SUCCESSFUL',
    });
  });

  it('…0001 FAILS with NOT_ENOUGH_FUNDS', async () => {
    const collected = await mtn.collect(moneyRequest(MTN.fail));
    expect((await waitForStatus(mtn, collected.providerReference, 'FAILED')).reason).toBe('NOT_ENOUGH_FUNDS');
  });

  it('…0002 stays PENDING with no callback until the control API fails it', async () => {
    const collected = await mtn.collect(moneyRequest(MTN.pendingForever));
    await sleep(DELAY_MS * 4);
    expect((await mtn.status(collected.providerReference)).status).toBe('PENDING');
    expect(sink.about(collected.providerReference)).toHaveLength(0);
    const failed = await postJson(
      `${simulators.mtnControlUrl}/transactions/${collected.providerReference}/fail`,
      {
        reason: 'APPROVAL_REJECTED',
      },
    );
    expect(failed.status).toBe(200);
    expect((await mtn.status(collected.providerReference)).reason).toBe('APPROVAL_REJECTED');
    await simulators.drainWebhooks();
    expect(sink.about(collected.providerReference)).toHaveLength(1);
  });

  it('…0003 calls back twice', async () => {
    const collected = await mtn.collect(moneyRequest(MTN.webhookTwice));
    await waitForStatus(mtn, collected.providerReference, 'SUCCESSFUL');
    await simulators.drainWebhooks();
    const callbacks = sink.about(collected.providerReference);
    expect(callbacks).toHaveLength(2);
    for (const callback of callbacks)
      expect(await mtn.verifyWebhook(callback.request)).toMatchObject({ accepted: true });
  });

  it('…0004 never calls back: only polling finds the success', async () => {
    const collected = await mtn.collect(moneyRequest(MTN.noWebhook));
    await waitForStatus(mtn, collected.providerReference, 'SUCCESSFUL');
    await simulators.drainWebhooks();
    expect(sink.about(collected.providerReference)).toHaveLength(0);
  });

  it('…0005 and …0006 break only the primary: MTN serves them normally', async () => {
    for (const phone of [MTN.primaryServerError, MTN.primaryTimeout]) {
      const collected = await mtn.collect(moneyRequest(phone));
      await waitForStatus(mtn, collected.providerReference, 'SUCCESSFUL');
    }
  });

  it('…0007 answers 500 INTERNAL_PROCESSING_ERROR: ProviderUnavailable after bounded retries', async () => {
    const before = simulators.mtn.state.counters.apiRequests;
    const error = await mtn
      .collect(moneyRequest(MTN.everywhereServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).code).toBe('HTTP_500');
    // The reference id makes request-to-pay idempotent, so it may retry: 1 call + 2 retries.
    expect(simulators.mtn.state.counters.apiRequests - before).toBe(3);
  });
});

describe('MTN MoMo adapter: the rest of the API', () => {
  it('reads a transaction by our external reference (its X-Reference-Id), or proves there is none', async () => {
    const externalReference = randomUUID();
    const query = { externalReference, kind: 'collection' as const, since: new Date() };
    expect(await mtn.findByExternalReference(query)).toEqual({ verdict: 'absent' });
    await mtn.collect({
      amountMinor: 900n,
      currency: 'XAF',
      phoneE164: MTN.succeed,
      description: 'x',
      externalReference,
    });
    expect(await mtn.findByExternalReference(query)).toMatchObject({
      verdict: 'found',
      transactions: [{ providerReference: externalReference, amountMinor: 900n }],
    });
    expect(await mtn.findByExternalReference({ ...query, externalReference: 'not-a-uuid' })).toMatchObject({
      verdict: 'unknown',
    });
  });

  it('a repeated X-Reference-Id meets 409 RESOURCE_ALREADY_EXIST and stands for the earlier request', async () => {
    const request = moneyRequest(MTN.succeed);
    const first = await mtn.collect(request);
    const second = await mtn.collect(request);
    expect(second.providerReference).toBe(first.providerReference);
    expect(
      simulators.mtn.engine.list().filter((transaction) => transaction.reference === first.providerReference),
    ).toHaveLength(1);
  });

  it('makes up a UUID reference id when the external reference is not one', async () => {
    const collected = await mtn.collect(moneyRequest(MTN.succeed, 500n, 'order-42-attempt-1'));
    expect(collected.providerReference).toMatch(/^[0-9a-f-]{36}$/);
    expect((await waitForStatus(mtn, collected.providerReference, 'SUCCESSFUL')).externalReference).toBe(
      'order-42-attempt-1',
    );
  });

  it('refuses Orange numbers before calling MTN', async () => {
    const error = await mtn.collect(moneyRequest(ORANGE.succeed)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('UNSUPPORTED_OPERATOR');
  });

  it('the simulator, like MTN, accepts a non-MTN payer and then FAILS it with PAYER_NOT_FOUND', async () => {
    const tokenAnswer = await fetch(`${simulators.mtnUrl}/collection/token/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SIMULATOR_CREDENTIALS.mtn.collection.apiUser}:${SIMULATOR_CREDENTIALS.mtn.collection.apiKey}`).toString('base64')}`,
        'ocp-apim-subscription-key': SIMULATOR_CREDENTIALS.mtn.collection.subscriptionKey,
      },
    });
    const { access_token: token } = (await tokenAnswer.json()) as { access_token: string };
    const referenceId = randomUUID();
    const created = await fetch(`${simulators.mtnUrl}/collection/v1_0/requesttopay`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-reference-id': referenceId,
        'x-target-environment': 'sandbox',
        'ocp-apim-subscription-key': SIMULATOR_CREDENTIALS.mtn.collection.subscriptionKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        amount: '100',
        currency: 'XAF',
        externalId: 'x',
        payer: { partyIdType: 'MSISDN', partyId: '237690001234' },
        payerMessage: 'x',
        payeeNote: 'x',
      }),
    });
    expect(created.status).toBe(202);
    expect(await created.text()).toBe('');
    expect((await waitForStatus(mtn, referenceId, 'FAILED')).reason).toBe('PAYER_NOT_FOUND');
  });

  it('pays out with a transfer, read back as a disbursement (and unknown as a collection)', async () => {
    const paid = await mtn.disburse(moneyRequest(MTN.succeed, 8_000n));
    expect(paid).toMatchObject({ provider: 'mtn_momo', status: 'PENDING', operator: 'MTN' });
    const settled = await waitForStatus(mtn, paid.providerReference, 'SUCCESSFUL', 'disbursement');
    expect(settled).toMatchObject({ kind: 'disbursement', amountMinor: 8_000n });
    await expect(mtn.status(paid.providerReference, 'collection')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await simulators.drainWebhooks();
    expect(await mtn.verifyWebhook(sink.about(paid.providerReference)[0]!.request)).toMatchObject({
      accepted: true,
      kind: 'disbursement',
    });
  });

  it('a transfer above the float FAILS with NOT_ENOUGH_FUNDS', async () => {
    const paid = await mtn.disburse(moneyRequest(MTN.succeed, 10_000_000_000n));
    expect((await waitForStatus(mtn, paid.providerReference, 'FAILED', 'disbursement')).reason).toBe(
      'NOT_ENOUGH_FUNDS',
    );
  });

  it('reads the account balance', async () => {
    const balance = await mtn.balance();
    expect(balance).toMatchObject({ provider: 'mtn_momo', currency: 'XAF' });
    expect(balance.byOperator.MTN).toBe(balance.totalMinor);
    expect(balance.totalMinor > 0n).toBe(true);
  });

  it('has no history API (MTN offers none): reconciliation re-reads each transaction', () => {
    expect(mtn.history).toBeUndefined();
  });

  it('caches one token per product', async () => {
    const fresh = createMtnMomoProvider(options);
    const before = simulators.mtn.state.counters.tokensIssued;
    const collected = await fresh.collect(moneyRequest(MTN.succeed));
    await fresh.status(collected.providerReference);
    await fresh.balance();
    const paid = await fresh.disburse(moneyRequest(MTN.succeed));
    await fresh.status(paid.providerReference, 'disbursement');
    expect(simulators.mtn.state.counters.tokensIssued - before).toBe(2);
  });

  it('a wrong subscription key is AUTH_FAILED', async () => {
    const wrong = createMtnMomoProvider({
      ...options,
      collection: { ...options.collection, subscriptionKey: 'wrong' },
    });
    await expect(wrong.balance()).rejects.toMatchObject({ name: 'ProviderUnavailable', code: 'AUTH_FAILED' });
  });

  it('lists its transactions on the control API', async () => {
    const listed = await getJson<{ transactions: { kind: string }[] }>(
      `${simulators.mtnControlUrl}/transactions`,
    );
    expect(listed.body.transactions.some((transaction) => transaction.kind === 'disbursement')).toBe(true);
  });
});

describe('MTN MoMo callback authentication (a per-transaction token in the callback URL)', () => {
  async function realCallback() {
    const collected = await mtn.collect(moneyRequest(MTN.succeed));
    await waitForStatus(mtn, collected.providerReference, 'SUCCESSFUL');
    await simulators.drainWebhooks();
    return sink.about(collected.providerReference)[0]!.request;
  }

  it('refuses a forged, missing or misplaced token', async () => {
    const request = await realCallback();
    const forged = { ...request.query, token: 'A'.repeat(43) };
    expect(await mtn.verifyWebhook({ ...request, query: forged })).toEqual({
      accepted: false,
      reason: 'bad token',
    });
    const { token: _dropped, ...tokenless } = request.query;
    expect(await mtn.verifyWebhook({ ...request, query: tokenless })).toMatchObject({ accepted: false });
    // The token of one transaction does not open another one.
    expect(
      await mtn.verifyWebhook({ ...request, query: { ...request.query, ref: randomUUID() } }),
    ).toMatchObject({ accepted: false });
    // Nor does a collection's token vouch for a disbursement with the same id.
    expect(
      await mtn.verifyWebhook({ ...request, query: { ...request.query, kind: 'disbursement' } }),
    ).toMatchObject({
      accepted: false,
    });
  });

  it('refuses a token made with another secret and a GET', async () => {
    const request = await realCallback();
    const other = createMtnMomoProvider({ ...options, callbackSecret: 'another-secret-of-enough-length' });
    expect(await other.verifyWebhook(request)).toMatchObject({ accepted: false });
    expect(await mtn.verifyWebhook({ ...request, method: 'GET' })).toMatchObject({ accepted: false });
  });

  it('accepts PUT, which the sandbox has been seen to use', async () => {
    const request = await realCallback();
    expect(await mtn.verifyWebhook({ ...request, method: 'PUT' })).toMatchObject({ accepted: true });
  });

  it('a tampered amount or status in the body is only a hint: the status re-read has the real one', async () => {
    const request = await realCallback();
    const body = { ...(request.body as Record<string, unknown>), amount: '1', status: 'FAILED' };
    const verdict = await mtn.verifyWebhook({ ...request, body });
    expect(verdict).toMatchObject({ accepted: true, hintedStatus: 'FAILED' });
    const truth = await mtn.status(String(request.query.ref));
    expect(truth).toMatchObject({ status: 'SUCCESSFUL', amountMinor: 1_000n });
  });

  it('refuses a callback secret shorter than 16 characters', () => {
    expect(() => createMtnMomoProvider({ ...options, callbackSecret: 'short' })).toThrow(RangeError);
  });
});
