import { Decimal } from 'decimal.js';

/**
 * Where exchange rates come from (issue #28), behind one port:
 *   configured   a rate from configuration (FX_USD_XAF_RATE), for development and tests;
 *   flutterwave  Flutterwave's documented transfer-rates API (GET /v3/transfers/rates), the same
 *                aggregator as card funding; its simulator answers it with PAYMENT_SIMULATORS.
 * EUR→XAF is the legal CFA franc peg (1 EUR = 655.957 XAF) whatever the source.
 * A rate is XAF per one unit (major) of the source currency, as an exact decimal.
 */

export type FxFrom = 'USD' | 'EUR';
export type FxTo = 'XAF';

export interface FxRate {
  from: FxFrom;
  to: FxTo;
  /** XAF per one unit of `from`, exact. */
  rate: Decimal;
  /** When the source published or answered the rate. */
  at: Date;
  source: string;
}

export interface FxRateSource {
  readonly name: string;
  rate(from: FxFrom, to: FxTo): Promise<FxRate>;
}

/** The rate source cannot answer now (unreachable, 5xx, unusable body): no quote can be given. */
export class FxRateUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FxRateUnavailable';
  }
}

export const EUR_XAF_PEG = new Decimal('655.957');
/** A rate outside this range is refused as unusable (USD/XAF has stayed within 400–800 for decades). */
const MIN_RATE = new Decimal(1);
const MAX_RATE = new Decimal(100_000);

function usable(rate: Decimal): boolean {
  return rate.isFinite() && rate.gte(MIN_RATE) && rate.lte(MAX_RATE);
}

export function configuredRateSource(options: { usdXaf: string; now?: () => Date }): FxRateSource {
  const usd = new Decimal(options.usdXaf);
  if (!usable(usd)) throw new RangeError(`FX_USD_XAF_RATE ${options.usdXaf} is not a usable rate`);
  const now = options.now ?? (() => new Date());
  return {
    name: 'configured',
    rate: (from, to) =>
      Promise.resolve({
        from,
        to,
        rate: from === 'EUR' ? EUR_XAF_PEG : usd,
        at: now(),
        source: from === 'EUR' ? 'peg' : 'configured',
      }),
  };
}

/**
 * Flutterwave's transfer rates: `GET /v3/transfers/rates?amount=A&destination_currency=USD&source_currency=XAF`
 * answers the XAF amount (`data.source.amount`) that buys A USD (`data.destination.amount`). We
 * derive XAF per USD from those two amounts (not from `data.rate`, whose direction the docs
 * describe differently in different places), ask for 1000 units for precision, and keep an
 * answer for `cacheMs` (the provider updates its rates a few times a day).
 */
export function flutterwaveRateSource(options: {
  baseUrl: string;
  secretKey: string;
  timeoutMs: number;
  cacheMs?: number;
  now?: () => Date;
}): FxRateSource {
  const base = options.baseUrl.replace(/\/+$/, '');
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  let cached: { rate: FxRate; until: number } | undefined;

  async function fetchUsd(): Promise<FxRate> {
    const url = `${base}/v3/transfers/rates?amount=1000&destination_currency=USD&source_currency=XAF`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${options.secretKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      throw new FxRateUnavailable('flutterwave rates unreachable', { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.status !== 200) throw new FxRateUnavailable(`flutterwave rates answered ${response.status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FxRateUnavailable('flutterwave rates answered a non-JSON body');
    }
    const data = (body as { status?: unknown; data?: Record<string, unknown> } | null)?.data;
    const source = data?.source as { currency?: unknown; amount?: unknown } | undefined;
    const destination = data?.destination as { currency?: unknown; amount?: unknown } | undefined;
    if (
      (body as { status?: unknown }).status !== 'success' ||
      source?.currency !== 'XAF' ||
      destination?.currency !== 'USD' ||
      (typeof source.amount !== 'number' && typeof source.amount !== 'string') ||
      (typeof destination.amount !== 'number' && typeof destination.amount !== 'string')
    )
      throw new FxRateUnavailable('flutterwave rates: unreadable answer');
    let rate: Decimal;
    try {
      const destinationAmount = new Decimal(destination.amount);
      if (!destinationAmount.gt(0)) throw new Error('zero');
      rate = new Decimal(source.amount).div(destinationAmount).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN);
    } catch {
      throw new FxRateUnavailable('flutterwave rates: unreadable amounts');
    }
    if (!usable(rate)) throw new FxRateUnavailable(`flutterwave rates: unusable rate ${rate.toString()}`);
    return { from: 'USD', to: 'XAF', rate, at: now(), source: 'flutterwave' };
  }

  return {
    name: 'flutterwave',
    async rate(from, to) {
      if (from === 'EUR') return { from, to, rate: EUR_XAF_PEG, at: now(), source: 'peg' };
      const at = now().getTime();
      if (cached !== undefined && cached.until > at) return cached.rate;
      const rate = await fetchUsd();
      cached = { rate, until: at + cacheMs };
      return rate;
    },
  };
}

const EXPONENT: Readonly<Record<FxFrom | FxTo, number>> = { USD: 2, EUR: 2, XAF: 0 };

export interface ConversionTerms {
  /** What the customer receives, in minor units of the target currency. */
  toMinor: bigint;
  /** The spread, booked as revenue. */
  spreadMinor: bigint;
  /** What rounding to whole target units leaves over (0, 1 or 2), booked to the FX rounding account. */
  roundingMinor: bigint;
  /** The target currency's FX bridge debit: the exact value at the mid rate, rounded half-even. */
  bridgeMinor: bigint;
  /** The exact value at the mid rate, before any rounding (kept with the transfer). */
  exactMinor: string;
}

/**
 * The exact split of a conversion, so that nothing is created or lost:
 *   exact    = amount × rate (in target minor units, unrounded)
 *   to       = ⌊exact − exact × spread⌋     (the customer never gets a fraction more than the terms)
 *   spread   = ⌊exact × spread⌋
 *   bridge   = exact rounded half-even      (the target currency's side of the position)
 *   rounding = bridge − to − spread ∈ {0, 1, 2}
 * so bridge = to + spread + rounding, every part a whole number of minor units.
 */
export function conversionTerms(
  fromMinor: bigint,
  from: FxFrom,
  to: FxTo,
  rate: Decimal,
  spreadBps: number,
): ConversionTerms {
  const exact = new Decimal(fromMinor.toString())
    .mul(rate)
    .mul(new Decimal(10).pow(EXPONENT[to] - EXPONENT[from]));
  const spreadExact = exact.mul(spreadBps).div(10_000);
  const toMinor = BigInt(exact.minus(spreadExact).floor().toFixed(0));
  const spreadMinor = BigInt(spreadExact.floor().toFixed(0));
  const bridgeMinor = BigInt(exact.toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0));
  const roundingMinor = bridgeMinor - toMinor - spreadMinor;
  if (roundingMinor < 0n || roundingMinor > 2n)
    throw new Error(`conversion rounding out of range: ${roundingMinor}`);
  return { toMinor, spreadMinor, roundingMinor, bridgeMinor, exactMinor: exact.toFixed() };
}
