import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCampayProvider,
  ProviderRejected,
  ProviderUnavailable,
  type PaymentProvider,
} from '../../src/modules/payments/providers/index.js';
import {
  MAGIC_NUMBERS,
  SIMULATOR_CREDENTIALS,
  startSimulators,
  type RunningSimulators,
} from '../../src/modules/payments/simulators/index.js';
import { getJson, postJson, startWebhookSink, waitForStatus, waitUntil } from './helpers.js';

const DELAY_MS = 50;
const { MTN, ORANGE } = MAGIC_NUMBERS;

function collectRequest(phoneE164: string, amountMinor = 1_000n) {
  return { amountMinor, currency: 'XAF', phoneE164, description: 'Order', externalReference: randomUUID() };
}

let sink: Awaited<ReturnType<typeof startWebhookSink>>;
let simulators: RunningSimulators;
let campay: PaymentProvider;

beforeAll(async () => {
  sink = await startWebhookSink();
  simulators = await startSimulators({
    webhookBaseUrl: sink.webhookBaseUrl,
    delayMs: DELAY_MS,
    timeoutHoldMs: 5_000,
  });
  // Generous: the machine may be busy with other suites. Only the timeout test uses a short one.
  campay = createCampayProvider({
    baseUrl: simulators.campayUrl,
    ...SIMULATOR_CREDENTIALS.campay,
    timeoutMs: 3_000,
  });
});

afterAll(async () => {
  await simulators.close();
  await sink.close();
});

describe('CamPay adapter against the simulator: magic numbers', () => {
  it('an ordinary MTN number: PENDING with a USSD code, SUCCESSFUL after the delay, one signed webhook', async () => {
    const request = collectRequest(MTN.succeed, 2_500n);
    const collected = await campay.collect(request);
    expect(collected).toMatchObject({
      provider: 'campay',
      status: 'PENDING',
      operator: 'MTN',
      ussdCode: '*126#',
    });
    const settled = await waitForStatus(campay, collected.providerReference, 'SUCCESSFUL');
    expect(settled).toMatchObject({
      amountMinor: 2_500n,
      currency: 'XAF',
      operator: 'MTN',
      externalReference: request.externalReference,
    });
    expect(settled.operatorReference).toMatch(/^\d{10}$/);
    await simulators.drainWebhooks();
    const webhooks = sink.about(collected.providerReference);
    expect(webhooks).toHaveLength(1);
    const verdict = await campay.verifyWebhook(webhooks[0]!.request);
    expect(verdict).toEqual({
      accepted: true,
      providerReference: collected.providerReference,
      externalReference: request.externalReference,
      hintedStatus: 'SUCCESSFUL',
    });
  });

  it('an ordinary Orange number goes through with the Orange USSD code', async () => {
    const collected = await campay.collect(collectRequest(ORANGE.succeed));
    expect(collected).toMatchObject({ operator: 'ORANGE', ussdCode: '#150*50#' });
    const settled = await waitForStatus(campay, collected.providerReference, 'SUCCESSFUL');
    expect(settled.operator).toBe('ORANGE');
  });

  it('…0001 FAILS with NOT_ENOUGH_FUNDS and a webhook hinting FAILED', async () => {
    const collected = await campay.collect(collectRequest(MTN.fail));
    const settled = await waitForStatus(campay, collected.providerReference, 'FAILED');
    expect(settled.reason).toBe('NOT_ENOUGH_FUNDS');
    await simulators.drainWebhooks();
    const verdict = await campay.verifyWebhook(sink.about(collected.providerReference)[0]!.request);
    expect(verdict).toMatchObject({ accepted: true, hintedStatus: 'FAILED' });
  });

  it('…0002 stays PENDING with no webhook until the control API approves it', async () => {
    const collected = await campay.collect(collectRequest(ORANGE.pendingForever));
    await sleep(DELAY_MS * 4);
    expect((await campay.status(collected.providerReference)).status).toBe('PENDING');
    expect(sink.about(collected.providerReference)).toHaveLength(0);

    const approved = await postJson(
      `${simulators.campayControlUrl}/transactions/${collected.providerReference}/approve`,
    );
    expect(approved.status).toBe(200);
    expect((await campay.status(collected.providerReference)).status).toBe('SUCCESSFUL');
    await simulators.drainWebhooks();
    expect(sink.about(collected.providerReference)).toHaveLength(1);
    const again = await postJson(
      `${simulators.campayControlUrl}/transactions/${collected.providerReference}/fail`,
    );
    expect(again.status).toBe(409);
  });

  it('…0003 sends its webhook twice, both verifiable, both naming the same transaction', async () => {
    const collected = await campay.collect(collectRequest(MTN.webhookTwice));
    await waitForStatus(campay, collected.providerReference, 'SUCCESSFUL');
    await simulators.drainWebhooks();
    const webhooks = sink.about(collected.providerReference);
    expect(webhooks).toHaveLength(2);
    const verdicts = await Promise.all(webhooks.map((webhook) => campay.verifyWebhook(webhook.request)));
    expect(
      verdicts.every(
        (verdict) => verdict.accepted && verdict.providerReference === collected.providerReference,
      ),
    ).toBe(true);
  });

  it('…0004 succeeds without ever sending a webhook: only polling finds it', async () => {
    const collected = await campay.collect(collectRequest(ORANGE.noWebhook));
    await waitForStatus(campay, collected.providerReference, 'SUCCESSFUL');
    await simulators.drainWebhooks();
    expect(sink.about(collected.providerReference)).toHaveLength(0);
  });

  it('…0005 gets a 503: ProviderUnavailable known unprocessed, and nothing was created', async () => {
    const before = simulators.campay.engine.list().length;
    const error = await campay
      .collect(collectRequest(MTN.primaryServerError))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).code).toBe('HTTP_503');
    expect((error as ProviderUnavailable).unprocessed).toBe(true);
    expect(simulators.campay.engine.list()).toHaveLength(before);
  });

  it('…0006 hangs: ProviderUnavailable TIMEOUT after the adapter timeout', async () => {
    const impatient = createCampayProvider({
      baseUrl: simulators.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      timeoutMs: 300,
    });
    const error = await impatient
      .collect(collectRequest(ORANGE.primaryTimeout))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as ProviderUnavailable).code).toBe('TIMEOUT');
    expect((error as ProviderUnavailable).unprocessed).toBe(false);
  });

  it('…0007 gets a 500: ProviderUnavailable that may have been processed', async () => {
    await expect(campay.collect(collectRequest(MTN.everywhereServerError))).rejects.toMatchObject({
      code: 'HTTP_500',
      unprocessed: false,
    });
  });
});

/** Balances move when earlier transactions settle: wait for every one that will settle to do so. */
async function quiet(): Promise<void> {
  await waitUntil(() =>
    simulators.campay.engine
      .list()
      .every(
        (transaction) => transaction.status !== 'PENDING' || transaction.behaviour === 'pending_forever',
      ),
  );
}

describe('CamPay adapter: the rest of the API', () => {
  it('a reused external_reference answers with the earlier transaction', async () => {
    const request = collectRequest(MTN.succeed);
    const first = await campay.collect(request);
    const second = await campay.collect(request);
    expect(second.providerReference).toBe(first.providerReference);
  });

  it('finds the transactions made under our external reference in the statement, or proves there are none', async () => {
    const request = collectRequest(MTN.succeed, 1_300n);
    const since = new Date();
    expect(
      await campay.findByExternalReference({
        externalReference: request.externalReference,
        kind: 'collection',
        since,
      }),
    ).toEqual({ verdict: 'absent' });
    const collected = await campay.collect(request);
    const found = await campay.findByExternalReference({
      externalReference: request.externalReference,
      kind: 'collection',
      since,
    });
    expect(found).toMatchObject({
      verdict: 'found',
      transactions: [{ providerReference: collected.providerReference, amountMinor: 1_300n }],
    });
    // A disbursement is another kind: not this collection.
    expect(
      await campay.findByExternalReference({
        externalReference: request.externalReference,
        kind: 'disbursement',
        since,
      }),
    ).toEqual({ verdict: 'absent' });
  });

  it('with deduplication off (a provider that does not promise it), a reused reference makes a second transaction, and the search shows both', async () => {
    await fetch(`${simulators.campayControlUrl}/deduplication`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    try {
      const request = collectRequest(MTN.succeed);
      const since = new Date();
      const first = await campay.collect(request);
      const second = await campay.collect(request);
      expect(second.providerReference).not.toBe(first.providerReference);
      const found = await campay.findByExternalReference({
        externalReference: request.externalReference,
        kind: 'collection',
        since,
      });
      expect(found.verdict === 'found' && found.transactions.length).toBe(2);
    } finally {
      await fetch(`${simulators.campayControlUrl}/deduplication`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: true }),
      });
    }
  });

  it('refuses numbers it cannot charge before calling CamPay', async () => {
    await expect(campay.collect(collectRequest('+237660000000'))).rejects.toMatchObject({
      code: 'UNSUPPORTED_OPERATOR',
    });
    await expect(campay.collect(collectRequest('677000000'))).rejects.toMatchObject({
      code: 'INVALID_PHONE',
    });
    await expect(campay.collect({ ...collectRequest(MTN.succeed), currency: 'USD' })).rejects.toMatchObject({
      code: 'UNSUPPORTED_CURRENCY',
    });
  });

  it('an unknown reference is a NOT_FOUND rejection', async () => {
    const error = await campay.status(randomUUID()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('NOT_FOUND');
  });

  it('pays out with /withdraw/, taking amount and fee from the float', async () => {
    await quiet();
    const before = await campay.balance();
    const paid = await campay.disburse(collectRequest(MTN.succeed, 10_000n));
    expect(paid).toMatchObject({ provider: 'campay', status: 'PENDING', operator: 'MTN' });
    await waitForStatus(campay, paid.providerReference, 'SUCCESSFUL', 'disbursement');
    const after = await campay.balance();
    expect(after.byOperator.MTN).toBe(before.byOperator.MTN! - 10_000n - 250n);
    expect(after.byOperator.ORANGE).toBe(before.byOperator.ORANGE);
    expect(after.totalMinor).toBe(after.byOperator.MTN! + after.byOperator.ORANGE!);
  });

  it('a payout to …0001 FAILS and gives the float back', async () => {
    await quiet();
    const before = await campay.balance();
    const paid = await campay.disburse(collectRequest(ORANGE.fail, 5_000n));
    await waitForStatus(campay, paid.providerReference, 'FAILED', 'disbursement');
    expect((await campay.balance()).byOperator.ORANGE).toBe(before.byOperator.ORANGE);
  });

  it('a payout above the float is rejected with ER301', async () => {
    const error = await campay
      .disburse(collectRequest(MTN.succeed, 10_000_000_000n))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRejected);
    expect((error as ProviderRejected).code).toBe('ER301');
  });

  it('a successful collection credits the float with the amount less the 2.5 % MTN fee', async () => {
    await quiet();
    const before = await campay.balance();
    const collected = await campay.collect(collectRequest(MTN.succeed, 4_000n));
    await waitForStatus(campay, collected.providerReference, 'SUCCESSFUL');
    expect((await campay.balance()).byOperator.MTN).toBe(before.byOperator.MTN! + 4_000n - 100n);
  });

  it('history gives reconciliation rows: reference, amount, fee, kind, status, operator, phone, operator reference', async () => {
    const from = new Date(Date.now() - 1_000);
    const mtn = await campay.collect(collectRequest(MTN.succeed, 1_000n));
    const orange = await campay.collect(collectRequest(ORANGE.fail, 3_000n));
    const payout = await campay.disburse(collectRequest(ORANGE.succeed, 2_000n));
    await waitForStatus(campay, mtn.providerReference, 'SUCCESSFUL');
    await waitForStatus(campay, orange.providerReference, 'FAILED');
    await waitForStatus(campay, payout.providerReference, 'SUCCESSFUL', 'disbursement');
    const rows = await campay.history!({ from, to: new Date(Date.now() + 1_000) });
    const byReference = new Map(rows.map((row) => [row.providerReference, row]));
    expect(byReference.get(mtn.providerReference)).toMatchObject({
      kind: 'collection',
      amountMinor: 1_000n,
      feeMinor: 25n,
      status: 'SUCCESSFUL',
      operator: 'MTN',
      phoneE164: MTN.succeed,
    });
    expect(byReference.get(mtn.providerReference)!.operatorReference).toMatch(/^\d{10}$/);
    expect(byReference.get(mtn.providerReference)!.code).toMatch(/^CP\d{6}T\d{5}$/);
    expect(byReference.get(orange.providerReference)).toMatchObject({
      kind: 'collection',
      feeMinor: 60n,
      status: 'FAILED',
    });
    expect(byReference.get(payout.providerReference)).toMatchObject({
      kind: 'disbursement',
      amountMinor: 2_000n,
      feeMinor: 40n,
    });

    const later = await campay.history!({
      from: new Date(Date.now() + 60_000),
      to: new Date(Date.now() + 120_000),
    });
    expect(later.some((row) => row.providerReference === mtn.providerReference)).toBe(false);
  });
});

describe('CamPay simulator speaks the documented wire format', () => {
  async function token(): Promise<string> {
    const answer = await postJson<{ token: string; expires_in: number }>(`${simulators.campayUrl}/token/`, {
      username: SIMULATOR_CREDENTIALS.campay.username,
      password: SIMULATOR_CREDENTIALS.campay.password,
    });
    expect(answer.body.expires_in).toBe(3_600);
    return answer.body.token;
  }

  async function collectRaw(body: Record<string, unknown>) {
    const response = await fetch(`${simulators.campayUrl}/collect/`, {
      method: 'POST',
      headers: { authorization: `Token ${await token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'XAF', description: 'x', external_reference: randomUUID(), ...body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it.each([
    [{ amount: '100', from: '677000000' }, 'ER101'],
    [{ amount: '100', from: '237660000000' }, 'ER102'],
    [{ amount: '100.50', from: '237670001234' }, 'ER201'],
  ])('%o → 400 %s', async (body, code) => {
    const answer = await collectRaw(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error_code: code });
    expect(typeof answer.body.message).toBe('string');
  });

  it('accepts an amount as a number or as "100.00"', async () => {
    expect((await collectRaw({ amount: 100, from: '237670001234' })).status).toBe(200);
    expect((await collectRaw({ amount: '100.00', from: '237670001234' })).status).toBe(200);
  });

  it('serves /transaction/{ref} with and without the trailing slash, and refuses a missing token', async () => {
    const created = await collectRaw({ amount: '100', from: '237670001234' });
    const reference = String(created.body.reference);
    const headers = { authorization: `Token ${await token()}` };
    for (const path of [`/transaction/${reference}/`, `/transaction/${reference}`]) {
      const response = await fetch(`${simulators.campayUrl}${path}`, { headers });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        reference,
        status: expect.stringMatching(/PENDING|SUCCESSFUL/),
      });
    }
    expect((await fetch(`${simulators.campayUrl}/transaction/${reference}/`)).status).toBe(401);
  });

  it('lists transactions and webhook deliveries on the control API', async () => {
    const listed = await getJson<{ transactions: { reference: string }[] }>(
      `${simulators.campayControlUrl}/transactions`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.transactions.length).toBeGreaterThan(0);
    const deliveries = await getJson<{ deliveries: { outcome: number }[] }>(
      `${simulators.campayControlUrl}/webhooks`,
    );
    expect(deliveries.body.deliveries.every((delivery) => delivery.outcome === 200)).toBe(true);
  });
});

describe('CamPay webhook verification', () => {
  async function realWebhook() {
    const collected = await campay.collect(collectRequest(MTN.succeed, 7_000n));
    await waitForStatus(campay, collected.providerReference, 'SUCCESSFUL');
    await simulators.drainWebhooks();
    return {
      reference: collected.providerReference,
      request: sink.about(collected.providerReference)[0]!.request,
    };
  }

  it('refuses a signature made with another key', async () => {
    const { request } = await realWebhook();
    const forged = await new SignJWT({ source: 'campay' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('not-the-webhook-key'));
    const body = { ...(request.body as Record<string, string>), signature: forged };
    expect(await campay.verifyWebhook({ ...request, body })).toEqual({
      accepted: false,
      reason: 'bad signature',
    });
  });

  it('refuses a webhook without a signature, an unsigned JWT and an expired one', async () => {
    const { request } = await realWebhook();
    const fields = request.body as Record<string, string>;
    const { signature: _dropped, ...unsigned } = fields;
    expect(await campay.verifyWebhook({ ...request, body: unsigned })).toMatchObject({ accepted: false });
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 600 })).toString(
      'base64url',
    );
    expect(
      await campay.verifyWebhook({ ...request, body: { ...fields, signature: `${header}.${payload}.` } }),
    ).toMatchObject({
      accepted: false,
    });
    const expired = await new SignJWT({ source: 'campay' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7_200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3_600)
      .sign(new TextEncoder().encode(SIMULATOR_CREDENTIALS.campay.webhookKey));
    expect(await campay.verifyWebhook({ ...request, body: { ...fields, signature: expired } })).toMatchObject(
      {
        accepted: false,
      },
    );
  });

  it('a tampered amount still verifies (the JWT does not cover it) and is irrelevant: the status re-read tells the truth', async () => {
    const { reference, request } = await realWebhook();
    const tampered = { ...(request.body as Record<string, string>), amount: '1', status: 'SUCCESSFUL' };
    const verdict = await campay.verifyWebhook({ ...request, body: tampered });
    expect(verdict).toMatchObject({ accepted: true, providerReference: reference });
    const truth = await campay.status(reference);
    expect(truth.amountMinor).toBe(7_000n);
  });

  it('reads a POST webhook from the raw body when the framework did not parse it', async () => {
    const { reference, request } = await realWebhook();
    expect(await campay.verifyWebhook({ ...request, body: undefined })).toMatchObject({
      accepted: true,
      providerReference: reference,
    });
  });

  it('refuses webhooks when no webhook key is configured', async () => {
    const { request } = await realWebhook();
    const keyless = createCampayProvider({
      baseUrl: simulators.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      webhookKey: undefined,
      timeoutMs: 3_000,
    });
    expect(await keyless.verifyWebhook(request)).toMatchObject({ accepted: false });
  });
});

describe('CamPay tokens and GET webhooks', () => {
  it('asks for one token and reuses it, even under concurrent calls', async () => {
    const adapter = createCampayProvider({
      baseUrl: simulators.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      timeoutMs: 3_000,
    });
    const before = simulators.campay.state.counters.tokensIssued;
    await Promise.all([adapter.balance(), adapter.balance(), adapter.balance()]);
    await adapter.balance();
    expect(simulators.campay.state.counters.tokensIssued - before).toBe(1);
  });

  let shortLived: RunningSimulators;
  let getSink: Awaited<ReturnType<typeof startWebhookSink>>;

  beforeAll(async () => {
    getSink = await startWebhookSink();
    shortLived = await startSimulators({
      webhookBaseUrl: getSink.webhookBaseUrl,
      delayMs: DELAY_MS,
      tokenTtlSeconds: 1,
      campayWebhookMethod: 'GET',
      campayAppToken: 'permanent-app-token-for-tests',
    });
  });

  afterAll(async () => {
    await shortLived.close();
    await getSink.close();
  });

  const issued = () => shortLived.campay.state.counters.tokensIssued;

  it('asks for a new token once the cached one is near expiry', async () => {
    const adapter = createCampayProvider({
      baseUrl: shortLived.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      timeoutMs: 3_000,
    });
    const before = issued();
    await adapter.balance();
    await sleep(1_000);
    await adapter.balance();
    expect(issued() - before).toBe(2);
  });

  it('on a 401 (a token that expired early) fetches a fresh token and retries once', async () => {
    const frozen = Date.now();
    // Our clock says no time passes, so only CamPay's 401 can tell us the token died.
    const adapter = createCampayProvider({
      baseUrl: shortLived.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      timeoutMs: 3_000,
      now: () => frozen,
    });
    await adapter.balance();
    const before = issued();
    // The simulator rounds a token's expiry up to the next whole second: a 1 s token lives 1 to 2 s.
    await sleep(2_100);
    await expect(adapter.balance()).resolves.toMatchObject({ provider: 'campay' });
    expect(issued() - before).toBe(1);
  });

  it('uses a permanent app token as is, never calling /token/', async () => {
    const adapter = createCampayProvider({
      baseUrl: shortLived.campayUrl,
      appToken: 'permanent-app-token-for-tests',
      timeoutMs: 3_000,
    });
    const before = issued();
    await adapter.balance();
    expect(issued()).toBe(before);
  });

  it('wrong credentials are AUTH_FAILED (an outage of ours, not a refusal of the payment)', async () => {
    const adapter = createCampayProvider({
      baseUrl: shortLived.campayUrl,
      username: 'x',
      password: 'y',
      timeoutMs: 3_000,
    });
    await expect(adapter.balance()).rejects.toMatchObject({
      name: 'ProviderUnavailable',
      code: 'AUTH_FAILED',
    });
  });

  it('verifies a webhook sent by GET with its fields in the query', async () => {
    const adapter = createCampayProvider({
      baseUrl: shortLived.campayUrl,
      ...SIMULATOR_CREDENTIALS.campay,
      timeoutMs: 3_000,
    });
    const collected = await adapter.collect(collectRequest(ORANGE.succeed));
    await waitUntil(() => getSink.about(collected.providerReference).length === 1);
    const { request } = getSink.about(collected.providerReference)[0]!;
    expect(request.method).toBe('GET');
    expect(await adapter.verifyWebhook(request)).toMatchObject({
      accepted: true,
      providerReference: collected.providerReference,
    });
  });
});
