import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { beforeTheCall, ProviderRejected, ProviderUnavailable } from './errors.js';
import { callProvider, field, parseAmountMinor, type ProviderAnswer } from './http.js';
import { detectOperator, toMsisdn } from './phone.js';
import { createTokenCache, type TokenCache } from './token-cache.js';
import type {
  CollectRequest,
  ExternalReferenceLookup,
  PaymentProvider,
  ProviderBalance,
  ProviderStatus,
  TransactionKind,
  TransactionStatus,
  WebhookRequest,
  WebhookVerdict,
} from './types.js';

/**
 * MTN MoMo Open API (https://momodeveloper.mtn.com), the fallback for MTN numbers. Collection
 * and disbursement are separate products with their own subscription key, API user and token.
 *
 * Idempotency: `X-Reference-Id` is the key. We use the caller's externalReference when it is
 * a UUID, so a retried attempt (ours or the caller's) meets 409 RESOURCE_ALREADY_EXIST, which
 * we read as "the earlier request stands".
 *
 * Callbacks: MTN sends one, never retries, does not sign it, and its body does not even carry
 * the reference id. So the callback URL we hand MTN names the transaction and carries a
 * per-transaction token, HMAC-SHA256(callbackSecret, kind:referenceId): only someone who
 * knows the secret (or saw this exact URL) can address a callback at our endpoint, and even
 * then all it can do is make us re-read the status from MTN.
 */
export interface MtnMomoProduct {
  apiUser: string;
  apiKey: string;
  subscriptionKey: string;
}

export interface MtnMomoOptions {
  baseUrl: string;
  /** `sandbox` or `mtncameroon` (the real sandbox only takes EUR). */
  targetEnvironment: string;
  collection: MtnMomoProduct;
  disbursement: MtnMomoProduct;
  /** Our webhook endpoint (e.g. `https://api.example.cm/v1/webhooks/mtn_momo`); unset: no callbacks, polling only. */
  callbackUrl?: string;
  /** The key of the per-callback tokens (at least 16 characters). */
  callbackSecret: string;
  timeoutMs: number;
  now?: () => number;
}

const PROVIDER = 'mtn_momo' as const;
const STATUSES: readonly ProviderStatus[] = ['PENDING', 'SUCCESSFUL', 'FAILED'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

const PATHS: Record<TransactionKind, { product: 'collection' | 'disbursement'; resource: string }> = {
  collection: { product: 'collection', resource: 'requesttopay' },
  disbursement: { product: 'disbursement', resource: 'transfer' },
};

/** The token for a callback URL: binds the kind and the reference id to our secret. */
export function mtnCallbackToken(secret: string, kind: TransactionKind, referenceId: string): string {
  return createHmac('sha256', secret).update(`${kind}:${referenceId.toLowerCase()}`).digest('base64url');
}

function refusal(answer: ProviderAnswer): Error {
  const code = field(answer.body, 'code');
  if (answer.status === 404)
    return new ProviderRejected(PROVIDER, 'NOT_FOUND', 'mtn knows no such transaction', 404);
  if (answer.status === 400 || answer.status === 409)
    return new ProviderRejected(
      PROVIDER,
      code ?? 'BAD_REQUEST',
      field(answer.body, 'message') ?? 'mtn refused',
      answer.status,
    );
  return new ProviderUnavailable(PROVIDER, `HTTP_${answer.status}`, `mtn answered ${answer.status}`);
}

function parseReason(body: unknown): string | undefined {
  const reason = (body as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string') return reason;
  return field(reason, 'code'); // older API versions: {code, message}
}

export function createMtnMomoProvider(options: MtnMomoOptions): PaymentProvider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (options.callbackSecret.length < 16)
    throw new RangeError('the MTN callback secret needs at least 16 characters');
  const tokens: Record<'collection' | 'disbursement', TokenCache> = {
    collection: createMtnTokens(options, baseUrl, 'collection'),
    disbursement: createMtnTokens(options, baseUrl, 'disbursement'),
  };

  async function authorized(
    product: 'collection' | 'disbursement',
    call: {
      method: 'GET' | 'POST';
      path: string;
      headers?: Record<string, string>;
      json?: unknown;
      retries: number;
    },
  ): Promise<ProviderAnswer> {
    const send = async (token: string) =>
      callProvider(PROVIDER, {
        method: call.method,
        url: `${baseUrl}${call.path}`,
        json: call.json,
        retries: call.retries,
        timeoutMs: options.timeoutMs,
        headers: {
          ...call.headers,
          authorization: `Bearer ${token}`,
          'x-target-environment': options.targetEnvironment,
          'ocp-apim-subscription-key': options[product].subscriptionKey,
        },
      });
    // A token that cannot be had stops the call before it leaves: MTN cannot have acted on it.
    const tokenOf = () =>
      tokens[product].get().catch((error: unknown) => Promise.reject(beforeTheCall(error)));
    const token = await tokenOf();
    const answer = await send(token);
    if (answer.status !== 401) return answer;
    tokens[product].invalidate(token);
    const retried = await send(await tokenOf());
    if (retried.status === 401)
      // Refused at the door twice: nothing was done.
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'mtn refused our credentials', {
        unprocessed: true,
      });
    return retried;
  }

  async function initiate(kind: TransactionKind, request: CollectRequest) {
    if (request.amountMinor <= 0n)
      throw new ProviderRejected(PROVIDER, 'INVALID_AMOUNT', 'the amount must be positive');
    if (detectOperator(request.phoneE164) !== 'MTN')
      throw new ProviderRejected(PROVIDER, 'UNSUPPORTED_OPERATOR', 'MTN MoMo only serves MTN numbers');
    let msisdn: string;
    try {
      msisdn = toMsisdn(request.phoneE164);
    } catch {
      throw new ProviderRejected(PROVIDER, 'INVALID_PHONE', 'not a Cameroon mobile number');
    }
    const referenceId = UUID.test(request.externalReference)
      ? request.externalReference.toLowerCase()
      : randomUUID();
    const party = { partyIdType: 'MSISDN', partyId: msisdn };
    const { product, resource } = PATHS[kind];
    const headers: Record<string, string> = { 'x-reference-id': referenceId };
    if (options.callbackUrl !== undefined) headers['x-callback-url'] = callbackUrlFor(kind, referenceId);
    const answer = await authorized(product, {
      method: 'POST',
      path: `/${product}/v1_0/${resource}`,
      headers,
      // The reference id makes the request idempotent: a lost answer may be asked again.
      retries: 2,
      json: {
        amount: request.amountMinor.toString(),
        currency: request.currency,
        externalId: request.externalReference,
        ...(kind === 'collection' ? { payer: party } : { payee: party }),
        payerMessage: request.description,
        payeeNote: request.description,
      },
    });
    const alreadyThere = answer.status === 409 && field(answer.body, 'code') === 'RESOURCE_ALREADY_EXIST';
    if (answer.status !== 202 && !alreadyThere) throw refusal(answer);
    return {
      provider: PROVIDER,
      providerReference: referenceId,
      status: 'PENDING' as const,
      operator: 'MTN' as const,
    };
  }

  async function readStatus(
    providerReference: string,
    kind: TransactionKind = 'collection',
  ): Promise<TransactionStatus> {
    if (!UUID.test(providerReference))
      throw new ProviderRejected(PROVIDER, 'NOT_FOUND', 'not an MTN reference id');
    const { product, resource } = PATHS[kind];
    const answer = await authorized(product, {
      method: 'GET',
      path: `/${product}/v1_0/${resource}/${providerReference}`,
      retries: 2,
    });
    if (answer.status !== 200) throw refusal(answer);
    const status = STATUSES.find((candidate) => candidate === field(answer.body, 'status'));
    const amountMinor = parseAmountMinor(field(answer.body, 'amount'));
    if (status === undefined || amountMinor === undefined)
      throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'mtn sent an unreadable status');
    return {
      provider: PROVIDER,
      kind,
      providerReference,
      status,
      ...(status === 'FAILED' ? { reason: parseReason(answer.body) ?? 'FAILED' } : {}),
      amountMinor,
      currency: field(answer.body, 'currency') ?? 'XAF',
      operator: 'MTN',
      operatorReference: field(answer.body, 'financialTransactionId'),
      externalReference: field(answer.body, 'externalId'),
    };
  }

  function callbackUrlFor(kind: TransactionKind, referenceId: string): string {
    const url = new URL(options.callbackUrl!);
    url.searchParams.set('ref', referenceId);
    url.searchParams.set('kind', kind);
    url.searchParams.set('token', mtnCallbackToken(options.callbackSecret, kind, referenceId));
    return url.toString();
  }

  return {
    name: PROVIDER,
    operators: ['MTN'],
    collect: (request) => initiate('collection', request),
    disburse: (request) => initiate('disbursement', request),

    /** Our reference is the X-Reference-Id we chose (a UUID): MTN answers for it directly. */
    async findByExternalReference(query): Promise<ExternalReferenceLookup> {
      if (!UUID.test(query.externalReference))
        return { verdict: 'unknown', reason: 'not a reference id MTN could know' };
      try {
        return {
          verdict: 'found',
          transactions: [await readStatus(query.externalReference.toLowerCase(), query.kind)],
        };
      } catch (error) {
        if (error instanceof ProviderRejected && error.code === 'NOT_FOUND') return { verdict: 'absent' };
        throw error;
      }
    },

    status: readStatus,

    async balance(): Promise<ProviderBalance> {
      const answer = await authorized('collection', {
        method: 'GET',
        path: '/collection/v1_0/account/balance',
        retries: 2,
      });
      if (answer.status !== 200) throw refusal(answer);
      const available = parseAmountMinor(field(answer.body, 'availableBalance'));
      if (available === undefined)
        throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'mtn sent an unreadable balance');
      return {
        provider: PROVIDER,
        currency: field(answer.body, 'currency') ?? 'XAF',
        totalMinor: available,
        byOperator: { MTN: available },
      };
    },

    verifyWebhook: async (request) => verifyMtnCallback(request, options.callbackSecret),
  };
}

function createMtnTokens(
  options: MtnMomoOptions,
  baseUrl: string,
  product: 'collection' | 'disbursement',
): TokenCache {
  const credentials = options[product];
  return createTokenCache(async () => {
    const basic = Buffer.from(`${credentials.apiUser}:${credentials.apiKey}`).toString('base64');
    const answer = await callProvider(PROVIDER, {
      method: 'POST',
      url: `${baseUrl}/${product}/token/`,
      headers: { authorization: `Basic ${basic}`, 'ocp-apim-subscription-key': credentials.subscriptionKey },
      timeoutMs: options.timeoutMs,
      retries: 1,
    });
    if (answer.status !== 200)
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'mtn refused our credentials');
    const token = field(answer.body, 'access_token');
    const expiresIn = Number(field(answer.body, 'expires_in') ?? '3600');
    if (token === undefined || !Number.isFinite(expiresIn))
      throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'mtn sent an unreadable token');
    return { token, expiresInSeconds: expiresIn };
  }, options.now);
}

function verifyMtnCallback(request: WebhookRequest, secret: string): WebhookVerdict {
  // The sandbox has been seen calling back with PUT as well as POST.
  const method = request.method.toUpperCase();
  if (method !== 'POST' && method !== 'PUT') return { accepted: false, reason: 'unexpected method' };
  const referenceId = field(request.query, 'ref');
  const kind = field(request.query, 'kind');
  const token = field(request.query, 'token');
  if (referenceId === undefined || !UUID.test(referenceId))
    return { accepted: false, reason: 'no reference' };
  if (kind !== 'collection' && kind !== 'disbursement') return { accepted: false, reason: 'no kind' };
  if (token === undefined) return { accepted: false, reason: 'no token' };
  const expected = Buffer.from(mtnCallbackToken(secret, kind, referenceId));
  const given = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { accepted: false, reason: 'bad token' };
  const hinted = STATUSES.find((candidate) => candidate === field(request.body, 'status'));
  return {
    accepted: true,
    providerReference: referenceId.toLowerCase(),
    kind,
    ...(hinted ? { hintedStatus: hinted } : {}),
  };
}
