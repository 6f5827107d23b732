import { randomBytes, randomInt } from 'node:crypto';
import { handleControl, type ControlState } from './control.js';
import { createEngine, sendHttpWebhook, type SimOperator, type SimTransaction } from './engine.js';
import { magicBehaviour } from './magic.js';
import {
  createBoundedMap,
  createSimServer,
  type SimRequest,
  type SimResponse,
  type SimServer,
} from './server.js';

/**
 * An Orange Money Cameroon merchant API look-alike (see providers/orange-money.ts): `POST /token`
 * (form `grant_type=client_credentials`, Basic consumer key and secret), then under
 * `/omcoreapis/1.0.2/{mp|cashin}/`: `init` → a pay token, `pay` (the merchant's channel number
 * and PIN, the payer's 9 digits, our `orderId`) → PENDING, `paymentstatus/{payToken}`. Every
 * call needs the Bearer token and `X-AUTH-TOKEN`. The notification is a POST `{payToken, status,
 * message}` to the request's `notifUrl`, unsigned. Non-Orange numbers FAIL, as Orange does.
 * Magic numbers as the others; `0005`/`0006` break only CamPay, so this one serves them.
 */
export interface OrangeSimulatorOptions {
  delayMs: number;
  consumerKey: string;
  consumerSecret: string;
  authToken: string;
  channelMsisdn: string;
  pin: string;
  tokenTtlSeconds: number;
  timeoutHoldMs: number;
  initialBalance: Record<SimOperator, bigint>;
  maxTransactions: number;
}

const SERVER_ERROR: SimResponse = { status: 500, json: { message: 'Internal Server Error' } };

function error(status: number, code: string, message: string): SimResponse {
  return { status, json: { code, message } };
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Orange's own spelling of a success. */
function orangeStatus(transaction: SimTransaction): string {
  if (transaction.status === 'SUCCESSFUL') return 'SUCCESSFULL';
  if (transaction.status === 'FAILED') return transaction.reason === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
  return 'PENDING';
}

function paymentData(transaction: SimTransaction): Record<string, unknown> {
  return {
    payToken: transaction.reference,
    orderId: transaction.externalReference,
    amount: Number(transaction.amount),
    subscriberMsisdn: transaction.phone.slice(3),
    status: orangeStatus(transaction),
    ...(transaction.operatorReference === undefined ? {} : { txnid: transaction.operatorReference }),
    ...(transaction.status === 'FAILED' ? { confirmtxnmessage: transaction.reason } : {}),
    description: transaction.description,
  };
}

export function createOrangeSimulator(options: OrangeSimulatorOptions) {
  const engine = createEngine({
    delayMs: options.delayMs,
    maxTransactions: options.maxTransactions,
    initialBalance: options.initialBalance,
    feePermille: { MTN: 25n, ORANGE: 20n },
    operatorReference: () =>
      `MP${randomInt(100_000, 999_999)}.${randomInt(1000, 9999)}.B${randomInt(10_000, 99_999)}`,
    sendWebhook: async (transaction) => {
      if (transaction.callbackUrl === undefined) return undefined;
      return sendHttpWebhook(transaction.reference, transaction.callbackUrl, 'POST', {
        payToken: transaction.reference,
        status: orangeStatus(transaction),
        message: transaction.status === 'SUCCESSFUL' ? 'Payment successful' : (transaction.reason ?? ''),
      });
    },
  });
  const state: ControlState = {
    engine,
    counters: { tokensIssued: 0, apiRequests: 0 },
    outage: { mode: 'none' },
    answerDelay: { ms: 0 },
  };
  /** Access tokens issued → expiry (ms). */
  const accessTokens = createBoundedMap<number>(10_000);
  /** Pay tokens from `init` not yet used by `pay` → the product that issued them. */
  const initiated = createBoundedMap<'mp' | 'cashin'>(options.maxTransactions);

  function issueToken(request: SimRequest): SimResponse {
    const expected = `Basic ${Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64')}`;
    if (header(request, 'authorization') !== expected)
      return {
        status: 401,
        json: { error: 'invalid_client', error_description: 'Client authentication failed' },
      };
    if (!/grant_type=client_credentials/.test(request.rawText ?? ''))
      return { status: 400, json: { error: 'unsupported_grant_type' } };
    const token = randomBytes(24).toString('base64url');
    accessTokens.set(token, Date.now() + options.tokenTtlSeconds * 1000);
    state.counters.tokensIssued += 1;
    return {
      status: 200,
      json: { access_token: token, token_type: 'Bearer', expires_in: options.tokenTtlSeconds },
    };
  }

  function gate(request: SimRequest): SimResponse | undefined {
    const bearer = (header(request, 'authorization') ?? '').replace(/^Bearer /, '');
    const expiry = accessTokens.get(bearer);
    if (expiry === undefined || expiry < Date.now())
      return error(401, 'INVALID_TOKEN', 'Invalid or expired access token');
    if (header(request, 'x-auth-token') !== options.authToken)
      return error(403, 'FORBIDDEN', 'Invalid X-AUTH-TOKEN');
    return undefined;
  }

  function pay(request: SimRequest, product: 'mp' | 'cashin'): SimResponse {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const payToken = typeof body.payToken === 'string' ? body.payToken : '';
    if (initiated.get(payToken) !== product) {
      if (engine.get(payToken) !== undefined)
        return error(400, 'PAY_TOKEN_USED', 'This payToken has already been used');
      return error(400, 'INVALID_PAY_TOKEN', 'Unknown payToken');
    }
    if (body.channelUserMsisdn !== options.channelMsisdn || body.pin !== options.pin)
      return error(400, 'INVALID_CHANNEL_USER', 'Channel user or PIN is wrong');
    const local = typeof body.subscriberMsisdn === 'string' ? body.subscriberMsisdn : '';
    if (!/^6\d{8}$/.test(local)) return error(400, 'INVALID_MSISDN', 'subscriberMsisdn must be 9 digits');
    if (typeof body.amount !== 'string' || !/^[1-9]\d{0,11}$/.test(body.amount))
      return error(400, 'INVALID_AMOUNT', 'amount must be a positive whole number');
    if (typeof body.orderId !== 'string' || body.orderId.length === 0 || body.orderId.length > 64)
      return error(400, 'INVALID_ORDER_ID', 'orderId is required');
    const phone = `237${local}`;
    const behaviour = magicBehaviour(phone, 'orange_money');
    if (behaviour === 'server_error') return SERVER_ERROR;
    initiated.delete(payToken);
    const isOrange = /^237(69|65[5-9]|68[5-9])/.test(phone);
    const amount = BigInt(body.amount);
    const kind: SimTransaction['kind'] = product === 'mp' ? 'collection' : 'disbursement';
    const forcedFailure = !isOrange
      ? 'FAILED'
      : kind === 'disbursement' && !engine.canDisburse('ORANGE', amount)
        ? 'FAILED'
        : undefined;
    const transaction = engine.create({
      reference: payToken,
      kind,
      phone,
      operator: isOrange ? 'ORANGE' : undefined,
      amount,
      currency: 'XAF',
      externalReference: body.orderId,
      description: typeof body.description === 'string' ? body.description.slice(0, 160) : '',
      code: payToken,
      behaviour,
      ...(typeof body.notifUrl === 'string' ? { callbackUrl: body.notifUrl } : {}),
      ...(forcedFailure === undefined ? {} : { forcedFailure }),
    });
    return {
      status: 200,
      json: { message: 'Merchant payment successfully initiated', data: paymentData(transaction) },
      ...(state.answerDelay.ms > 0 ? { delayMs: state.answerDelay.ms } : {}),
    };
  }

  async function handle(request: SimRequest): Promise<SimResponse> {
    const control = handleControl(request, state);
    if (control !== undefined) return control;
    state.counters.apiRequests += 1;
    if (state.outage.mode === 'error') return SERVER_ERROR;
    if (state.outage.mode === 'garbage')
      return { status: 200, contentType: 'text/html', text: '<html>maintenance</html>' };
    if (state.outage.mode === 'timeout') return { ...SERVER_ERROR, delayMs: options.timeoutHoldMs };
    const path = request.path.replace(/\/+$/, '');
    if (path === '/token' && request.method === 'POST') return issueToken(request);
    const match = /^\/omcoreapis\/1\.0\.2\/(mp|cashin)\/(init|pay|paymentstatus)(?:\/([^/]+))?$/.exec(path);
    if (match === null) return error(404, 'NOT_FOUND', 'Not found');
    const refused = gate(request);
    if (refused !== undefined) return refused;
    const product = match[1] as 'mp' | 'cashin';
    const action = match[2];
    if (action === 'init' && request.method === 'POST' && match[3] === undefined) {
      const payToken = `${product === 'mp' ? 'MP' : 'CI'}${randomBytes(12).toString('hex').toUpperCase()}`;
      initiated.set(payToken, product);
      return { status: 200, json: { message: 'Payment request successfully initiated', data: { payToken } } };
    }
    if (action === 'pay' && request.method === 'POST' && match[3] === undefined) return pay(request, product);
    if (action === 'paymentstatus' && request.method === 'GET' && match[3] !== undefined) {
      const transaction = engine.get(match[3]);
      const productOf = transaction?.kind === 'collection' ? 'mp' : 'cashin';
      if (transaction === undefined || productOf !== product)
        return error(404, 'NOT_FOUND', 'Payment not found');
      return { status: 200, json: { message: 'Transaction retrieved', data: paymentData(transaction) } };
    }
    return error(404, 'NOT_FOUND', 'Not found');
  }

  const server: SimServer = createSimServer(handle);
  return { server, engine, state };
}
