import { createSimServer, type SimRequest, type SimResponse } from './server.js';

/**
 * An in-process simulator of Flutterwave's v3 API for card funding (development and tests only),
 * speaking the paths our adapter uses (POST /v3/payments, GET /v3/transactions/{id}/verify,
 * GET /v3/transactions/verify_by_reference) plus the hosted checkout a payer would see, reduced to
 * JSON: POST /checkout/{tx_ref} {cardNumber} and, for a 3-D Secure card, POST /checkout/{tx_ref}/3ds
 * {otp}. A final status is sent to our webhook with the `verif-hash` header.
 *
 * Magic card numbers (ours, in the spirit of the providers' test cards) decide the outcome.
 * The control API (`/_control/webhooks`) makes webhooks duplicate, arrive out of order, or not at all;
 * `/_control/outage` makes the API answer 503s or non-JSON.
 *
 * Refunds (POST /v3/transactions/{id}/refund, never more than what is left of the payment) and
 * chargebacks (GET /v3/chargebacks?flw_ref=) as Flutterwave's v3 API documents them; a chargeback is
 * raised or moved on by the issuing bank, here `raiseChargeback()` or POST /_control/chargebacks
 * {txRef, amountMinor?, status}, and announced to our webhook (a hint: we read the list back).
 */

export const FLUTTERWAVE_SIMULATOR_CREDENTIALS = {
  secretKey: 'FLWSECK_TEST-simulator-secret-key-X',
  webhookHash: 'simulator-flutterwave-verif-hash',
} as const;

export const MAGIC_CARDS = {
  /** Paid at once. */
  succeed: '4242424242424242',
  /** Asks a 3-D Secure challenge; OTP 12345 pays, anything else fails. */
  challenge: '4000000000003220',
  /** Declined by the issuer (insufficient funds). */
  decline: '4000000000000002',
  /** Paid, but the provider reports half the amount (a provider whose status we must not trust blindly). */
  short: '4000000000000101',
  /** Paid, but in another currency than requested. */
  otherCurrency: '4000000000000119',
} as const;

export const CHALLENGE_OTP = '12345';
/** Flutterwave's international card fee as the simulator charges it: 3.8 %, rounded half up. */
const FEE_PER_MILLE = 38n;
/** Transactions per page of the list endpoint. */
const PAGE_SIZE = 10;

export type WebhookMode = 'normal' | 'duplicate' | 'out_of_order' | 'none';
/** The API (not the hosted page) failing: 503s, or 200s whose body is not JSON. */
export type CardOutageMode = 'none' | 'http_503' | 'garbage';

interface SimTransaction {
  id: number;
  txRef: string;
  amountMinor: bigint;
  currency: string;
  status: 'pending' | 'successful' | 'failed';
  reportedMinor: bigint;
  reportedCurrency: string;
  challenge: boolean;
  processorResponse: string;
  createdAt: string;
  refundedMinor: bigint;
  chargebacks: SimChargeback[];
}

export type SimChargebackStatus = 'pending' | 'accepted' | 'declined' | 'won' | 'lost';

interface SimChargeback {
  id: number;
  amountMinor: bigint;
  status: SimChargebackStatus;
  createdAt: string;
}

export interface FlutterwaveSimulatorOptions {
  secretKey: string;
  webhookHash: string;
  /** Our webhook URL (`…/v1/webhooks/flutterwave`); unset sends none. */
  webhookUrl?: string;
  maxTransactions?: number;
}

const major = (minor: bigint): number => Number(minor) / 100;

export function createFlutterwaveSimulator(options: FlutterwaveSimulatorOptions) {
  const byRef = new Map<string, SimTransaction>();
  const byId = new Map<number, SimTransaction>();
  const maxTransactions = options.maxTransactions ?? 100_000;
  const inFlight = new Set<Promise<void>>();
  let nextId = 4_000_000;
  let nextRefundId = 7_000_000;
  /** Refunds as GET /v3/refunds lists them (issue #28: reconciliation), oldest first, bounded like transactions. */
  const refunds: { id: number; txId: number; amountMinor: bigint; createdAt: string }[] = [];
  let nextChargebackId = 9_000_000;
  let webhookMode: WebhookMode = 'normal';
  let outage: CardOutageMode = 'none';
  let baseUrl = '';
  /** XAF per unit for the transfer-rates endpoint (Flutterwave's rates move a few times a day). */
  const rates = new Map<string, string>([
    ['USD', '605.25'],
    ['EUR', '655.957'],
  ]);

  const json = (status: number, body: unknown): SimResponse => ({ status, json: body });
  const error = (status: number, message: string): SimResponse =>
    json(status, { status: 'error', message, data: null });

  function view(tx: SimTransaction) {
    const feeMinor = (tx.reportedMinor * FEE_PER_MILLE + 500n) / 1000n;
    return {
      id: tx.id,
      tx_ref: tx.txRef,
      flw_ref: `FLW-SIM-${tx.id}`,
      amount: major(tx.reportedMinor),
      charged_amount: major(tx.reportedMinor),
      app_fee: tx.status === 'successful' ? major(feeMinor) : 0,
      currency: tx.reportedCurrency,
      status: tx.status,
      processor_response: tx.processorResponse,
      payment_type: 'card',
      created_at: tx.createdAt,
    };
  }

  function post(payload: unknown): void {
    if (options.webhookUrl === undefined) return;
    const delivery = fetch(options.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'verif-hash': options.webhookHash },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(10_000),
    })
      .then(() => undefined)
      .catch(() => undefined);
    const tracked = delivery.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  function announce(tx: SimTransaction): void {
    deliver(
      { event: 'charge.completed', data: view(tx) },
      { event: 'charge.completed', data: { ...view(tx), status: 'pending' } },
    );
  }

  function deliver(event: unknown, stale: unknown): void {
    switch (webhookMode) {
      case 'none':
        return;
      case 'duplicate':
        post(event);
        post(event);
        return;
      case 'out_of_order':
        post(event);
        post(stale);
        return;
      default:
        post(event);
    }
  }

  function authorised(request: SimRequest): boolean {
    return request.headers.authorization === `Bearer ${options.secretKey}`;
  }

  function createPayment(body: Record<string, unknown>): SimResponse {
    const { tx_ref: txRef, amount, currency } = body;
    if (typeof txRef !== 'string' || txRef.length === 0 || txRef.length > 100)
      return error(400, 'tx_ref is required');
    if (typeof amount !== 'number' || !(amount > 0)) return error(400, 'amount is required');
    if (currency !== 'USD' && currency !== 'EUR') return error(400, 'currency is not supported');
    const customer = body.customer as { email?: unknown } | undefined;
    if (typeof customer?.email !== 'string') return error(400, 'customer.email is required');
    const amountMinor = BigInt(Math.round(amount * 100));
    let tx = byRef.get(txRef);
    if (tx === undefined) {
      if (byRef.size >= maxTransactions) {
        const oldest = byRef.values().next().value as SimTransaction;
        byRef.delete(oldest.txRef);
        byId.delete(oldest.id);
      }
      tx = {
        id: nextId++,
        txRef,
        amountMinor,
        currency,
        status: 'pending',
        reportedMinor: amountMinor,
        reportedCurrency: currency,
        challenge: false,
        processorResponse: 'Pending',
        createdAt: new Date().toISOString(),
        refundedMinor: 0n,
        chargebacks: [],
      };
      byRef.set(txRef, tx);
      byId.set(tx.id, tx);
    }
    return json(200, {
      status: 'success',
      message: 'Hosted Link',
      data: { link: `${baseUrl}/checkout/${encodeURIComponent(txRef)}` },
    });
  }

  function settle(tx: SimTransaction, status: 'successful' | 'failed', processorResponse: string): void {
    tx.status = status;
    tx.processorResponse = processorResponse;
    announce(tx);
  }

  function pay(tx: SimTransaction, cardNumber: unknown): SimResponse {
    if (tx.status !== 'pending' || tx.challenge) return error(409, 'transaction already processed');
    switch (cardNumber) {
      case MAGIC_CARDS.succeed:
        settle(tx, 'successful', 'Approved');
        break;
      case MAGIC_CARDS.challenge:
        tx.challenge = true;
        return json(200, {
          status: 'success',
          data: { status: 'pending', auth_mode: '3DS', challenge: `${baseUrl}/checkout/${tx.txRef}/3ds` },
        });
      case MAGIC_CARDS.decline:
        settle(tx, 'failed', 'Insufficient funds');
        break;
      case MAGIC_CARDS.short:
        tx.reportedMinor = tx.amountMinor / 2n;
        settle(tx, 'successful', 'Approved');
        break;
      case MAGIC_CARDS.otherCurrency:
        tx.reportedCurrency = tx.currency === 'USD' ? 'EUR' : 'USD';
        settle(tx, 'successful', 'Approved');
        break;
      default:
        settle(tx, 'failed', 'Do not honour');
    }
    return json(200, { status: 'success', data: { status: tx.status } });
  }

  function challenge(tx: SimTransaction, otp: unknown): SimResponse {
    if (!tx.challenge || tx.status !== 'pending') return error(409, 'no challenge pending');
    tx.challenge = false;
    if (otp === CHALLENGE_OTP) settle(tx, 'successful', 'Approved');
    else settle(tx, 'failed', '3DS authentication failed');
    return json(200, { status: 'success', data: { status: tx.status } });
  }

  function verified(tx: SimTransaction | undefined): SimResponse {
    if (tx === undefined) return error(404, 'No transaction was found for this id');
    return json(200, { status: 'success', message: 'Transaction fetched successfully', data: view(tx) });
  }

  /**
   * GET /v3/transfers/rates?amount=&destination_currency=&source_currency=XAF: the XAF (source)
   * amount that buys `amount` of the destination currency, as Flutterwave documents it.
   */
  function rateOf(query: URLSearchParams): SimResponse {
    const destination = query.get('destination_currency') ?? '';
    const source = query.get('source_currency');
    const amount = Number(query.get('amount'));
    const rate = rates.get(destination);
    if (source !== 'XAF' || rate === undefined || !(amount > 0) || !Number.isFinite(amount))
      return error(400, 'Unable to fetch rates at the moment');
    return json(200, {
      status: 'success',
      message: 'Transfer amount fetched',
      data: {
        rate: Number(rate),
        source: { currency: 'XAF', amount: Number((amount * Number(rate)).toFixed(4)) },
        destination: { currency: destination, amount },
      },
    });
  }

  /** GET /v3/transactions?from=YYYY-MM-DD&to=YYYY-MM-DD&page=N: 10 a page, oldest first, whole days. */
  function list(query: URLSearchParams): SimResponse {
    const from = query.get('from') ?? '0000-01-01';
    const to = query.get('to') ?? '9999-12-31';
    const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
    const inRange = [...byId.values()].filter((tx) => {
      const day = tx.createdAt.slice(0, 10);
      return day >= from && day <= to;
    });
    const totalPages = Math.max(1, Math.ceil(inRange.length / PAGE_SIZE));
    return json(200, {
      status: 'success',
      message: 'Transactions fetched',
      meta: { page_info: { total: inRange.length, current_page: page, total_pages: totalPages } },
      data: inRange.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map(view),
    });
  }

  function chargebackView(tx: SimTransaction, chargeback: SimChargeback) {
    return {
      id: chargeback.id,
      amount: major(chargeback.amountMinor),
      flw_ref: `FLW-SIM-${tx.id}`,
      tx_ref: tx.txRef,
      status: chargeback.status,
      stage: chargeback.status === 'pending' ? 'new' : 'closed',
      created_at: chargeback.createdAt,
    };
  }

  /** POST /v3/transactions/{id}/refund {amount}: at most what is left of a successful payment. */
  function refund(tx: SimTransaction | undefined, body: Record<string, unknown>): SimResponse {
    if (tx === undefined) return error(404, 'No transaction was found for this id');
    if (tx.status !== 'successful') return error(400, 'Only successful transactions can be refunded');
    const amount = body.amount;
    if (typeof amount !== 'number' || !(amount > 0) || !Number.isFinite(amount))
      return error(400, 'amount is required');
    const amountMinor = BigInt(Math.round(amount * 100));
    if (tx.refundedMinor + amountMinor > tx.reportedMinor)
      return error(400, 'Refund amount cannot exceed the transaction amount');
    tx.refundedMinor += amountMinor;
    const id = nextRefundId++;
    refunds.push({ id, txId: tx.id, amountMinor, createdAt: new Date().toISOString() });
    if (refunds.length > maxTransactions) refunds.shift();
    return json(200, {
      status: 'success',
      message: 'Transaction refund initiated',
      data: {
        id,
        tx_id: tx.id,
        flw_ref: `URF_SIM_${id}`,
        amount_refunded: major(amountMinor),
        status: 'completed',
        destination: 'card',
        created_at: new Date().toISOString(),
      },
    });
  }

  function chargebacksOf(query: URLSearchParams): SimResponse {
    if (query.get('flw_ref') === null) return chargebacksBetween(query);
    const flwRef = query.get('flw_ref') ?? '';
    const match = /^FLW-SIM-(\d{1,20})$/.exec(flwRef);
    const tx = match === null ? undefined : byId.get(Number(match[1]));
    const data = tx === undefined ? [] : tx.chargebacks.map((chargeback) => chargebackView(tx, chargeback));
    return json(200, { status: 'success', message: 'Chargebacks fetched', data });
  }

  /** GET /v3/refunds?from=YYYY-MM-DD&to=YYYY-MM-DD&page=N: refunds made in those days, 10 a page. */
  function refundsBetween(query: URLSearchParams): SimResponse {
    const from = query.get('from') ?? '0000-01-01';
    const to = query.get('to') ?? '9999-12-31';
    const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
    const inRange = refunds.filter(
      (item) => item.createdAt.slice(0, 10) >= from && item.createdAt.slice(0, 10) <= to,
    );
    const totalPages = Math.max(1, Math.ceil(inRange.length / PAGE_SIZE));
    return json(200, {
      status: 'success',
      message: 'Refunds fetched',
      meta: { page_info: { total: inRange.length, current_page: page, total_pages: totalPages } },
      data: inRange.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((item) => ({
        id: item.id,
        tx_id: item.txId,
        flw_ref: `URF_SIM_${item.id}`,
        amount_refunded: major(item.amountMinor),
        status: 'completed',
        destination: 'card',
        created_at: item.createdAt,
      })),
    });
  }

  /** GET /v3/chargebacks?from=YYYY-MM-DD&to=YYYY-MM-DD&page=N: raised in those days, 10 a page. */
  function chargebacksBetween(query: URLSearchParams): SimResponse {
    const from = query.get('from') ?? '0000-01-01';
    const to = query.get('to') ?? '9999-12-31';
    const page = Math.max(1, Number(query.get('page') ?? '1') || 1);
    const inRange = [...byId.values()].flatMap((tx) =>
      tx.chargebacks
        .filter(
          (chargeback) =>
            chargeback.createdAt.slice(0, 10) >= from && chargeback.createdAt.slice(0, 10) <= to,
        )
        .map((chargeback) => chargebackView(tx, chargeback)),
    );
    const totalPages = Math.max(1, Math.ceil(inRange.length / PAGE_SIZE));
    return json(200, {
      status: 'success',
      message: 'Chargebacks fetched',
      meta: { page_info: { total: inRange.length, current_page: page, total_pages: totalPages } },
      data: inRange.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE),
    });
  }

  /**
   * The issuing bank raises a chargeback (or moves one on: `id` of an existing one): the amount
   * defaults to the whole payment; the change is announced to our webhook like Flutterwave's.
   */
  function raiseChargeback(
    txRef: string,
    change: { status: SimChargebackStatus; amountMinor?: bigint; id?: number },
  ): { id: number } {
    const tx = byRef.get(txRef);
    if (tx === undefined || tx.status !== 'successful') throw new Error(`no successful payment ${txRef}`);
    let chargeback =
      change.id === undefined ? undefined : tx.chargebacks.find((item) => item.id === change.id);
    if (chargeback === undefined) {
      chargeback = {
        id: nextChargebackId++,
        amountMinor: change.amountMinor ?? tx.reportedMinor,
        status: change.status,
        createdAt: new Date().toISOString(),
      };
      tx.chargebacks.push(chargeback);
    } else chargeback.status = change.status;
    const data = chargebackView(tx, chargeback);
    deliver(
      { event: 'chargeback.updated', data },
      { event: 'chargeback.updated', data: { ...data, status: 'pending' } },
    );
    return { id: chargeback.id };
  }

  function handle(request: SimRequest): SimResponse {
    const { method, path } = request;
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (method === 'POST' && path === '/_control/webhooks') {
      const mode = body.mode;
      if (mode !== 'normal' && mode !== 'duplicate' && mode !== 'out_of_order' && mode !== 'none')
        return error(400, 'mode');
      webhookMode = mode;
      return json(200, { mode });
    }
    if (method === 'POST' && path === '/_control/outage') {
      const mode = body.mode;
      if (mode !== 'none' && mode !== 'http_503' && mode !== 'garbage') return error(400, 'mode');
      outage = mode;
      return json(200, { mode });
    }
    if (method === 'POST' && path === '/_control/chargebacks') {
      const { txRef, status, amountMinor, id } = body;
      const statuses = ['pending', 'accepted', 'declined', 'won', 'lost'];
      if (typeof txRef !== 'string' || typeof status !== 'string' || !statuses.includes(status))
        return error(400, 'txRef and status');
      try {
        return json(
          200,
          raiseChargeback(txRef, {
            status: status as SimChargebackStatus,
            ...(typeof amountMinor === 'number' && amountMinor > 0
              ? { amountMinor: BigInt(amountMinor) }
              : {}),
            ...(typeof id === 'number' ? { id } : {}),
          }),
        );
      } catch {
        return error(404, 'no successful payment with this txRef');
      }
    }
    const checkout = /^\/checkout\/([^/]+)(\/3ds)?$/.exec(path);
    if (method === 'POST' && checkout !== null) {
      const tx = byRef.get(decodeURIComponent(checkout[1]!));
      if (tx === undefined) return error(404, 'unknown checkout');
      return checkout[2] === undefined ? pay(tx, body.cardNumber) : challenge(tx, body.otp);
    }
    if (!path.startsWith('/v3/')) return error(404, 'not found');
    if (outage === 'http_503') return error(503, 'Service unavailable');
    if (outage === 'garbage') return { status: 200, text: '<html>gateway</html>', contentType: 'text/html' };
    if (!authorised(request)) return error(401, 'Invalid authorization key');
    if (method === 'POST' && path === '/v3/payments') return createPayment(body);
    if (method === 'GET' && path === '/v3/transfers/rates') return rateOf(request.query);
    if (method === 'GET' && path === '/v3/transactions') return list(request.query);
    if (method === 'GET' && path === '/v3/transactions/verify_by_reference')
      return verified(byRef.get(request.query.get('tx_ref') ?? ''));
    if (method === 'GET' && path === '/v3/chargebacks') return chargebacksOf(request.query);
    if (method === 'GET' && path === '/v3/refunds') return refundsBetween(request.query);
    const refundPath = /^\/v3\/transactions\/(\d{1,20})\/refund$/.exec(path);
    if (method === 'POST' && refundPath !== null) return refund(byId.get(Number(refundPath[1])), body);
    const verify = /^\/v3\/transactions\/(\d{1,20})\/verify$/.exec(path);
    if (method === 'GET' && verify !== null) return verified(byId.get(Number(verify[1])));
    return error(404, 'not found');
  }

  const server = createSimServer(handle);
  return {
    async listen(port = 0, host = '127.0.0.1'): Promise<string> {
      baseUrl = await server.listen(port, host);
      return baseUrl;
    },
    get url(): string {
      return baseUrl;
    },
    setWebhookMode(mode: WebhookMode): void {
      webhookMode = mode;
    },
    setOutage(mode: CardOutageMode): void {
      outage = mode;
    },
    /** Sets the XAF per unit the transfer-rates endpoint answers for `currency`. */
    setRate(currency: 'USD' | 'EUR', xafPerUnit: string): void {
      rates.set(currency, xafPerUnit);
    },
    /** The payer's side of the hosted page: pays a checkout with a (magic) card number. */
    transaction(txRef: string) {
      const tx = byRef.get(txRef);
      return tx === undefined ? undefined : view(tx);
    },
    raiseChargeback,
    /**
     * The provider's record of a settled payment changes afterwards (an adjustment on its side):
     * its list and its verify answer report `reportedMinor` from now on. For reconciliation tests.
     */
    restate(txRef: string, reportedMinor: bigint): void {
      const tx = byRef.get(txRef);
      if (tx === undefined) throw new Error(`no simulated transaction ${txRef}`);
      tx.reportedMinor = reportedMinor;
    },
    /** What the simulator has refunded of a payment, in minor units. */
    refundedMinor(txRef: string): bigint | undefined {
      return byRef.get(txRef)?.refundedMinor;
    },
    async drainWebhooks(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async close(): Promise<void> {
      await Promise.all([...inFlight]);
      await server.close();
    },
  };
}

export type FlutterwaveSimulator = ReturnType<typeof createFlutterwaveSimulator>;
