import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { hmacKey } from '../providers/hmac-key.js';
import { handleControl, type ControlState } from './control.js';
import { createEngine, sendHttpWebhook, type SimOperator, type SimTransaction } from './engine.js';
import { magicBehaviour } from './magic.js';
import { createSimServer, type SimRequest, type SimResponse, type SimServer } from './server.js';

/**
 * A CamPay look-alike speaking the API our adapter and the official SDKs use (paths under
 * `/api/`, `Authorization: Token`, 200 for success, 400 `{message, error_code}`), with the
 * webhooks CamPay sends: the transaction fields plus a HS256 JWT `signature` made with the
 * app's webhook key, by GET (query) or POST (JSON) as the app is configured.
 */
export interface CampaySimulatorOptions {
  delayMs: number;
  username: string;
  password: string;
  /** A permanent app token also accepted in `Authorization: Token`. */
  appToken?: string;
  webhookKey: string;
  /** Where webhooks go (the app's configured webhook URL); unset: none are sent. */
  webhookUrl?: string;
  webhookMethod: 'GET' | 'POST';
  tokenTtlSeconds: number;
  /** How long the timeout number (and the timeout outage) holds an answer before a 504. */
  timeoutHoldMs: number;
  initialBalance: Record<SimOperator, bigint>;
  maxTransactions: number;
  /**
   * Integrators report that CamPay answers a reused external_reference with the earlier
   * transaction, which CamPay does not promise. False: a reused reference makes a second
   * transaction, as a provider that does not deduplicate would (the worst case we must survive).
   */
  deduplicateReferences: boolean;
}

const USSD_CODES: Record<SimOperator, string> = { MTN: '*126#', ORANGE: '#150*50#' };
const SERVER_ERROR: SimResponse = {
  status: 500,
  contentType: 'text/html',
  text: '<h1>Server Error (500)</h1>',
};

function operatorOf(phone: string): SimOperator | undefined {
  const national = phone.slice(3);
  if (/^67/.test(national) || /^65[0-4]/.test(national) || /^68[0-3]/.test(national)) return 'MTN';
  if (/^69/.test(national) || /^65[5-9]/.test(national) || /^68[5-9]/.test(national)) return 'ORANGE';
  return undefined;
}

function refuse(code: string, message: string): SimResponse {
  return { status: 400, json: { message, error_code: code } };
}

/** CamPay's amount rule: whole francs, as a number or a string ("100", "100.00"), above zero. */
function parseAmount(value: unknown): bigint | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(\d{1,12})(?:\.0+)?$/.exec(text);
  if (match?.[1] === undefined) return undefined;
  const amount = BigInt(match[1]);
  return amount > 0n ? amount : undefined;
}

function yymmdd(date: Date): string {
  return date.toISOString().slice(2, 10).replace(/-/g, '');
}

export function createCampaySimulator(options: CampaySimulatorOptions) {
  const signingKey = randomBytes(32);
  // Switchable at run time (POST /_control/deduplication {enabled}) for tests of one app.
  const deduplication = { enabled: options.deduplicateReferences };
  const webhookKey = new TextEncoder().encode(options.webhookKey);
  let sequence = 0;

  const engine = createEngine({
    delayMs: options.delayMs,
    maxTransactions: options.maxTransactions,
    initialBalance: options.initialBalance,
    feePermille: { MTN: 25n, ORANGE: 20n },
    operatorReference: (transaction) =>
      transaction.operator === 'ORANGE'
        ? `MP${yymmdd(new Date())}.${randomInt(1000, 9999)}.A${randomInt(10_000, 99_999)}`
        : String(randomInt(1_000_000_000, 9_999_999_999)),
    sendWebhook: async (transaction) => {
      if (options.webhookUrl === undefined) return undefined;
      return sendHttpWebhook(transaction.reference, options.webhookUrl, options.webhookMethod, {
        ...webhookFields(transaction),
        signature: await signWebhook(),
      });
    },
  });
  const state: ControlState = {
    engine,
    counters: { tokensIssued: 0, apiRequests: 0 },
    outage: { mode: 'none' },
    answerDelay: { ms: 0 },
  };

  async function signWebhook(): Promise<string> {
    return new SignJWT({ source: 'campay' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('10m')
      .sign(await hmacKey(webhookKey));
  }

  async function authenticated(request: SimRequest): Promise<boolean> {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Token ')) return false;
    const token = header.slice('Token '.length);
    if (options.appToken !== undefined && token === options.appToken) return true;
    try {
      await jwtVerify(token, await hmacKey(signingKey), { algorithms: ['HS256'] });
      return true;
    } catch {
      return false;
    }
  }

  async function issueToken(request: SimRequest): Promise<SimResponse> {
    const body = request.body as { username?: unknown; password?: unknown } | undefined;
    if (body?.username !== options.username || body.password !== options.password)
      return { status: 400, json: { non_field_errors: ['Unable to log in with provided credentials.'] } };
    state.counters.tokensIssued += 1;
    const token = await new SignJWT({ uid: options.username })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setJti(randomUUID())
      // Whole seconds rounded up: a JWT's exp has second precision, and `now + 1s` floored
      // could expire a 1-second token within milliseconds of issuing it.
      .setExpirationTime(Math.ceil(Date.now() / 1000) + options.tokenTtlSeconds)
      .sign(await hmacKey(signingKey));
    return { status: 200, json: { token, expires_in: options.tokenTtlSeconds } };
  }

  function moveMoney(request: SimRequest, kind: SimTransaction['kind']): SimResponse {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const phone = String((kind === 'collection' ? body.from : body.to) ?? '');
    if (!/^237\d{9}$/.test(phone))
      return refuse('ER101', 'Invalid phone number. Phone number must start with 237');
    const operator = operatorOf(phone);
    if (operator === undefined)
      return refuse('ER102', 'Unsupported carrier. Only MTN and Orange are supported');
    const amount = parseAmount(body.amount);
    if (amount === undefined) return refuse('ER201', 'Invalid amount. Decimal numbers are not allowed');
    if (body.currency !== 'XAF')
      return { status: 400, json: { message: 'Invalid currency. Only XAF is supported' } };
    const behaviour = magicBehaviour(phone, 'campay');
    if (behaviour === 'server_error') return SERVER_ERROR;
    if (behaviour === 'unavailable') return { ...SERVER_ERROR, status: 503 };
    if (behaviour === 'timeout') return { ...SERVER_ERROR, status: 504, delayMs: options.timeoutHoldMs };
    const externalReference = typeof body.external_reference === 'string' ? body.external_reference : '';
    // Integrators report that a reused external_reference answers with the earlier transaction.
    const earlier =
      externalReference === '' || !deduplication.enabled
        ? undefined
        : engine.findByExternalReference(externalReference, kind);
    if (earlier !== undefined) return answerFor(earlier);
    if (kind === 'disbursement' && !engine.canDisburse(operator, amount))
      return refuse('ER301', 'Insufficient balance');
    const now = new Date();
    sequence = (sequence + 1) % 100_000;
    const transaction = engine.create({
      reference: randomUUID(),
      kind,
      phone,
      operator,
      amount,
      currency: 'XAF',
      externalReference,
      description: typeof body.description === 'string' ? body.description.slice(0, 200) : '',
      code: `CP${yymmdd(now)}T${String(sequence).padStart(5, '0')}`,
      behaviour,
    });
    if (state.outage.mode === 'unavailable_after_acting') return { ...SERVER_ERROR, status: 503 };
    return answerFor(transaction);
  }

  function answerFor(transaction: SimTransaction): SimResponse {
    const held = state.answerDelay.ms > 0 ? { delayMs: state.answerDelay.ms } : {};
    if (transaction.kind === 'disbursement')
      return { status: 200, json: { reference: transaction.reference, status: transaction.status }, ...held };
    const operator = transaction.operator ?? 'MTN';
    return {
      status: 200,
      json: { reference: transaction.reference, ussd_code: USSD_CODES[operator], operator },
      ...held,
    };
  }

  function history(request: SimRequest): SimResponse {
    const body = (request.body ?? {}) as { start_date?: unknown; end_date?: unknown };
    const day = /^\d{4}-\d{2}-\d{2}$/;
    if (
      typeof body.start_date !== 'string' ||
      typeof body.end_date !== 'string' ||
      !day.test(body.start_date) ||
      !day.test(body.end_date)
    )
      return { status: 400, json: { message: 'start_date and end_date are required (YYYY-MM-DD)' } };
    const { start_date: start, end_date: end } = body;
    const rows = engine
      .list()
      .filter((transaction) => {
        const date = transaction.createdAt.toISOString().slice(0, 10);
        return date >= start && date <= end;
      })
      .map(historyRow);
    return { status: 200, json: rows };
  }

  async function handle(request: SimRequest): Promise<SimResponse> {
    if (request.method === 'POST' && request.path.replace(/\/+$/, '') === '/_control/deduplication') {
      const enabled = (request.body as { enabled?: unknown } | undefined)?.enabled;
      if (typeof enabled !== 'boolean')
        return { status: 400, json: { message: 'enabled must be a boolean' } };
      deduplication.enabled = enabled;
      return { status: 200, json: { enabled } };
    }
    const control = handleControl(request, state);
    if (control !== undefined) return control;
    const path = request.path.replace(/\/+$/, '');
    if (!path.startsWith('/api/')) return { status: 404, json: { detail: 'Not found.' } };
    state.counters.apiRequests += 1;
    if (state.outage.mode === 'error') return SERVER_ERROR;
    if (state.outage.mode === 'garbage')
      return { status: 200, contentType: 'text/html', text: '<html>maintenance</html>' };
    if (state.outage.mode === 'timeout')
      return { ...SERVER_ERROR, status: 504, delayMs: options.timeoutHoldMs };
    const route = `${request.method} ${path}`;
    if (route === 'POST /api/token') return issueToken(request);
    if (!(await authenticated(request))) return { status: 401, json: { detail: 'Invalid token.' } };
    if (route === 'POST /api/collect') return moveMoney(request, 'collection');
    if (route === 'POST /api/withdraw') return moveMoney(request, 'disbursement');
    if (route === 'POST /api/history') return history(request);
    if (route === 'GET /api/balance') {
      const { MTN: mtn, ORANGE: orange } = engine.balances;
      return {
        status: 200,
        json: {
          total_balance: Number(mtn + orange),
          mtn_balance: Number(mtn),
          orange_balance: Number(orange),
          currency: 'XAF',
        },
      };
    }
    const match = /^GET \/api\/transaction\/([^/]+)$/.exec(route);
    if (match?.[1] !== undefined) {
      const transaction = engine.get(decodeURIComponent(match[1]));
      if (transaction === undefined)
        return { status: 404, json: { message: 'Transaction not found', error_code: 'ER404' } };
      return { status: 200, json: transactionBody(transaction) };
    }
    return { status: 404, json: { detail: 'Not found.' } };
  }

  const server: SimServer = createSimServer(handle);
  return { server, engine, state };
}

function transactionBody(transaction: SimTransaction) {
  return {
    reference: transaction.reference,
    external_reference: transaction.externalReference,
    status: transaction.status,
    amount: Number(transaction.amount),
    currency: transaction.currency,
    operator: transaction.operator ?? null,
    code: transaction.code,
    operator_reference: transaction.operatorReference ?? null,
    description: transaction.description,
    ...(transaction.status === 'FAILED' ? { reason: transaction.reason } : {}),
  };
}

function webhookFields(transaction: SimTransaction): Record<string, string> {
  return {
    status: transaction.status,
    reference: transaction.reference,
    amount: transaction.amount.toString(),
    currency: transaction.currency,
    operator: transaction.operator ?? '',
    code: transaction.code,
    operator_reference: transaction.operatorReference ?? '',
    external_reference: transaction.externalReference,
  };
}

function historyRow(transaction: SimTransaction) {
  // Debit and credit say which way the money goes, whatever the status (status says whether it did).
  const collection = transaction.kind === 'collection';
  return {
    datetime: transaction.createdAt.toISOString(),
    code: transaction.code,
    operator_tx_code: transaction.operatorReference ?? '',
    operator: transaction.operator,
    phone_number: transaction.phone,
    amount: `${transaction.amount}.00`,
    charge_amount: `${transaction.fee}.00`,
    debit: collection ? '0.00' : `${transaction.amount + transaction.fee}.00`,
    credit: collection ? `${transaction.amount - transaction.fee}.00` : '0.00',
    status: transaction.status,
    reference_uuid: transaction.reference,
    // Not in CamPay's documented rows: the adapter's search by our reference needs it (see
    // findByExternalReference, which answers `unknown` for a statement without it).
    external_reference: transaction.externalReference,
  };
}
