import { createHmac, timingSafeEqual } from 'node:crypto';
import { beforeTheCall, ProviderRejected, ProviderUnavailable } from './errors.js';
import { callProvider, field, parseAmountMinor, type ProviderAnswer } from './http.js';
import { detectOperator, toMsisdn } from './phone.js';
import { createTokenCache } from './token-cache.js';
import { createBoundedMap } from '../bounded-map.js';
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
 * Orange Money Cameroon's merchant payment API (the USSD-push "mp" API Orange Cameroon gives its
 * merchants, served at `api-s1.orange.cm`; documented in Orange's merchant guide and followed by
 * the public SDKs, e.g. npm `@spreeloop/orange_money`), the fallback for Orange numbers when
 * CamPay cannot serve them. Chosen over Orange's WebPay (developer.orange.com) because WebPay
 * sends the payer to a web page, while our collect pushes a prompt to the payer's phone, as
 * CamPay and MTN do.
 *
 * - `POST /token` (`grant_type=client_credentials`, Basic consumerKey:consumerSecret) →
 *   `{access_token, expires_in}`; every other call carries `Authorization: Bearer` and
 *   `X-AUTH-TOKEN` (the merchant's API credentials).
 * - Collect: `POST /omcoreapis/1.0.2/mp/init` → `{data: {payToken}}` (creates nothing payable),
 *   then `POST /omcoreapis/1.0.2/mp/pay` `{notifUrl, channelUserMsisdn, amount, subscriberMsisdn,
 *   pin, orderId, description, payToken}` → `{data: {payToken, status: PENDING, …}}`; the payer
 *   approves on the phone. `GET /omcoreapis/1.0.2/mp/paymentstatus/{payToken}` reads it:
 *   `PENDING | SUCCESSFULL | FAILED | CANCELLED | EXPIRED` (Orange spells the success with two L).
 * - Payouts (cash-in to the payee): the same three steps under `/cashin/`.
 * - The notification is a POST `{payToken, status, message}` to `notifUrl`, unsigned: as for
 *   MTN, the URL we give carries the pay token and an HMAC of it, and even a valid one only makes
 *   us re-read the status.
 *
 * Idempotency: Orange keeps no key of ours. `mp/pay` is never retried; our id is its `orderId`.
 * Orange offers no read by `orderId`, so the pay tokens this process obtained are remembered (at
 * most 100 000) and `findByExternalReference` answers from them; otherwise `unknown` (a lost
 * answer is then left to expiry and reconciliation, never collected again elsewhere).
 */
export interface OrangeMoneyOptions {
  baseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  /** The merchant API credentials' token (X-AUTH-TOKEN). */
  authToken: string;
  /** The merchant's channel-user number (9 digits) and PIN. */
  channelMsisdn: string;
  pin: string;
  /** Our webhook endpoint (`…/v1/webhooks/orange_money`); unset: polling only. */
  callbackUrl?: string;
  /** The key of the per-payment notification tokens (at least 16 characters). */
  callbackSecret: string;
  timeoutMs: number;
  now?: () => number;
}

const PROVIDER = 'orange_money' as const;
const PAY_TOKEN = /^[A-Za-z0-9_-]{6,64}$/;
const REMEMBERED_PAY_TOKENS = 100_000;
const API = '/omcoreapis/1.0.2';
const PRODUCT: Record<TransactionKind, 'mp' | 'cashin'> = { collection: 'mp', disbursement: 'cashin' };

/** Orange's statuses in ours; the reason of a failure is Orange's word for it. */
export function readOrangeStatus(
  value: string | undefined,
): { status: ProviderStatus; reason?: string } | undefined {
  switch (value) {
    case 'PENDING':
    case 'INITIATED':
      return { status: 'PENDING' };
    case 'SUCCESSFULL':
    case 'SUCCESSFUL':
      return { status: 'SUCCESSFUL' };
    case 'FAILED':
    case 'CANCELLED':
    case 'EXPIRED':
      return { status: 'FAILED', reason: value };
    default:
      return undefined;
  }
}

/**
 * The token in a notification URL: binds the kind, the pay token and our order id to our secret
 * (Orange's notification names only the pay token; the order id lets a notification that comes
 * before our record of the pay token find the attempt, which is then checked by a status read).
 */
export function orangeCallbackToken(
  secret: string,
  kind: TransactionKind,
  payToken: string,
  orderId: string,
): string {
  return createHmac('sha256', secret).update(`orange:${kind}:${payToken}:${orderId}`).digest('base64url');
}

function refusal(answer: ProviderAnswer): Error {
  if (answer.status === 404)
    return new ProviderRejected(PROVIDER, 'NOT_FOUND', 'orange knows no such payment', 404);
  if (answer.status >= 400 && answer.status < 500 && answer.status !== 401)
    return new ProviderRejected(
      PROVIDER,
      field(answer.body, 'code') ?? 'BAD_REQUEST',
      field(answer.body, 'message') ?? 'orange refused',
      answer.status,
    );
  return new ProviderUnavailable(PROVIDER, `HTTP_${answer.status}`, `orange answered ${answer.status}`);
}

function data(body: unknown): unknown {
  return (body as { data?: unknown } | undefined)?.data;
}

export function createOrangeMoneyProvider(options: OrangeMoneyOptions): PaymentProvider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (options.callbackSecret.length < 16)
    throw new RangeError('the Orange Money callback secret needs at least 16 characters');
  /** `kind:orderId` → pay token, for the read by our reference (Orange has none). */
  const payTokens = createBoundedMap<string>(REMEMBERED_PAY_TOKENS);
  const tokens = createTokenCache(async () => {
    const basic = Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64');
    const answer = await callProvider(PROVIDER, {
      method: 'POST',
      url: `${baseUrl}/token`,
      headers: { authorization: `Basic ${basic}` },
      form: { grant_type: 'client_credentials' },
      timeoutMs: options.timeoutMs,
      retries: 1,
    });
    if (answer.status !== 200)
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'orange refused our credentials');
    const token = field(answer.body, 'access_token');
    const expiresIn = Number(field(answer.body, 'expires_in') ?? '3600');
    if (token === undefined || !Number.isFinite(expiresIn))
      throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'orange sent an unreadable token');
    return { token, expiresInSeconds: expiresIn };
  }, options.now);

  async function authorized(call: {
    method: 'GET' | 'POST';
    path: string;
    json?: unknown;
    retries: number;
  }): Promise<ProviderAnswer> {
    const send = async (token: string) =>
      callProvider(PROVIDER, {
        method: call.method,
        url: `${baseUrl}${call.path}`,
        json: call.json,
        retries: call.retries,
        timeoutMs: options.timeoutMs,
        headers: { authorization: `Bearer ${token}`, 'x-auth-token': options.authToken },
      });
    const tokenOf = () => tokens.get().catch((error: unknown) => Promise.reject(beforeTheCall(error)));
    const token = await tokenOf();
    const answer = await send(token);
    if (answer.status !== 401) return answer;
    tokens.invalidate(token);
    const retried = await send(await tokenOf());
    if (retried.status === 401)
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'orange refused our credentials', {
        unprocessed: true,
      });
    return retried;
  }

  function callbackUrlFor(kind: TransactionKind, payToken: string, orderId: string): string | undefined {
    if (options.callbackUrl === undefined) return undefined;
    const url = new URL(options.callbackUrl);
    url.searchParams.set('ref', payToken);
    url.searchParams.set('kind', kind);
    url.searchParams.set('order', orderId);
    url.searchParams.set('token', orangeCallbackToken(options.callbackSecret, kind, payToken, orderId));
    return url.toString();
  }

  async function initiate(kind: TransactionKind, request: CollectRequest) {
    if (request.amountMinor <= 0n || request.currency !== 'XAF')
      throw new ProviderRejected(PROVIDER, 'INVALID_AMOUNT', 'a positive amount of XAF only');
    if (detectOperator(request.phoneE164) !== 'ORANGE')
      throw new ProviderRejected(PROVIDER, 'UNSUPPORTED_OPERATOR', 'Orange Money only serves Orange numbers');
    let local: string;
    try {
      local = toMsisdn(request.phoneE164).slice(3); // Orange wants the 9 national digits
    } catch {
      throw new ProviderRejected(PROVIDER, 'INVALID_PHONE', 'not a Cameroon mobile number');
    }
    const product = PRODUCT[kind];
    // init creates nothing payable: a failure here cannot have charged anyone.
    const init = await authorized({ method: 'POST', path: `${API}/${product}/init`, retries: 1 }).catch(
      (error: unknown) => Promise.reject(beforeTheCall(error)),
    );
    if (init.status !== 200 && init.status !== 201) throw beforeTheCall(refusal(init));
    const payToken = field(data(init.body), 'payToken');
    if (payToken === undefined || !PAY_TOKEN.test(payToken))
      throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'orange sent an unreadable pay token', {
        unprocessed: true,
      });
    payTokens.set(`${kind}:${request.externalReference}`, payToken);
    const notifUrl = callbackUrlFor(kind, payToken, request.externalReference);
    const answer = await authorized({
      method: 'POST',
      path: `${API}/${product}/pay`,
      retries: 0, // Orange keeps no idempotency key: never sent twice
      json: {
        ...(notifUrl === undefined ? {} : { notifUrl }),
        channelUserMsisdn: options.channelMsisdn,
        amount: request.amountMinor.toString(),
        subscriberMsisdn: local,
        pin: options.pin,
        orderId: request.externalReference,
        description: request.description,
        payToken,
      },
    });
    if (answer.status !== 200 && answer.status !== 201) throw refusal(answer);
    const said = readOrangeStatus(field(data(answer.body), 'status') ?? 'PENDING');
    if (said === undefined)
      throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'orange sent an unreadable payment');
    return {
      provider: PROVIDER,
      providerReference: payToken,
      status: said.status,
      ussdCode: '#150*50#',
      operator: 'ORANGE' as const,
    };
  }

  async function readStatus(
    providerReference: string,
    kind: TransactionKind = 'collection',
  ): Promise<TransactionStatus> {
    if (!PAY_TOKEN.test(providerReference))
      throw new ProviderRejected(PROVIDER, 'NOT_FOUND', 'not an Orange pay token');
    const answer = await authorized({
      method: 'GET',
      path: `${API}/${PRODUCT[kind]}/paymentstatus/${providerReference}`,
      retries: 2,
    });
    if (answer.status !== 200) throw refusal(answer);
    const body = data(answer.body);
    const said = readOrangeStatus(field(body, 'status'));
    const amountMinor = parseAmountMinor(field(body, 'amount'));
    if (said === undefined || amountMinor === undefined)
      throw new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', 'orange sent an unreadable status');
    const orderId = field(body, 'orderId');
    return {
      provider: PROVIDER,
      kind,
      providerReference,
      ...said,
      amountMinor,
      currency: 'XAF',
      operator: 'ORANGE',
      operatorReference: field(body, 'txnid'),
      ...(orderId === undefined ? {} : { externalReference: orderId }),
    };
  }

  return {
    name: PROVIDER,
    operators: ['ORANGE'],
    collect: (request) => initiate('collection', request),
    disburse: (request) => initiate('disbursement', request),
    status: readStatus,

    async findByExternalReference(query): Promise<ExternalReferenceLookup> {
      const payToken = payTokens.get(`${query.kind}:${query.externalReference}`);
      if (payToken === undefined)
        return { verdict: 'unknown', reason: 'orange has no read by our reference' };
      try {
        const found = await readStatus(payToken, query.kind);
        // A pay token whose `pay` never arrived is still INITIATED: nothing was asked of the payer.
        return { verdict: 'found', transactions: [found] };
      } catch (error) {
        if (error instanceof ProviderRejected && error.code === 'NOT_FOUND') return { verdict: 'absent' };
        throw error;
      }
    },

    async balance(): Promise<ProviderBalance> {
      throw new ProviderRejected(PROVIDER, 'NOT_SUPPORTED', 'the merchant API has no balance read');
    },

    verifyWebhook: async (request) => verifyOrangeNotification(request, options.callbackSecret),
  };
}

function verifyOrangeNotification(request: WebhookRequest, secret: string): WebhookVerdict {
  if (request.method.toUpperCase() !== 'POST') return { accepted: false, reason: 'unexpected method' };
  const payToken = field(request.query, 'ref');
  const kind = field(request.query, 'kind');
  const token = field(request.query, 'token');
  const orderId = field(request.query, 'order') ?? '';
  if (payToken === undefined || !PAY_TOKEN.test(payToken)) return { accepted: false, reason: 'no reference' };
  if (kind !== 'collection' && kind !== 'disbursement') return { accepted: false, reason: 'no kind' };
  if (token === undefined) return { accepted: false, reason: 'no token' };
  const expected = Buffer.from(orangeCallbackToken(secret, kind, payToken, orderId));
  const given = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { accepted: false, reason: 'bad token' };
  const hinted = readOrangeStatus(field(request.body, 'status'));
  return {
    accepted: true,
    providerReference: payToken,
    kind,
    ...(orderId.length > 0 ? { externalReference: orderId } : {}),
    ...(hinted ? { hintedStatus: hinted.status } : {}),
  };
}
