import { jwtVerify } from 'jose';
import { beforeTheCall, ProviderRejected, ProviderUnavailable } from './errors.js';
import { hmacKey } from './hmac-key.js';
import { callProvider, field, parseAmountMinor, type ProviderAnswer, type ProviderCall } from './http.js';
import { detectOperator, fromProviderPhone, toCampayPhone } from './phone.js';
import { createTokenCache, type TokenCache } from './token-cache.js';
import type {
  CollectRequest,
  CollectResult,
  DisburseResult,
  ExternalReferenceLookup,
  ExternalReferenceQuery,
  HistoryQuery,
  HistoryRow,
  Operator,
  PaymentProvider,
  ProviderBalance,
  ProviderStatus,
  TransactionKind,
  TransactionStatus,
  WebhookRequest,
  WebhookVerdict,
} from './types.js';

/**
 * CamPay (https://www.campay.net), the primary aggregator for MTN and Orange. Faithful to what
 * the official SDKs rely on: paths under `/api/` with trailing slashes, `Authorization: Token
 * <t>`, amounts as strings of whole francs, HTTP 200 for success and 400 `{message,
 * error_code}` for refusals, webhooks carrying a HS256 JWT `signature` made with the webhook key.
 */
export interface CampayOptions {
  /** e.g. `https://demo.campay.net/api` (no trailing slash needed). */
  baseUrl: string;
  /** App username and password for `POST /token/` (a JWT valid `expires_in` seconds). */
  username?: string;
  password?: string;
  /** A permanent app token; used as is when set, instead of username and password. */
  appToken?: string;
  /** The app's webhook key; webhooks are refused while it is unset. */
  webhookKey?: string;
  timeoutMs: number;
  now?: () => number;
}

const PROVIDER = 'campay' as const;
const STATUSES: readonly ProviderStatus[] = ['PENDING', 'SUCCESSFUL', 'FAILED'];
const REFERENCE = /^[A-Za-z0-9-]{1,64}$/;
/** CamPay signs webhooks with a short-lived JWT; allow this much clock skew between us. */
const WEBHOOK_CLOCK_TOLERANCE_SECONDS = 60;
/** Margin around a statement window: clocks differ, and CamPay stamps a row when it takes it. */
const STATEMENT_MARGIN_MS = 5 * 60_000;
/** More transactions than this under one reference is a provider gone wrong: report, never loop. */
const MAX_MATCHES = 5;

function parseStatus(value: string | undefined): ProviderStatus | undefined {
  return STATUSES.find((status) => status === value?.toUpperCase());
}

function parseOperator(value: string | undefined): Operator | undefined {
  const upper = value?.toUpperCase();
  if (upper === 'MTN') return 'MTN';
  if (upper === 'ORANGE') return 'ORANGE';
  return undefined;
}

function badResponse(what: string): ProviderUnavailable {
  return new ProviderUnavailable(PROVIDER, 'BAD_RESPONSE', `campay sent an unreadable ${what}`);
}

/** Our checks before spending a request: CamPay would answer ER101/ER102/ER201 anyway. */
function validateMoneyRequest(request: CollectRequest): {
  phone: string;
  operator: Operator;
  amount: string;
} {
  if (request.currency !== 'XAF')
    throw new ProviderRejected(PROVIDER, 'UNSUPPORTED_CURRENCY', 'campay moves XAF only');
  if (request.amountMinor <= 0n)
    throw new ProviderRejected(PROVIDER, 'INVALID_AMOUNT', 'the amount must be positive');
  let phone: string;
  try {
    phone = toCampayPhone(request.phoneE164);
  } catch {
    throw new ProviderRejected(PROVIDER, 'INVALID_PHONE', 'not a Cameroon mobile number');
  }
  const operator = detectOperator(request.phoneE164);
  if (operator === undefined)
    throw new ProviderRejected(PROVIDER, 'UNSUPPORTED_OPERATOR', 'only MTN and Orange numbers are supported');
  return { phone, operator, amount: request.amountMinor.toString() };
}

/** Interprets a non-2xx answer that is not an outage (those were thrown by callProvider). */
function refusal(answer: ProviderAnswer): Error {
  if (answer.status === 400) {
    const code = field(answer.body, 'error_code') ?? 'BAD_REQUEST';
    return new ProviderRejected(
      PROVIDER,
      code,
      field(answer.body, 'message') ?? 'campay refused the request',
      400,
    );
  }
  if (answer.status === 404)
    return new ProviderRejected(PROVIDER, 'NOT_FOUND', 'campay knows no such transaction', 404);
  // 401 after a fresh token, 403, 405…: our configuration is wrong, nothing was done.
  return new ProviderUnavailable(PROVIDER, `HTTP_${answer.status}`, `campay answered ${answer.status}`);
}

type Authorized = (
  call: Omit<ProviderCall, 'timeoutMs' | 'url'> & { path: string },
) => Promise<ProviderAnswer>;

/** Sends a call with `Authorization: Token`, refreshing a JWT that CamPay refuses once. */
function createAuthorizedCaller(options: CampayOptions, baseUrl: string): Authorized {
  const tokens = createCampayTokens(options, baseUrl);
  const send = async (call: Parameters<Authorized>[0], token: string) =>
    callProvider(PROVIDER, {
      ...call,
      url: `${baseUrl}${call.path}`,
      timeoutMs: options.timeoutMs,
      headers: { ...call.headers, authorization: `Token ${token}` },
    });
  // A token that cannot be had stops the call before it leaves: CamPay cannot have acted on it.
  const token = () => tokens.get().catch((error: unknown) => Promise.reject(beforeTheCall(error)));
  return async (call) => {
    const first = await token();
    const answer = await send(call, first);
    if (answer.status !== 401 || options.appToken !== undefined) return answer;
    // The cached JWT may have been revoked or expired early: one fresh token, once.
    tokens.invalidate(first);
    const retried = await send(call, await token());
    if (retried.status === 401)
      // Refused at the door twice: nothing was done.
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'campay refused our credentials', {
        unprocessed: true,
      });
    return retried;
  };
}

function toStatus(body: unknown, kind: TransactionKind, reference: string): TransactionStatus {
  const status = parseStatus(field(body, 'status'));
  const amountMinor = parseAmountMinor(field(body, 'amount'));
  if (status === undefined || amountMinor === undefined) throw badResponse('transaction');
  const reason = field(body, 'reason');
  return {
    provider: PROVIDER,
    kind,
    providerReference: field(body, 'reference') ?? reference,
    status,
    ...(status === 'FAILED' ? { reason: reason ?? 'FAILED' } : {}),
    amountMinor,
    currency: field(body, 'currency') ?? 'XAF',
    operator: parseOperator(field(body, 'operator')),
    operatorReference: field(body, 'operator_reference'),
    externalReference: field(body, 'external_reference'),
  };
}

/** `POST /collect/` (from the payer) or `POST /withdraw/` (to the payee): same shape, same answers. */
async function moveMoney(
  authorized: Authorized,
  kind: TransactionKind,
  request: CollectRequest,
): Promise<CollectResult> {
  const checked = validateMoneyRequest(request);
  const collection = kind === 'collection';
  const answer = await authorized({
    method: 'POST',
    path: collection ? '/collect/' : '/withdraw/',
    retries: 0, // CamPay promises no idempotency: a retry could charge twice
    json: {
      amount: checked.amount,
      currency: request.currency,
      ...(collection ? { from: checked.phone } : { to: checked.phone }),
      description: request.description,
      external_reference: request.externalReference,
    },
  });
  if (answer.status !== 200) throw refusal(answer);
  const reference = field(answer.body, 'reference');
  if (reference === undefined || !REFERENCE.test(reference)) throw badResponse(`${kind} answer`);
  const ussdCode = field(answer.body, 'ussd_code');
  return {
    provider: PROVIDER,
    providerReference: reference,
    status: parseStatus(field(answer.body, 'status')) ?? 'PENDING',
    ...(ussdCode === undefined ? {} : { ussdCode }),
    operator: parseOperator(field(answer.body, 'operator')) ?? checked.operator,
  };
}

async function readBalance(authorized: Authorized): Promise<ProviderBalance> {
  const answer = await authorized({ method: 'GET', path: '/balance/', retries: 2 });
  if (answer.status !== 200) throw refusal(answer);
  const total = parseAmountMinor(field(answer.body, 'total_balance'));
  const mtn = parseAmountMinor(field(answer.body, 'mtn_balance'));
  const orange = parseAmountMinor(field(answer.body, 'orange_balance'));
  if (total === undefined) throw badResponse('balance');
  return {
    provider: PROVIDER,
    currency: field(answer.body, 'currency') ?? 'XAF',
    totalMinor: total,
    byOperator: {
      ...(mtn === undefined ? {} : { MTN: mtn }),
      ...(orange === undefined ? {} : { ORANGE: orange }),
    },
  };
}

export function createCampayProvider(options: CampayOptions): PaymentProvider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const authorized = createAuthorizedCaller(options, baseUrl);
  const now = options.now ?? Date.now;

  async function readStatus(providerReference: string, kind: TransactionKind): Promise<TransactionStatus> {
    if (!REFERENCE.test(providerReference))
      throw new ProviderRejected(PROVIDER, 'NOT_FOUND', 'not a campay reference');
    const path = `/transaction/${encodeURIComponent(providerReference)}/`;
    const answer = await authorized({ method: 'GET', path, retries: 2 });
    if (answer.status !== 200) throw refusal(answer);
    return toStatus(answer.body, kind, providerReference);
  }

  async function history(query: HistoryQuery): Promise<HistoryRow[]> {
    // CamPay filters by whole days; we ask for the days that cover [from, to) and trim.
    const answer = await authorized({
      method: 'POST',
      path: '/history/',
      retries: 2,
      json: { start_date: utcDay(query.from), end_date: utcDay(new Date(query.to.getTime() - 1)) },
    });
    if (answer.status !== 200) throw refusal(answer);
    return historyRows(answer.body).filter((row) => row.at >= query.from && row.at < query.to);
  }

  /**
   * CamPay has no read by our reference: its statement is searched instead. Its documented rows
   * do not list `external_reference`; when the statement carries none at all, absence cannot be
   * proven and the answer is `unknown` (the simulator's rows carry it, as the adapter reads it).
   */
  async function findByExternalReference(query: ExternalReferenceQuery): Promise<ExternalReferenceLookup> {
    const rows = await history({
      from: new Date(query.since.getTime() - STATEMENT_MARGIN_MS),
      to: new Date(now() + STATEMENT_MARGIN_MS),
    });
    if (rows.length > 0 && rows.every((row) => row.externalReference === undefined))
      return { verdict: 'unknown', reason: 'the statement carries no external reference' };
    const matches = rows.filter(
      (row) => row.externalReference === query.externalReference && row.kind === query.kind,
    );
    if (matches.length === 0) return { verdict: 'absent' };
    const transactions = await Promise.all(
      matches.slice(0, MAX_MATCHES).map((row) => readStatus(row.providerReference, query.kind)),
    );
    return { verdict: 'found', transactions };
  }

  return {
    name: PROVIDER,
    operators: ['MTN', 'ORANGE'],
    collect: (request) => moveMoney(authorized, 'collection', request),
    async disburse(request): Promise<DisburseResult> {
      const { ussdCode: _none, ...result } = await moveMoney(authorized, 'disbursement', request);
      return result;
    },
    status: (providerReference, kind = 'collection') => readStatus(providerReference, kind),
    history,
    findByExternalReference,
    balance: () => readBalance(authorized),
    verifyWebhook: (request) => verifyCampayWebhook(request, options.webhookKey, options.now),
  };
}

function createCampayTokens(options: CampayOptions, baseUrl: string): TokenCache {
  if (options.appToken !== undefined) {
    const permanent = options.appToken;
    return { get: async () => permanent, invalidate: () => undefined };
  }
  const { username, password } = options;
  return createTokenCache(async () => {
    if (username === undefined || password === undefined)
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'campay credentials are not configured');
    const answer = await callProvider(PROVIDER, {
      method: 'POST',
      url: `${baseUrl}/token/`,
      json: { username, password },
      timeoutMs: options.timeoutMs,
      retries: 1,
    });
    if (answer.status !== 200)
      throw new ProviderUnavailable(PROVIDER, 'AUTH_FAILED', 'campay refused our credentials');
    const token = field(answer.body, 'token');
    const expiresIn = Number(field(answer.body, 'expires_in') ?? '3600');
    if (token === undefined || !Number.isFinite(expiresIn)) throw badResponse('token');
    return { token, expiresInSeconds: expiresIn };
  }, options.now);
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Rows of `POST /history/`; tolerant of a bare array or `{data: [...]}`, strict on each row. */
function historyRows(body: unknown): HistoryRow[] {
  const list = Array.isArray(body)
    ? body
    : ((body as { data?: unknown; results?: unknown } | undefined)?.data ??
      (body as { results?: unknown } | undefined)?.results);
  if (!Array.isArray(list)) throw badResponse('history');
  return list.map((row: unknown) => {
    const reference = field(row, 'reference_uuid') ?? field(row, 'reference');
    const amountMinor = parseAmountMinor(field(row, 'amount'));
    const status = parseStatus(field(row, 'status'));
    const at = new Date(field(row, 'datetime') ?? '');
    if (
      reference === undefined ||
      amountMinor === undefined ||
      status === undefined ||
      Number.isNaN(at.getTime())
    )
      throw badResponse('history row');
    const debit = parseAmountMinor(field(row, 'debit')) ?? 0n;
    const phone = field(row, 'phone_number');
    return {
      provider: PROVIDER,
      providerReference: reference,
      externalReference: field(row, 'external_reference'),
      code: field(row, 'code'),
      kind: debit > 0n ? 'disbursement' : 'collection',
      amountMinor,
      feeMinor: parseAmountMinor(field(row, 'charge_amount')) ?? 0n,
      currency: field(row, 'currency') ?? 'XAF',
      status,
      at,
      operator: parseOperator(field(row, 'operator')),
      operatorReference: field(row, 'operator_tx_code'),
      phoneE164: phone === undefined ? undefined : fromProviderPhone(phone),
    } satisfies HistoryRow;
  });
}

/** A POST's JSON fields, from the parsed body or, when the framework left it unparsed, the raw one. */
function postedFields(request: WebhookRequest): unknown {
  if (typeof request.body === 'object' && request.body !== null) return request.body;
  const raw = request.rawBody?.toString();
  if (raw === undefined || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * CamPay's webhook (GET query or POST JSON) carries the transaction fields plus `signature`, a
 * JWT HS256 made with the webhook key that says nothing about the transaction (iat, nbf, exp,
 * source). A valid signature proves CamPay sent *a* webhook recently, not that these fields are
 * true: the caller re-reads the status, so a replayed signature with another reference only
 * triggers a harmless re-read.
 */
async function verifyCampayWebhook(
  request: WebhookRequest,
  webhookKey: string | undefined,
  now: () => number = Date.now,
): Promise<WebhookVerdict> {
  if (webhookKey === undefined) return { accepted: false, reason: 'webhook key not configured' };
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'POST') return { accepted: false, reason: 'unexpected method' };
  const fields = method === 'GET' ? request.query : postedFields(request);
  const signature = field(fields, 'signature');
  const reference = field(fields, 'reference');
  if (signature === undefined) return { accepted: false, reason: 'no signature' };
  try {
    await jwtVerify(signature, await hmacKey(webhookKey), {
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
      clockTolerance: WEBHOOK_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now()),
    });
  } catch {
    return { accepted: false, reason: 'bad signature' };
  }
  if (reference === undefined || !REFERENCE.test(reference))
    return { accepted: false, reason: 'no reference' };
  const hintedStatus = parseStatus(field(fields, 'status'));
  const externalReference = field(fields, 'external_reference');
  return {
    accepted: true,
    providerReference: reference,
    ...(externalReference === undefined || externalReference === '' ? {} : { externalReference }),
    ...(hintedStatus ? { hintedStatus } : {}),
  };
}
