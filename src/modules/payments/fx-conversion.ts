/**
 * Currency conversion of a customer's own wallets, USD → XAF (issue #28), so that money a relative
 * sent by card can pay XAF orders.
 *
 *   quote    the rate source (fx/rates.ts) gives a mid rate and its time; the exact split
 *            (conversionTerms) is fixed and stored with an expiry (FX_QUOTE_TTL_SECONDS).
 *   convert  claims the quote (OPEN → CONVERTING, only before its expiry), then one linked ledger
 *            chain keyed by the quote id, each leg in one currency through that currency's FX bridge:
 *              fx:<id>:out       wallet USD → FX bridge USD           (the amount)
 *              fx:<id>:in        FX bridge XAF → wallet XAF           (what the customer gets)
 *              fx:<id>:spread    FX bridge XAF → FX spread revenue    (when > 0)
 *              fx:<id>:rounding  FX bridge XAF → FX rounding          (when > 0)
 *            so each currency balances on its own and the XAF bridge is debited exactly the value
 *            at the mid rate (to + spread + rounding). The rate, its time and source, and the exact
 *            unrounded value travel in each transfer's userData.
 * A claimed quote whose chain never landed (a crash) is converted by the retry, expired or not:
 * the customer accepted it in time. The ledger answers `exists` for what landed, so accepting a
 * quote any number of times, in parallel or after a crash, books it once.
 */
import type { Selectable } from 'kysely';
import type { Logger } from 'pino';
import {
  customerWalletId,
  fxBridgeId,
  fxRoundingId,
  fxSpreadRevenueId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import { paymentsErrors } from './errors.js';
import { conversionTerms, FxRateUnavailable, type FxRateSource } from './fx/rates.js';
import { uuidFromName } from './ids.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';
import type { FxQuotesTable, PaymentsDb } from './tables.js';

export type FxQuoteRow = Selectable<FxQuotesTable>;

/** A quote still CONVERTING this long after its expiry has nobody finishing it (the sweep does). */
export const CONVERTING_GRACE_MS = 2 * 60_000;
const SWEEP_BATCH = 200;

export interface FxOptions {
  db: PaymentsDb;
  ledger: LedgerPort;
  logger: Logger;
  /** Undefined when the configured source cannot be used here (answers 503 fx_unavailable). */
  rates: FxRateSource | undefined;
  spreadBps: number;
  quoteTtlSeconds: number;
  now?: () => Date;
}

export interface FxQuoteView {
  quoteId: string;
  fromCurrency: 'USD';
  toCurrency: 'XAF';
  fromMinor: bigint;
  toMinor: bigint;
  rate: string;
  rateAt: Date;
  rateSource: string;
  spreadBps: number;
  spreadMinor: bigint;
  roundingMinor: bigint;
  status: FxQuoteRow['status'];
  failureReason: string | null;
  expiresAt: Date;
  convertedAt: Date | null;
}

function viewOf(row: FxQuoteRow): FxQuoteView {
  return {
    quoteId: row.quote_id,
    fromCurrency: row.from_currency,
    toCurrency: row.to_currency,
    fromMinor: row.from_minor,
    toMinor: row.to_minor,
    rate: row.rate,
    rateAt: row.rate_at,
    rateSource: row.rate_source,
    spreadBps: row.spread_bps,
    spreadMinor: row.spread_minor,
    roundingMinor: row.rounding_minor,
    status: row.status,
    failureReason: row.failure_reason,
    expiresAt: row.expires_at,
    convertedAt: row.converted_at,
  };
}

/** The ledger chain of an accepted quote (see the file's comment); ids fixed by the quote id. */
export function conversionTransfers(row: FxQuoteRow): Transfer[] {
  const userData = {
    quoteId: row.quote_id,
    userId: row.user_id,
    rate: row.rate,
    rateAt: row.rate_at.toISOString(),
    rateSource: row.rate_source,
    exactMinor: row.exact_minor,
  };
  const to = row.to_currency;
  const transfers: Transfer[] = [
    {
      id: `fx:${row.quote_id}:out`,
      debitAccountId: customerWalletId(row.user_id, row.from_currency),
      creditAccountId: fxBridgeId(row.from_currency),
      amountMinor: row.from_minor,
      currency: row.from_currency,
      code: 'fx_conversion',
      flags: {},
      userData,
    },
    {
      id: `fx:${row.quote_id}:in`,
      debitAccountId: fxBridgeId(to),
      creditAccountId: customerWalletId(row.user_id, to),
      amountMinor: row.to_minor,
      currency: to,
      code: 'fx_conversion',
      flags: {},
      userData,
    },
  ];
  if (row.spread_minor > 0n)
    transfers.push({
      id: `fx:${row.quote_id}:spread`,
      debitAccountId: fxBridgeId(to),
      creditAccountId: fxSpreadRevenueId(to),
      amountMinor: row.spread_minor,
      currency: to,
      code: 'fx_conversion',
      flags: {},
      userData,
    });
  if (row.rounding_minor > 0n)
    transfers.push({
      id: `fx:${row.quote_id}:rounding`,
      debitAccountId: fxBridgeId(to),
      creditAccountId: fxRoundingId(to),
      amountMinor: row.rounding_minor,
      currency: to,
      code: 'fx_conversion',
      flags: {},
      userData,
    });
  return linked(transfers);
}

export function createFxConversion(options: FxOptions) {
  const { db, ledger, logger } = options;
  const now = options.now ?? (() => new Date());

  async function find(quoteId: string, userId: string): Promise<FxQuoteRow> {
    const row = /^[0-9a-f-]{36}$/i.test(quoteId)
      ? await db
          .selectFrom('fx_quotes')
          .selectAll()
          .where('quote_id', '=', quoteId)
          .where('user_id', '=', userId)
          .executeTakeFirst()
      : undefined;
    if (row === undefined)
      throw paymentsErrors.of(
        'not_found',
        'fx_quote_not_found',
        'There is no such conversion quote of yours.',
      );
    return row;
  }

  /** A quote for converting `fromMinor` US cents of the caller's USD wallet to XAF. */
  async function quote(input: {
    userId: string;
    fromCurrency: 'USD';
    toCurrency: 'XAF';
    fromMinor: bigint;
    idempotencyKey?: string;
  }): Promise<FxQuoteView> {
    if (options.rates === undefined)
      throw paymentsErrors.of('unavailable', 'fx_unavailable', 'Currency conversion is not available here.', {
        retryAfterSeconds: 3600,
      });
    const quoteId =
      input.idempotencyKey === undefined
        ? crypto.randomUUID()
        : uuidFromName('fx-quote', `${input.userId}\u0000${input.idempotencyKey}`);
    const existing = await db
      .selectFrom('fx_quotes')
      .selectAll()
      .where('quote_id', '=', quoteId)
      .executeTakeFirst();
    if (existing !== undefined) return viewOf(existing);
    const rate = await options.rates.rate(input.fromCurrency, input.toCurrency).catch((error: unknown) => {
      if (error instanceof FxRateUnavailable) {
        logger.warn({ err: error }, 'fx: no rate from the source');
        throw paymentsErrors.of('unavailable', 'fx_unavailable', 'No exchange rate can be had now; retry.', {
          retryAfterSeconds: 30,
          cause: error,
        });
      }
      throw error;
    });
    const terms = conversionTerms(
      input.fromMinor,
      input.fromCurrency,
      input.toCurrency,
      rate.rate,
      options.spreadBps,
    );
    if (terms.toMinor < 1n)
      throw paymentsErrors.of(
        'unprocessable',
        'fx_amount_too_small',
        'This amount converts to less than one franc after the spread.',
      );
    const at = now();
    const row = await db
      .insertInto('fx_quotes')
      .values({
        quote_id: quoteId,
        user_id: input.userId,
        from_currency: input.fromCurrency,
        to_currency: input.toCurrency,
        from_minor: input.fromMinor,
        to_minor: terms.toMinor,
        spread_minor: terms.spreadMinor,
        rounding_minor: terms.roundingMinor,
        bridge_minor: terms.bridgeMinor,
        exact_minor: terms.exactMinor,
        rate: rate.rate.toFixed(),
        rate_at: rate.at,
        rate_source: rate.source,
        spread_bps: options.spreadBps,
        expires_at: new Date(at.getTime() + options.quoteTtlSeconds * 1000),
      })
      .onConflict((conflict) => conflict.column('quote_id').doNothing())
      .returningAll()
      .executeTakeFirst();
    return viewOf(row ?? (await find(quoteId, input.userId)));
  }

  /** OPEN → CONVERTING, only before the expiry; true when this call (or an earlier one) claimed it. */
  async function claim(row: FxQuoteRow): Promise<FxQuoteRow | undefined> {
    return db
      .updateTable('fx_quotes')
      .set({ status: 'CONVERTING' })
      .where('quote_id', '=', row.quote_id)
      .where('status', '=', 'OPEN')
      .where('expires_at', '>', now())
      .returningAll()
      .executeTakeFirst();
  }

  async function finish(
    quoteId: string,
    status: 'CONVERTED' | 'FAILED',
    failureReason: string | null,
  ): Promise<FxQuoteRow> {
    return db
      .updateTable('fx_quotes')
      .set({ status, failure_reason: failureReason, converted_at: status === 'CONVERTED' ? now() : null })
      .where('quote_id', '=', quoteId)
      .where('status', '=', 'CONVERTING')
      .returningAll()
      .executeTakeFirst()
      .then(
        async (row) =>
          row ??
          (await db
            .selectFrom('fx_quotes')
            .selectAll()
            .where('quote_id', '=', quoteId)
            .executeTakeFirstOrThrow()),
      );
  }

  /** Books a claimed quote: the chain lands (or had landed) → CONVERTED; the ledger refuses → FAILED. */
  async function book(row: FxQuoteRow): Promise<FxQuoteRow> {
    const refused = await submitAll(ledger, conversionTransfers(row));
    if (refused === null) return finish(row.quote_id, 'CONVERTED', null);
    if (refused.result === 'exceeds_credits') return finish(row.quote_id, 'FAILED', 'insufficient_funds');
    throw new LedgerRefusal(refused);
  }

  async function walletFrozen(userId: string, currency: 'USD' | 'XAF'): Promise<boolean> {
    const wallet = await db
      .selectFrom('wallets')
      .select('status')
      .where('user_id', '=', userId)
      .where('currency', '=', currency)
      .executeTakeFirst();
    return wallet?.status === 'frozen';
  }

  /** Accepts a quote: books it once, whatever the number of calls. */
  async function convert(quoteId: string, userId: string): Promise<FxQuoteView> {
    let row = await find(quoteId, userId);
    if (row.status === 'OPEN') {
      if (row.expires_at.getTime() <= now().getTime())
        throw paymentsErrors.of(
          'unprocessable',
          'fx_quote_expired',
          'This quote expired before it was accepted; ask a new one.',
        );
      if ((await walletFrozen(userId, row.from_currency)) || (await walletFrozen(userId, row.to_currency)))
        throw paymentsErrors.of(
          'unprocessable',
          'wallet_frozen',
          'This wallet is frozen: nothing can be converted.',
        );
      const claimed = await claim(row);
      row = claimed ?? (await find(quoteId, userId));
      if (row.status === 'OPEN')
        throw paymentsErrors.of(
          'unprocessable',
          'fx_quote_expired',
          'This quote expired before it was accepted; ask a new one.',
        );
    }
    if (row.status === 'CONVERTING') row = await book(row);
    if (row.status === 'FAILED')
      throw paymentsErrors.of(
        'payment_required',
        'insufficient_funds',
        'The USD wallet does not hold this amount. Nothing was converted.',
        { details: { quoteId: row.quote_id } },
      );
    return viewOf(row);
  }

  async function get(quoteId: string, userId: string): Promise<FxQuoteView> {
    return viewOf(await find(quoteId, userId));
  }

  /**
   * Finishes quotes left CONVERTING: the customer accepted in time, and the process died before
   * the ledger answered or before the quote said so (a claim happens before the expiry, so a quote
   * still CONVERTING a while after its expiry has nobody working on it). Each is booked as the
   * customer's retry would book it: the chain lands or had landed → CONVERTED (the ledger answers
   * `exists`, nothing twice); the USD no longer there → FAILED. At most SWEEP_BATCH per run; one
   * quote failing does not stop the others.
   */
  async function sweepConverting(
    at: Date = now(),
  ): Promise<{ converted: number; failed: number; errors: number }> {
    const stuck = await db
      .selectFrom('fx_quotes')
      .selectAll()
      .where('status', '=', 'CONVERTING')
      .where('expires_at', '<', new Date(at.getTime() - CONVERTING_GRACE_MS))
      .orderBy('expires_at')
      .limit(SWEEP_BATCH)
      .execute();
    const outcome = { converted: 0, failed: 0, errors: 0 };
    for (const row of stuck) {
      try {
        const finished = await book(row);
        if (finished.status === 'CONVERTED') outcome.converted += 1;
        else outcome.failed += 1;
      } catch (error) {
        outcome.errors += 1;
        logger.error(
          { err: error, quoteId: row.quote_id },
          'fx: a quote left CONVERTING could not be finished',
        );
      }
    }
    if (stuck.length > 0)
      logger.warn({ ...outcome }, 'fx: quotes left CONVERTING were finished by the sweep');
    return outcome;
  }

  return { quote, convert, get, book, sweepConverting };
}

export type FxConversion = ReturnType<typeof createFxConversion>;
