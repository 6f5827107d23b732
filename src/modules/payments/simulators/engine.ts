import { sendHttp } from '../providers/http.js';
import { createBoundedMap } from './server.js';
import { webhookCopies, type MagicBehaviour } from './magic.js';

/**
 * The part of a simulated provider that is the same for CamPay and MTN: transactions that
 * settle after a delay according to the payer's magic number, the provider's float per
 * operator, and webhooks sent on settlement (how many depends on the magic number). Each
 * simulator speaks its own wire format around it.
 */
export type SimStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED';
export type SimOperator = 'MTN' | 'ORANGE';

export interface SimTransaction {
  reference: string;
  kind: 'collection' | 'disbursement';
  /** 12 digits, `2376xxxxxxxx`. */
  phone: string;
  operator?: SimOperator;
  amount: bigint;
  fee: bigint;
  currency: string;
  externalReference: string;
  description: string;
  status: SimStatus;
  reason?: string;
  operatorReference?: string;
  /** CamPay's short code (`CP…`). */
  code: string;
  createdAt: Date;
  updatedAt: Date;
  behaviour: MagicBehaviour;
  /** Where this transaction's callback goes (MTN's X-Callback-Url); else the simulator's default. */
  callbackUrl?: string;
  webhooksSent: number;
  /** Whether a disbursement took its amount and fee from the float. */
  reserved: boolean;
}

export interface WebhookDelivery {
  reference: string;
  url: string;
  method: string;
  at: string;
  /** The HTTP status our endpoint answered, or the network error. */
  outcome: number | string;
}

export interface EngineOptions {
  delayMs: number;
  maxTransactions: number;
  initialBalance: Record<SimOperator, bigint>;
  /** Provider fee in per-mille of the amount (spec: MTN 25 = 2.5 %, Orange 20 = 2.0 %). */
  feePermille: Record<SimOperator, bigint>;
  /** Sends one webhook for a settled transaction; resolves with the delivery record, or undefined when there is nowhere to send. */
  sendWebhook: (transaction: SimTransaction) => Promise<WebhookDelivery | undefined>;
  operatorReference: (transaction: SimTransaction) => string;
}

export interface NewTransaction {
  reference: string;
  kind: 'collection' | 'disbursement';
  phone: string;
  operator?: SimOperator;
  amount: bigint;
  currency: string;
  externalReference: string;
  description: string;
  code: string;
  behaviour: MagicBehaviour;
  callbackUrl?: string;
  /** Settle FAILED with this reason whatever the number says (unknown payer, no float…). */
  forcedFailure?: string;
}

const MAX_WEBHOOK_LOG = 1_000;

export function createEngine(options: EngineOptions) {
  const transactions = createBoundedMap<SimTransaction>(options.maxTransactions);
  /** The first transaction per kind and external reference (a scan per collect grew with the log). */
  const byExternalReference = createBoundedMap<string>(options.maxTransactions);
  const balances: Record<SimOperator, bigint> = { ...options.initialBalance };
  const timers = new Set<NodeJS.Timeout>();
  const webhookLog: WebhookDelivery[] = [];
  const inFlight = new Set<Promise<unknown>>();

  function fee(operator: SimOperator | undefined, amount: bigint): bigint {
    if (operator === undefined) return 0n;
    return (amount * options.feePermille[operator] + 500n) / 1000n; // half up, whole francs
  }

  function later(action: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, delayMs);
    timers.add(timer);
  }

  async function deliver(transaction: SimTransaction, copies: number): Promise<void> {
    for (let copy = 0; copy < copies; copy += 1) {
      const delivery = await options.sendWebhook(transaction);
      if (delivery === undefined) return;
      transaction.webhooksSent += 1;
      webhookLog.push(delivery);
      if (webhookLog.length > MAX_WEBHOOK_LOG) webhookLog.shift();
    }
  }

  function track(promise: Promise<unknown>): void {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  }

  function settle(
    reference: string,
    status: 'SUCCESSFUL' | 'FAILED',
    reason?: string,
    copies?: number,
  ): boolean {
    const transaction = transactions.get(reference);
    if (transaction === undefined || transaction.status !== 'PENDING') return false;
    transaction.status = status;
    transaction.updatedAt = new Date();
    if (status === 'FAILED') transaction.reason = reason ?? 'FAILED';
    else transaction.operatorReference = options.operatorReference(transaction);
    const operator = transaction.operator;
    if (operator !== undefined) {
      if (transaction.kind === 'collection' && status === 'SUCCESSFUL')
        balances[operator] += transaction.amount - transaction.fee;
      if (transaction.kind === 'disbursement' && status === 'FAILED' && transaction.reserved)
        balances[operator] += transaction.amount + transaction.fee; // the reservation comes back
    }
    track(deliver(transaction, copies ?? webhookCopies(transaction.behaviour)));
    return true;
  }

  return {
    balances,
    webhookLog,
    fee,
    /** The float a disbursement of `amount` to `operator` would need (amount + fee). */
    canDisburse(operator: SimOperator, amount: bigint): boolean {
      return balances[operator] >= amount + fee(operator, amount);
    },
    create(input: NewTransaction): SimTransaction {
      const now = new Date();
      const { forcedFailure, ...fields } = input;
      const transaction: SimTransaction = {
        ...fields,
        fee: fee(input.operator, input.amount),
        status: 'PENDING',
        createdAt: now,
        updatedAt: now,
        webhooksSent: 0,
        reserved:
          input.kind === 'disbursement' && input.operator !== undefined && forcedFailure === undefined,
      };
      transactions.set(transaction.reference, transaction);
      const external = `${transaction.kind}:${transaction.externalReference}`;
      if (
        byExternalReference.get(external) === undefined ||
        !transactions.has(byExternalReference.get(external)!)
      )
        byExternalReference.set(external, transaction.reference);
      // A disbursement reserves its amount and fee from the float until it settles.
      if (transaction.reserved && transaction.operator !== undefined)
        balances[transaction.operator] -= transaction.amount + transaction.fee;
      if (forcedFailure !== undefined)
        later(() => settle(input.reference, 'FAILED', forcedFailure), options.delayMs);
      else if (input.behaviour === 'fail')
        later(() => settle(input.reference, 'FAILED', 'NOT_ENOUGH_FUNDS'), options.delayMs);
      else if (input.behaviour !== 'pending_forever')
        later(() => settle(input.reference, 'SUCCESSFUL'), options.delayMs);
      return transaction;
    },
    get: (reference: string) => transactions.get(reference),
    findByExternalReference(externalReference: string, kind: SimTransaction['kind']) {
      const reference = byExternalReference.get(`${kind}:${externalReference}`);
      return reference === undefined ? undefined : transactions.get(reference);
    },
    list: (): SimTransaction[] => [...transactions.values()],
    /** The control API's approve and fail: one webhook, even for a PENDING-forever number. */
    approve: (reference: string) => settle(reference, 'SUCCESSFUL', undefined, 1),
    fail: (reference: string, reason = 'APPROVAL_REJECTED') => settle(reference, 'FAILED', reason, 1),
    /**
     * The dashboard's "resend callback": how duplicates happen in real life. `claimedStatus` makes
     * the webhook say another status than the transaction has (a FAILED arriving after the
     * SUCCESSFUL, out of order, or a lie): the app must trust only its re-read of the status.
     */
    resendWebhook(reference: string, claimedStatus?: SimStatus): boolean {
      const transaction = transactions.get(reference);
      if (transaction === undefined) return false;
      if (claimedStatus === undefined || claimedStatus === transaction.status) {
        track(deliver(transaction, 1));
        return true;
      }
      const claimed = { ...transaction, status: claimedStatus };
      track(deliver(claimed, 1).then(() => void (transaction.webhooksSent = claimed.webhooksSent)));
      return true;
    },
    /** Resolves when every webhook already started has been delivered (or has failed). */
    async drain(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    reset(): void {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      transactions.clear();
      byExternalReference.clear();
      webhookLog.length = 0;
      Object.assign(balances, options.initialBalance);
    },
    async close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;

/** Posts (or GETs) one webhook with a short timeout; the answer is recorded, never retried. */
export async function sendHttpWebhook(
  reference: string,
  url: string,
  method: 'GET' | 'POST' | 'PUT',
  payload: Record<string, unknown>,
): Promise<WebhookDelivery> {
  const at = new Date().toISOString();
  let target = url;
  let body: string | undefined;
  if (method === 'GET') {
    const withQuery = new URL(url);
    for (const [name, value] of Object.entries(payload)) withQuery.searchParams.set(name, String(value));
    target = withQuery.toString();
  } else {
    body = JSON.stringify(payload);
  }
  try {
    // node:http over a keep-alive pool: the simulators stand in for a remote provider on the
    // same machine, so each webhook should cost them as little CPU as it can.
    const response = await sendHttp({
      method,
      url: target,
      body,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      timeoutMs: 5_000,
      redirect: 'return',
    });
    return { reference, url, method, at, outcome: response.status };
  } catch (error) {
    return { reference, url, method, at, outcome: (error as Error).name };
  }
}
