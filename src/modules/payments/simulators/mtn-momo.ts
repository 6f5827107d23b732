import { randomBytes, randomInt } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { hmacKey } from '../providers/hmac-key.js';
import { handleControl, type ControlState } from './control.js';
import { createEngine, sendHttpWebhook, type SimOperator, type SimTransaction } from './engine.js';
import { magicBehaviour } from './magic.js';
import { createSimServer, type SimRequest, type SimResponse, type SimServer } from './server.js';

/**
 * An MTN MoMo Open API look-alike: `POST /{product}/token/` (Basic apiUser:apiKey plus
 * `Ocp-Apim-Subscription-Key`), request-to-pay and transfer keyed by `X-Reference-Id`
 * (202 with an empty body; a reused id is 409 RESOURCE_ALREADY_EXIST), status reads, account
 * balances, and the callback sent once, unsigned, to `X-Callback-Url`. Its error bodies are
 * `{code, message}`. Numbers of other operators are accepted and then FAIL with
 * PAYER_NOT_FOUND, as MTN does.
 */
export interface MtnProductCredentials {
  apiUser: string;
  apiKey: string;
  subscriptionKey: string;
}

export interface MtnSimulatorOptions {
  delayMs: number;
  collection: MtnProductCredentials;
  disbursement: MtnProductCredentials;
  /** Accepted values of X-Target-Environment. */
  targetEnvironments: readonly string[];
  tokenTtlSeconds: number;
  callbackMethod: 'POST' | 'PUT';
  timeoutHoldMs: number;
  initialBalance: Record<SimOperator, bigint>;
  maxTransactions: number;
}

type Product = 'collection' | 'disbursement';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const SERVER_ERROR: SimResponse = {
  status: 500,
  json: { code: 'INTERNAL_PROCESSING_ERROR', message: 'An internal error occurred while processing.' },
};
const PRODUCT_OF: Record<SimTransaction['kind'], Product> = {
  collection: 'collection',
  disbursement: 'disbursement',
};

function error(status: number, code: string, message: string): SimResponse {
  return { status, json: { code, message } };
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createMtnSimulator(options: MtnSimulatorOptions) {
  const signingKey = randomBytes(32);
  const engine = createEngine({
    delayMs: options.delayMs,
    maxTransactions: options.maxTransactions,
    initialBalance: options.initialBalance,
    feePermille: { MTN: 25n, ORANGE: 20n },
    operatorReference: () => String(randomInt(1_000_000_000, 9_999_999_999)),
    sendWebhook: async (transaction) => {
      if (transaction.callbackUrl === undefined) return undefined;
      return sendHttpWebhook(
        transaction.reference,
        transaction.callbackUrl,
        options.callbackMethod,
        statusBody(transaction),
      );
    },
  });
  const state: ControlState = {
    engine,
    counters: { tokensIssued: 0, apiRequests: 0 },
    outage: { mode: 'none' },
    answerDelay: { ms: 0 },
  };

  async function issueToken(request: SimRequest, product: Product): Promise<SimResponse> {
    const credentials = options[product];
    if (header(request, 'ocp-apim-subscription-key') !== credentials.subscriptionKey)
      return {
        status: 401,
        json: {
          statusCode: 401,
          message:
            'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
        },
      };
    const expected = `Basic ${Buffer.from(`${credentials.apiUser}:${credentials.apiKey}`).toString('base64')}`;
    if (header(request, 'authorization') !== expected)
      return { status: 401, json: { error: 'login_failed' } };
    state.counters.tokensIssued += 1;
    const token = await new SignJWT({ product })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      // Whole seconds rounded up: a JWT's exp has second precision, and `now + 1s` floored
      // could expire a 1-second token within milliseconds of issuing it.
      .setExpirationTime(Math.ceil(Date.now() / 1000) + options.tokenTtlSeconds)
      .sign(await hmacKey(signingKey));
    return {
      status: 200,
      json: { access_token: token, token_type: 'access_token', expires_in: options.tokenTtlSeconds },
    };
  }

  /** Every product call needs a live token for that product, its subscription key and an environment. */
  async function gate(request: SimRequest, product: Product): Promise<SimResponse | undefined> {
    if (header(request, 'ocp-apim-subscription-key') !== options[product].subscriptionKey)
      return {
        status: 401,
        json: { statusCode: 401, message: 'Access denied due to invalid subscription key.' },
      };
    const authorization = header(request, 'authorization') ?? '';
    try {
      const { payload } = await jwtVerify(authorization.replace(/^Bearer /, ''), await hmacKey(signingKey), {
        algorithms: ['HS256'],
      });
      if (payload.product !== product) throw new Error('wrong product');
    } catch {
      return error(401, 'INVALID_CREDENTIALS', 'Access token is missing, invalid or expired.');
    }
    const environment = header(request, 'x-target-environment');
    if (environment === undefined || !options.targetEnvironments.includes(environment))
      return error(400, 'NOT_ALLOWED_TARGET_ENVIRONMENT', 'Access to target environment is forbidden.');
    return undefined;
  }

  function initiate(request: SimRequest, kind: SimTransaction['kind']): SimResponse {
    const referenceId = header(request, 'x-reference-id');
    if (referenceId === undefined || !UUID.test(referenceId))
      return error(400, 'INVALID_REFERENCE_ID', 'X-Reference-Id must be a UUID.');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const party = (kind === 'collection' ? body.payer : body.payee) as
      { partyIdType?: unknown; partyId?: unknown } | undefined;
    const phone = typeof party?.partyId === 'string' ? party.partyId : '';
    if (party?.partyIdType !== 'MSISDN' || !/^\d{8,15}$/.test(phone))
      return error(400, 'INVALID_PARTY', 'The party is not a valid MSISDN.');
    if (typeof body.amount !== 'string' || !/^\d{1,12}$/.test(body.amount) || body.amount === '0')
      return error(400, 'INVALID_AMOUNT', 'Amount must be a positive whole number as a string.');
    if (typeof body.currency !== 'string' || body.currency.length !== 3)
      return error(400, 'INVALID_CURRENCY', 'Currency is not supported.');
    const behaviour = magicBehaviour(phone, 'mtn_momo');
    if (behaviour === 'server_error') return SERVER_ERROR;
    const reference = referenceId.toLowerCase();
    if (engine.get(reference) !== undefined)
      return error(409, 'RESOURCE_ALREADY_EXIST', 'Duplicated reference id. Creation of resource failed.');
    const isMtn = /^237(67|65[0-4]|68[0-3])/.test(phone);
    const amount = BigInt(body.amount);
    const forcedFailure = !isMtn
      ? 'PAYER_NOT_FOUND'
      : kind === 'disbursement' && !engine.canDisburse('MTN', amount)
        ? 'NOT_ENOUGH_FUNDS'
        : undefined;
    engine.create({
      reference,
      kind,
      phone,
      operator: isMtn ? 'MTN' : undefined,
      amount,
      currency: body.currency,
      externalReference: typeof body.externalId === 'string' ? body.externalId : '',
      description: typeof body.payerMessage === 'string' ? body.payerMessage.slice(0, 160) : '',
      code: reference,
      behaviour,
      ...(header(request, 'x-callback-url') === undefined
        ? {}
        : { callbackUrl: header(request, 'x-callback-url') }),
      ...(forcedFailure === undefined ? {} : { forcedFailure }),
    });
    return { status: 202, text: '', ...(state.answerDelay.ms > 0 ? { delayMs: state.answerDelay.ms } : {}) };
  }

  async function handle(request: SimRequest): Promise<SimResponse> {
    const control = handleControl(request, state);
    if (control !== undefined) return control;
    const path = request.path.replace(/\/+$/, '');
    const [, product, version, resource, id] = path.split('/') as (string | undefined)[];
    if (product !== 'collection' && product !== 'disbursement')
      return error(404, 'RESOURCE_NOT_FOUND', 'Not found.');
    state.counters.apiRequests += 1;
    if (state.outage.mode === 'error') return SERVER_ERROR;
    if (state.outage.mode === 'garbage')
      return { status: 200, contentType: 'text/html', text: '<html>maintenance</html>' };
    if (state.outage.mode === 'timeout') return { ...SERVER_ERROR, delayMs: options.timeoutHoldMs };
    if (version === 'token' && request.method === 'POST') return issueToken(request, product);
    const refused = await gate(request, product);
    if (refused !== undefined) return refused;
    const kind: SimTransaction['kind'] = product === 'collection' ? 'collection' : 'disbursement';
    const expectedResource = product === 'collection' ? 'requesttopay' : 'transfer';
    if (version !== 'v1_0') return error(404, 'RESOURCE_NOT_FOUND', 'Not found.');
    if (resource === expectedResource && id === undefined && request.method === 'POST')
      return initiate(request, kind);
    if (resource === expectedResource && id !== undefined && request.method === 'GET') {
      const transaction = engine.get(id.toLowerCase());
      if (transaction === undefined || PRODUCT_OF[transaction.kind] !== product)
        return error(404, 'RESOURCE_NOT_FOUND', 'Requested resource was not found.');
      return { status: 200, json: statusBody(transaction) };
    }
    if (resource === 'account' && id === 'balance' && request.method === 'GET')
      return { status: 200, json: { availableBalance: engine.balances.MTN.toString(), currency: 'XAF' } };
    return error(404, 'RESOURCE_NOT_FOUND', 'Not found.');
  }

  const server: SimServer = createSimServer(handle);
  return { server, engine, state };
}

/** The body of a status read, which is also the callback body (it carries no reference id). */
function statusBody(transaction: SimTransaction): Record<string, unknown> {
  const party = { partyIdType: 'MSISDN', partyId: transaction.phone };
  return {
    amount: transaction.amount.toString(),
    currency: transaction.currency,
    externalId: transaction.externalReference,
    ...(transaction.kind === 'collection' ? { payer: party } : { payee: party }),
    payerMessage: transaction.description,
    payeeNote: transaction.description,
    status: transaction.status,
    ...(transaction.operatorReference === undefined
      ? {}
      : { financialTransactionId: transaction.operatorReference }),
    ...(transaction.status === 'FAILED' ? { reason: transaction.reason } : {}),
  };
}
