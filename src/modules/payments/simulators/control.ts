import type { Engine, SimTransaction } from './engine.js';
import type { SimRequest, SimResponse } from './server.js';

/**
 * The control API every simulator serves beside the provider's own API, for tests and for
 * people clicking through the embedded default:
 *
 *   GET  /_control/transactions                 newest first (at most 100)
 *   GET  /_control/transactions/{ref}
 *   POST /_control/transactions/{ref}/approve   a PENDING one becomes SUCCESSFUL (one webhook)
 *   POST /_control/transactions/{ref}/fail      {reason?} a PENDING one becomes FAILED (one webhook)
 *   POST /_control/transactions/{ref}/webhook   {status?} sends its webhook again (the dashboard's resend);
 *                                               with a status, one claiming it (out of order, a lie)
 *   POST /_control/transactions/{ref}/amount    {amountMinor} a PENDING one reports another amount (a lying provider)
 *   GET  /_control/webhooks                     the webhook deliveries (newest last)
 *   GET  /_control/stats                        token and API request counters
 *   POST /_control/outage                       {mode: "none" | "error" | "timeout" | "garbage" |
 *                                               "unavailable_after_acting"} for the whole API
 *   POST /_control/answer-delay                 {ms} holds every collect and disbursement answer this long
 *                                               (0 by default): the settlement and its webhook go on
 *                                               meanwhile, so the webhook overtakes the answer
 *   POST /_control/reset                        forgets every transaction and restores the float
 */
/**
 * `garbage`: every API call answers 200 with a body no adapter can read (a broken gateway).
 * `unavailable_after_acting` (CamPay): collections and payouts are made, then answered 503 as if
 * nothing was done — a provider that lies about not having acted, so the router goes on to the
 * fallback and the payer is charged twice.
 */
export type OutageMode = 'none' | 'error' | 'timeout' | 'garbage' | 'unavailable_after_acting';

export interface SimulatorCounters {
  tokensIssued: number;
  apiRequests: number;
}

export interface ControlState {
  engine: Engine;
  counters: SimulatorCounters;
  outage: { mode: OutageMode };
  /** How long collect and disbursement answers are held (POST /_control/answer-delay). */
  answerDelay: { ms: number };
}

/** The longest answer delay the control API takes (a minute: longer is an outage, not a delay). */
const MAX_ANSWER_DELAY_MS = 60_000;

const MAX_LISTED = 100;

export function viewTransaction(transaction: SimTransaction) {
  return {
    reference: transaction.reference,
    kind: transaction.kind,
    phone: transaction.phone,
    operator: transaction.operator ?? null,
    amount: Number(transaction.amount),
    fee: Number(transaction.fee),
    currency: transaction.currency,
    externalReference: transaction.externalReference,
    status: transaction.status,
    reason: transaction.reason ?? null,
    behaviour: transaction.behaviour,
    webhooksSent: transaction.webhooksSent,
    createdAt: transaction.createdAt.toISOString(),
    updatedAt: transaction.updatedAt.toISOString(),
  };
}

export function handleControl(request: SimRequest, state: ControlState): SimResponse | undefined {
  if (!request.path.startsWith('/_control/')) return undefined;
  const parts = request.path
    .split('/')
    .filter((part) => part.length > 0)
    .slice(1);
  const [resource, reference, action] = parts;
  const { engine } = state;
  if (request.method === 'GET' && resource === 'transactions' && reference === undefined) {
    const newest = engine.list().reverse().slice(0, MAX_LISTED);
    return { status: 200, json: { transactions: newest.map(viewTransaction) } };
  }
  if (resource === 'transactions' && reference !== undefined) {
    const transaction = engine.get(reference);
    if (transaction === undefined) return { status: 404, json: { message: 'no such transaction' } };
    if (request.method === 'GET' && action === undefined)
      return { status: 200, json: viewTransaction(transaction) };
    if (request.method === 'POST' && (action === 'approve' || action === 'fail')) {
      const reason = (request.body as { reason?: unknown } | undefined)?.reason;
      const changed =
        action === 'approve'
          ? engine.approve(reference)
          : engine.fail(reference, typeof reason === 'string' ? reason : undefined);
      if (!changed)
        return { status: 409, json: { message: `the transaction is already ${transaction.status}` } };
      return { status: 200, json: viewTransaction(transaction) };
    }
    if (request.method === 'POST' && action === 'amount') {
      // A provider whose record disagrees with what we asked for: what a status read, the
      // statement and the webhook will all say from now on.
      const amount = (request.body as { amountMinor?: unknown } | undefined)?.amountMinor;
      if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0)
        return { status: 400, json: { message: 'amountMinor must be a positive integer' } };
      if (transaction.status !== 'PENDING' || transaction.kind !== 'collection')
        return { status: 409, json: { message: 'only a pending collection can report another amount' } };
      transaction.amount = BigInt(amount);
      transaction.fee = engine.fee(transaction.operator, transaction.amount);
      return { status: 200, json: viewTransaction(transaction) };
    }
    if (request.method === 'POST' && action === 'webhook') {
      const status = (request.body as { status?: unknown } | undefined)?.status;
      if (status !== undefined && status !== 'SUCCESSFUL' && status !== 'FAILED' && status !== 'PENDING')
        return { status: 400, json: { message: 'status must be SUCCESSFUL, FAILED or PENDING' } };
      engine.resendWebhook(reference, status);
      return { status: 202, json: { message: 'webhook queued' } };
    }
  }
  if (request.method === 'GET' && resource === 'webhooks')
    return { status: 200, json: { deliveries: engine.webhookLog } };
  if (request.method === 'GET' && resource === 'stats')
    return { status: 200, json: { ...state.counters, balances: engine.balances, outage: state.outage.mode } };
  if (request.method === 'POST' && resource === 'outage') {
    const mode = (request.body as { mode?: unknown } | undefined)?.mode;
    if (
      mode !== 'none' &&
      mode !== 'error' &&
      mode !== 'timeout' &&
      mode !== 'garbage' &&
      mode !== 'unavailable_after_acting'
    )
      return {
        status: 400,
        json: { message: 'mode must be none, error, timeout, garbage or unavailable_after_acting' },
      };
    state.outage.mode = mode;
    return { status: 200, json: { mode } };
  }
  if (request.method === 'POST' && resource === 'answer-delay') {
    const ms = (request.body as { ms?: unknown } | undefined)?.ms;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > MAX_ANSWER_DELAY_MS)
      return { status: 400, json: { message: `ms must be an integer from 0 to ${MAX_ANSWER_DELAY_MS}` } };
    state.answerDelay.ms = ms;
    return { status: 200, json: { ms } };
  }
  if (request.method === 'POST' && resource === 'reset') {
    engine.reset();
    state.counters.tokensIssued = 0;
    state.counters.apiRequests = 0;
    state.outage.mode = 'none';
    state.answerDelay.ms = 0;
    return { status: 200, json: { message: 'reset' } };
  }
  return { status: 404, json: { message: 'unknown control route' } };
}
