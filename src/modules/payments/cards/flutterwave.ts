import { timingSafeEqual, createHash } from 'node:crypto';
import { Decimal } from 'decimal.js';

/**
 * Flutterwave's v3 HTTP API (developer.flutterwave.com), the part card funding uses:
 *   POST /v3/payments                                  Standard checkout: a hosted payment link for our tx_ref
 *   GET  /v3/transactions/{id}/verify                  a transaction's status, amount and currency
 *   GET  /v3/transactions/verify_by_reference?tx_ref=  the same, found by our tx_ref
 *   GET  /v3/transactions?from=&to=&page=              the transactions of a period (reconciliation), paged
 *   POST /v3/transactions/{id}/refund {amount}         refund (part of) a transaction to the payer's card
 *   GET  /v3/chargebacks?flw_ref=                      the chargebacks raised against a transaction
 *   GET  /v3/chargebacks?from=&to=&page=               the chargebacks raised in a period (the sweep)
 * Webhooks carry the `verif-hash` header: the secret hash set on the dashboard, compared here in
 * constant time. A webhook is a hint only: the status is always read back through verify.
 * Card numbers never reach us: the payer types them on Flutterwave's hosted page.
 */

export type CardCurrency = 'USD' | 'EUR';

export interface CheckoutRequest {
  txRef: string;
  amountMinor: bigint;
  currency: CardCurrency;
  redirectUrl: string;
  /** Flutterwave requires a customer e-mail; we pass a pseudonymous one (no PII to the provider beyond need). */
  customerEmail: string;
  title: string;
}

export interface VerifiedTransaction {
  /** Flutterwave's numeric transaction id, as a string. */
  id: string;
  txRef: string;
  status: 'successful' | 'failed' | 'pending';
  amountMinor: bigint;
  currency: string;
  /** The processing fee Flutterwave keeps (`app_fee`), in minor units of `currency`. */
  feeMinor: bigint;
  processorResponse: string | null;
  /** Flutterwave's own reference of the transaction (`flw_ref`), which its chargebacks name. */
  flwRef: string | null;
}

/** A chargeback as Flutterwave lists it: `accepted` (by us) and `lost` (arbitration) take the money back for good. */
export interface ProviderChargeback {
  id: string;
  amountMinor: bigint;
  status: 'pending' | 'accepted' | 'declined' | 'won' | 'lost';
}

/** A refund Flutterwave took: `completed` or `pending` (on its way to the card) both mean the money left us. */
export interface ProviderRefund {
  id: string;
  amountMinor: bigint;
  status: 'completed' | 'pending';
}

/**
 * Money that went back to a card, as the provider's lists show it (reconciliation, issue #28): a
 * chargeback (`GET /v3/chargebacks?from&to`, naming the payment's `tx_ref`) or a refund
 * (`GET /v3/refunds?from&to`, naming the payment's transaction id). Amounts in minor units of the
 * payment's currency (USD and EUR both have two decimals).
 */
export interface ListedReversal {
  kind: 'chargeback' | 'refund';
  id: string;
  amountMinor: bigint;
  /** The provider's status: a chargeback's (`pending`, `accepted`, …), a refund's (`completed`, …). */
  status: string;
  /** The payment's `tx_ref` (chargebacks) or null. */
  txRef: string | null;
  /** The payment's transaction id (refunds) or null. */
  transactionId: string | null;
  createdAt: Date;
}

/** A transaction as the provider's list shows it, with when it was made. */
export interface ListedTransaction extends VerifiedTransaction {
  createdAt: Date;
}

export interface CardProvider {
  readonly name: 'flutterwave';
  /** Every transaction made in the days [from, to] (whole days, as the API filters), for reconciliation. */
  listTransactions(range: { from: Date; to: Date }): Promise<ListedTransaction[]>;
  createCheckout(request: CheckoutRequest): Promise<{ link: string }>;
  verify(transactionId: string): Promise<VerifiedTransaction | null>;
  verifyByReference(txRef: string): Promise<VerifiedTransaction | null>;
  /** Refunds `amountMinor` of a successful transaction to the card; CardProviderRefused when Flutterwave says no. */
  refund(transactionId: string, amountMinor: bigint, currency: string): Promise<ProviderRefund>;
  /** The chargebacks raised against a transaction (by its `flw_ref`). */
  chargebacks(flwRef: string, currency: string): Promise<ProviderChargeback[]>;
  /**
   * The `tx_ref`s of the transactions with a chargeback raised in the days [from, to] (whole days,
   * every page read): the sweep re-reads each through `chargebacks`, so a missed webhook is caught.
   */
  chargebackReferences(range: { from: Date; to: Date }): Promise<string[]>;
  /** Chargebacks raised and refunds made in the days [from, to] (whole days, every page), for reconciliation. */
  listReversals(range: { from: Date; to: Date }): Promise<ListedReversal[]>;
  /** Whether a webhook's headers carry our secret hash. */
  webhookAuthentic(headers: Record<string, string | string[] | undefined>): boolean;
}

/** The provider could not be reached or did not answer in time: nothing is known. */
export class CardProviderUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CardProviderUnavailable';
  }
}

/** The provider answered something we cannot use (a 5xx, a malformed body, a refusal of our request). */
export class CardProviderBadResponse extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'CardProviderBadResponse';
  }
}

/** The provider answered our request with a refusal (4xx): it did nothing. */
export class CardProviderRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'CardProviderRefused';
  }
}

export interface FlutterwaveOptions {
  baseUrl: string;
  secretKey: string;
  webhookHash: string;
  timeoutMs: number;
}

const EXPONENT: Readonly<Record<string, number>> = { USD: 2, EUR: 2, XAF: 0, NGN: 2, GBP: 2 };
const MAX_AMOUNT_MINOR = 10n ** 12n;

/** Minor units → Flutterwave's decimal amount (major units), exactly. */
export function toMajor(amountMinor: bigint, currency: string): number {
  const exponent = EXPONENT[currency] ?? 2;
  return new Decimal(amountMinor.toString()).div(new Decimal(10).pow(exponent)).toNumber();
}

/** Flutterwave's decimal amount → minor units; null when it has more decimals than the currency. */
export function toMinor(amount: unknown, currency: string): bigint | null {
  if (typeof amount !== 'number' && typeof amount !== 'string') return null;
  let value: Decimal;
  try {
    value = new Decimal(amount);
  } catch {
    return null;
  }
  const minor = value.mul(new Decimal(10).pow(EXPONENT[currency] ?? 2));
  if (!minor.isFinite() || !minor.isInteger() || minor.isNegative()) return null;
  const result = BigInt(minor.toFixed(0));
  return result > MAX_AMOUNT_MINOR ? null : result;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function createFlutterwaveProvider(options: FlutterwaveOptions): CardProvider {
  const base = options.baseUrl.replace(/\/+$/, '');
  const expectedHash = digest(options.webhookHash);

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.secretKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new CardProviderUnavailable(`flutterwave ${method} ${path.split('?')[0]} unreachable`, {
        cause: error,
      });
    }
    const text = await response.text().catch(() => '');
    let json: unknown;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new CardProviderBadResponse(
        `flutterwave answered ${response.status} with a non-JSON body`,
        response.status,
      );
    }
    if (response.status >= 500)
      throw new CardProviderBadResponse(`flutterwave answered ${response.status}`, response.status);
    return { status: response.status, json };
  }

  function transactionOf(json: unknown): VerifiedTransaction {
    const data = (json as { data?: Record<string, unknown> } | undefined)?.data;
    if (data === undefined || data === null || typeof data !== 'object')
      throw new CardProviderBadResponse('flutterwave verify: no data', 200);
    const currency = typeof data.currency === 'string' ? data.currency : '';
    const amountMinor = toMinor(data.amount, currency);
    const feeMinor =
      data.app_fee === undefined || data.app_fee === null ? 0n : toMinor(data.app_fee, currency);
    const status = data.status;
    if (
      (typeof data.id !== 'number' && typeof data.id !== 'string') ||
      typeof data.tx_ref !== 'string' ||
      amountMinor === null ||
      feeMinor === null ||
      (status !== 'successful' && status !== 'failed' && status !== 'pending')
    )
      throw new CardProviderBadResponse('flutterwave verify: unreadable transaction', 200);
    return {
      id: String(data.id),
      txRef: data.tx_ref,
      status,
      amountMinor,
      currency,
      feeMinor,
      processorResponse: typeof data.processor_response === 'string' ? data.processor_response : null,
      flwRef: typeof data.flw_ref === 'string' && data.flw_ref.length > 0 ? data.flw_ref : null,
    };
  }

  const CHARGEBACK_STATUSES: ReadonlySet<string> = new Set([
    'pending',
    'accepted',
    'declined',
    'won',
    'lost',
  ]);

  function chargebackOf(data: unknown, currency: string): ProviderChargeback {
    const item = (data ?? {}) as Record<string, unknown>;
    const amountMinor = toMinor(item.amount, currency);
    const status = typeof item.status === 'string' ? item.status.toLowerCase() : '';
    if (
      (typeof item.id !== 'number' && typeof item.id !== 'string') ||
      amountMinor === null ||
      amountMinor === 0n ||
      !CHARGEBACK_STATUSES.has(status)
    )
      throw new CardProviderBadResponse('flutterwave chargebacks: unreadable chargeback', 200);
    return { id: String(item.id), amountMinor, status: status as ProviderChargeback['status'] };
  }

  async function refund(
    transactionId: string,
    amountMinor: bigint,
    currency: string,
  ): Promise<ProviderRefund> {
    if (!/^\d{1,20}$/.test(transactionId))
      throw new CardProviderRefused('flutterwave refund: not a transaction id', 400);
    const { status, json } = await call('POST', `/v3/transactions/${transactionId}/refund`, {
      amount: toMajor(amountMinor, currency),
    });
    const data = (json as { data?: Record<string, unknown>; message?: unknown } | undefined)?.data;
    if (status >= 400 && status < 500)
      throw new CardProviderRefused(`flutterwave refused the refund (${status})`, status);
    const refunded = toMinor(data?.amount_refunded, currency);
    const state = data?.status;
    if (
      status !== 200 ||
      (typeof data?.id !== 'number' && typeof data?.id !== 'string') ||
      refunded === null ||
      (state !== 'completed' && state !== 'pending')
    )
      throw new CardProviderBadResponse(`flutterwave refund answered ${status}`, status);
    return { id: String(data.id), amountMinor: refunded, status: state };
  }

  async function chargebacks(flwRef: string, currency: string): Promise<ProviderChargeback[]> {
    const { status, json } = await call('GET', `/v3/chargebacks?flw_ref=${encodeURIComponent(flwRef)}`);
    if (status === 404) return [];
    if (status !== 200)
      throw new CardProviderBadResponse(`flutterwave chargebacks answered ${status}`, status);
    const data = (json as { data?: unknown } | undefined)?.data;
    if (!Array.isArray(data)) throw new CardProviderBadResponse('flutterwave chargebacks: no data', status);
    if (data.length > 100) throw new CardProviderBadResponse('flutterwave chargebacks: too many', status);
    return data.map((item) => chargebackOf(item, currency));
  }

  async function read(path: string): Promise<VerifiedTransaction | null> {
    const { status, json } = await call('GET', path);
    if (status === 404 || status === 400) return null; // "No transaction was found"
    if (status !== 200) throw new CardProviderBadResponse(`flutterwave verify answered ${status}`, status);
    return transactionOf(json);
  }

  /** At most this many pages are read (Flutterwave pages its list): a longer period is refused. */
  const MAX_PAGES = 2_000;

  async function listTransactions(range: { from: Date; to: Date }): Promise<ListedTransaction[]> {
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const listed: ListedTransaction[] = [];
    for (let page = 1; ; page += 1) {
      const { status, json } = await call(
        'GET',
        `/v3/transactions?from=${day(range.from)}&to=${day(range.to)}&page=${page}`,
      );
      if (status !== 200)
        throw new CardProviderBadResponse(`flutterwave transactions answered ${status}`, status);
      const body = json as { data?: unknown; meta?: { page_info?: { total_pages?: unknown } } } | undefined;
      if (!Array.isArray(body?.data))
        throw new CardProviderBadResponse('flutterwave transactions: no data', status);
      for (const data of body.data as unknown[]) {
        const createdAt = new Date(String((data as { created_at?: unknown } | null)?.created_at ?? ''));
        if (Number.isNaN(createdAt.getTime()))
          throw new CardProviderBadResponse('flutterwave transactions: a transaction without a date', status);
        listed.push({ ...transactionOf({ data }), createdAt });
      }
      const totalPages = body.meta?.page_info?.total_pages;
      if (typeof totalPages !== 'number' || page >= totalPages) return listed;
      if (page >= MAX_PAGES)
        throw new CardProviderBadResponse('flutterwave transactions: too many pages', status);
    }
  }

  /** Pages of the chargeback list read at most (10 a page in the simulator, more at Flutterwave). */
  const MAX_CHARGEBACK_PAGES = 200;

  async function chargebackReferences(range: { from: Date; to: Date }): Promise<string[]> {
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const references = new Set<string>();
    for (let page = 1; ; page += 1) {
      const { status, json } = await call(
        'GET',
        `/v3/chargebacks?from=${day(range.from)}&to=${day(range.to)}&page=${page}`,
      );
      if (status !== 200)
        throw new CardProviderBadResponse(`flutterwave chargebacks answered ${status}`, status);
      const body = json as { data?: unknown; meta?: { page_info?: { total_pages?: unknown } } } | undefined;
      if (!Array.isArray(body?.data))
        throw new CardProviderBadResponse('flutterwave chargebacks: no data', status);
      for (const data of body.data as unknown[]) {
        const txRef = (data as { tx_ref?: unknown } | null)?.tx_ref;
        if (typeof txRef === 'string' && txRef.length > 0 && txRef.length <= 100) references.add(txRef);
      }
      const totalPages = body.meta?.page_info?.total_pages;
      if (typeof totalPages !== 'number' || page >= totalPages) return [...references];
      if (page >= MAX_CHARGEBACK_PAGES)
        throw new CardProviderBadResponse('flutterwave chargebacks: too many pages', status);
    }
  }

  /** Reads every page of a dated list (`/v3/chargebacks`, `/v3/refunds`), at most `maxPages`. */
  async function pages(path: string, range: { from: Date; to: Date }, maxPages: number): Promise<unknown[]> {
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const items: unknown[] = [];
    for (let page = 1; ; page += 1) {
      const { status, json } = await call(
        'GET',
        `${path}?from=${day(range.from)}&to=${day(range.to)}&page=${page}`,
      );
      if (status !== 200) throw new CardProviderBadResponse(`flutterwave ${path} answered ${status}`, status);
      const body = json as { data?: unknown; meta?: { page_info?: { total_pages?: unknown } } } | undefined;
      if (!Array.isArray(body?.data))
        throw new CardProviderBadResponse(`flutterwave ${path}: no data`, status);
      items.push(...(body.data as unknown[]));
      const totalPages = body.meta?.page_info?.total_pages;
      if (typeof totalPages !== 'number' || page >= totalPages) return items;
      if (page >= maxPages) throw new CardProviderBadResponse(`flutterwave ${path}: too many pages`, status);
    }
  }

  async function listReversals(range: { from: Date; to: Date }): Promise<ListedReversal[]> {
    const dated = (value: unknown, what: string): Date => {
      const at = new Date(String(value ?? ''));
      if (Number.isNaN(at.getTime())) throw new CardProviderBadResponse(`flutterwave ${what}: no date`, 200);
      return at;
    };
    const chargebacks = (await pages('/v3/chargebacks', range, MAX_CHARGEBACK_PAGES)).map(
      (data): ListedReversal => {
        const item = (data ?? {}) as Record<string, unknown>;
        const parsed = chargebackOf(data, 'USD');
        return {
          kind: 'chargeback',
          id: parsed.id,
          amountMinor: parsed.amountMinor,
          status: parsed.status,
          txRef: typeof item.tx_ref === 'string' ? item.tx_ref : null,
          transactionId: null,
          createdAt: dated(item.created_at, 'chargebacks'),
        };
      },
    );
    const refunds = (await pages('/v3/refunds', range, MAX_CHARGEBACK_PAGES)).map((data): ListedReversal => {
      const item = (data ?? {}) as Record<string, unknown>;
      const amountMinor = toMinor(item.amount_refunded, 'USD');
      if ((typeof item.id !== 'number' && typeof item.id !== 'string') || amountMinor === null)
        throw new CardProviderBadResponse('flutterwave refunds: unreadable refund', 200);
      return {
        kind: 'refund',
        id: String(item.id),
        amountMinor,
        status: typeof item.status === 'string' ? item.status.toLowerCase() : '',
        txRef: null,
        transactionId:
          typeof item.tx_id === 'number' || typeof item.tx_id === 'string' ? String(item.tx_id) : null,
        createdAt: dated(item.created_at, 'refunds'),
      };
    });
    return [...chargebacks, ...refunds];
  }

  return {
    listReversals,
    name: 'flutterwave',
    listTransactions,
    chargebackReferences,
    async createCheckout(request) {
      const { status, json } = await call('POST', '/v3/payments', {
        tx_ref: request.txRef,
        amount: toMajor(request.amountMinor, request.currency),
        currency: request.currency,
        redirect_url: request.redirectUrl,
        payment_options: 'card',
        customer: { email: request.customerEmail },
        customizations: { title: request.title },
      });
      const link = (json as { data?: { link?: unknown } } | undefined)?.data?.link;
      if (status !== 200 || typeof link !== 'string')
        throw new CardProviderBadResponse(`flutterwave checkout answered ${status}`, status);
      return { link };
    },
    verify: (transactionId) => {
      if (!/^\d{1,20}$/.test(transactionId)) return Promise.resolve(null);
      return read(`/v3/transactions/${transactionId}/verify`);
    },
    verifyByReference: (txRef) =>
      read(`/v3/transactions/verify_by_reference?tx_ref=${encodeURIComponent(txRef)}`),
    refund,
    chargebacks,
    webhookAuthentic(headers) {
      const header = headers['verif-hash'];
      if (typeof header !== 'string' || header.length === 0 || header.length > 512) return false;
      return timingSafeEqual(digest(header), expectedHash);
    },
  };
}
