/**
 * International card funding (issue #28): a funder pays by card on Flutterwave's hosted page (card
 * data never reaches us) into their own USD wallet or, once the recipient consented, a relative's.
 *
 *   create   limits (per funding, per funder per day, per recipient per day), consent, then the
 *            funding row (id from the Idempotency-Key; tx_ref = `cf-<id>`) BEFORE the provider is
 *            asked for a checkout link, so a crash leaves a row the verify chain reads back.
 *   apply    what the provider's verify endpoint says (never a webhook's fields): successful with
 *            the same tx_ref, amount and currency → one linked ledger chain (card clearing →
 *            wallet, fee → clearing), ids `card:<id>:credit|fee`, so a duplicate books nothing;
 *            another amount or currency → REVIEW, nothing credited; failed → FAILED.
 * Webhooks (`verif-hash`), the payer's return, a job chain (`card-funding-verify`) and a sweep every
 * 10 minutes (`card-fundings-sweep`) all end in apply.
 *
 * EUR (issue #28): a EUR payment is converted to XAF on arrival and lands in the XAF wallet (XAF is
 * pegged to EUR, there is no EUR wallet). Its terms (rate, spread, the exact split in francs) are
 * fixed on the row at creation, and booked through the FX bridge of each currency: card clearing
 * EUR → EUR bridge, XAF bridge → wallet + spread revenue + rounding. Limits stay in US cents: a EUR
 * funding counts as its USD equivalent at the rate source's rates at creation.
 */
import type { Logger } from 'pino';
import { Decimal } from 'decimal.js';
import {
  customerWalletId,
  fxBridgeId,
  fxRoundingId,
  fxSpreadRevenueId,
  providerClearingId,
  providerFeesExpenseId,
} from '../../../ledger/rules/index.js';
import type { Transfer } from '../../../ledger/rules/index.js';
import type { JobQueue } from '../../jobs/index.js';
import type { AuditFunction } from '../identity/index.js';
import {
  CardProviderBadResponse,
  CardProviderUnavailable,
  type CardProvider,
  type VerifiedTransaction,
} from './cards/flutterwave.js';
import type { CardFundingRepository, CardFundingRow, FundingConversion } from './card-funding-repository.js';
import { conversionTerms, FxRateUnavailable, type FxRateSource } from './fx/rates.js';
import { paymentsErrors } from './errors.js';
import { doualaPeriods, uuidFromName } from './ids.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';

export const CARD_VERIFY_QUEUE = 'card-funding-verify';
/** Re-reads of a funding nothing has settled: 30 s, doubling, at most 10 min apart, 14 times (~1.5 h). */
const VERIFY_FIRST_DELAY_MS = 30_000;
const VERIFY_MAX_DELAY_MS = 600_000;
const VERIFY_MAX_ATTEMPTS = 14;
const LIST_LIMIT = 50;
/** The sweep re-reads PENDING fundings older than this (younger ones have their job chain)… */
const SWEEP_AFTER_MS = 10 * 60_000;
/** …and younger than this (a checkout left unpaid for a week is abandoned), at most this many per run. */
const SWEEP_WITHIN_MS = 7 * 24 * 3_600_000;
const SWEEP_BATCH = 200;

export interface CardFundingLimits {
  perFundingMinor: bigint;
  dailyMinor: bigint;
}

export interface CardFundingOptions {
  repository: CardFundingRepository;
  ledger: LedgerPort;
  queue: JobQueue;
  logger: Logger;
  audit: AuditFunction;
  provider: CardProvider | undefined;
  publicBaseUrl: string;
  limits: CardFundingLimits;
  /** A verified customer with this phone (E.164 or any Cameroon spelling), or undefined. */
  findRecipientByPhone: (phone: string) => Promise<{ userId: string } | undefined>;
  /**
   * An authentic webhook about a funding that is no longer PENDING (a chargeback or a refund at the
   * provider): read back what the provider holds against it; returns how many reversals it booked.
   */
  onSettledFundingHint?: (row: CardFundingRow) => Promise<number>;
  /** Masked phone of a user, for the recipient's list of funders. */
  maskedPhoneOf: (userId: string) => Promise<string | null>;
  /** Rates for EUR fundings (EUR→XAF, and USD→XAF for the limits' USD equivalent); undefined: EUR is 503. */
  rates?: FxRateSource | undefined;
  /** The conversion spread of a EUR funding (FX_SPREAD_BPS), booked as revenue. */
  spreadBps?: number;
  now?: () => Date;
}

export type CardFundingCurrency = 'USD' | 'EUR';

/** Which wallet a funding lands in: USD in the USD wallet, EUR converted at once into the XAF wallet. */
export function walletCurrencyOf(currency: CardFundingCurrency): 'USD' | 'XAF' {
  return currency === 'EUR' ? 'XAF' : 'USD';
}

/** A EUR funding's conversion as the API shows it. */
export interface CardFundingConversionView {
  rate: string;
  rateAt: Date;
  rateSource: string;
  spreadBps: number;
  /** Francs the XAF wallet receives. */
  creditMinor: bigint;
  spreadMinor: bigint;
  roundingMinor: bigint;
}

export interface CardFundingView {
  fundingId: string;
  txRef: string;
  status: CardFundingRow['status'];
  amountMinor: bigint;
  currency: CardFundingCurrency;
  /** The wallet it lands in (EUR is converted to XAF on arrival). */
  walletCurrency: 'USD' | 'XAF';
  conversion: CardFundingConversionView | null;
  /** Whether the caller funds their own wallet, funds someone else's, or receives. */
  role: 'self' | 'funder' | 'recipient';
  checkoutUrl: string | null;
  failureReason: string | null;
  createdAt: Date;
  creditedAt: Date | null;
}

export interface CreateCardFunding {
  funderUserId: string;
  amountMinor: bigint;
  currency: CardFundingCurrency;
  recipientPhone?: string;
  idempotencyKey: string;
}

/** The fixed conversion terms of a EUR funding, or null (USD, or a row missing them: the CHECK forbids it). */
export function conversionOf(row: CardFundingRow): CardFundingConversionView | null {
  if (
    row.currency !== 'EUR' ||
    row.fx_rate === null ||
    row.fx_rate_at === null ||
    row.fx_rate_source === null ||
    row.fx_spread_bps === null ||
    row.credit_minor === null ||
    row.spread_minor === null ||
    row.rounding_minor === null
  )
    return null;
  return {
    rate: new Decimal(row.fx_rate).toString(),
    rateAt: row.fx_rate_at,
    rateSource: row.fx_rate_source,
    spreadBps: row.fx_spread_bps,
    creditMinor: row.credit_minor,
    spreadMinor: row.spread_minor,
    roundingMinor: row.rounding_minor,
  };
}

function viewOf(row: CardFundingRow, callerId: string): CardFundingView {
  const role =
    row.funder_user_id === row.recipient_user_id
      ? 'self'
      : row.funder_user_id === callerId
        ? 'funder'
        : 'recipient';
  return {
    fundingId: row.funding_id,
    txRef: row.tx_ref,
    status: row.status,
    amountMinor: row.amount_minor,
    currency: row.currency,
    walletCurrency: walletCurrencyOf(row.currency),
    conversion: conversionOf(row),
    role,
    // Only the funder pays; the recipient has no use for the link.
    checkoutUrl: role === 'recipient' || row.status !== 'PENDING' ? null : row.checkout_url,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    creditedAt: row.credited_at,
  };
}

/**
 * The ledger chain of a verified funding: the whole amount to the wallet, the fee as an expense.
 * A EUR funding goes through the FX bridges, each currency balanced on its own: the EUR leaves the
 * card clearing for the EUR bridge (`credit`, so the clearing's entries keep their id), the XAF
 * bridge pays the wallet (`wallet`), the spread (`spread`) and the rounding (`rounding`), all with
 * the terms fixed on the row.
 */
export function creditTransfers(row: CardFundingRow, feeMinor: bigint): Transfer[] {
  const clearing = providerClearingId('flutterwave', row.currency);
  const userData = { fundingId: row.funding_id, userId: row.recipient_user_id };
  const conversion = conversionOf(row);
  if (row.currency === 'EUR') {
    if (conversion === null)
      throw new Error(`card funding ${row.funding_id}: EUR without its conversion terms`);
    const fx = {
      ...userData,
      rate: conversion.rate,
      rateAt: conversion.rateAt.toISOString(),
      rateSource: conversion.rateSource,
      spreadBps: String(conversion.spreadBps),
    };
    const bridgeXaf = fxBridgeId('XAF');
    const transfers: Transfer[] = [
      {
        id: `card:${row.funding_id}:credit`,
        debitAccountId: clearing,
        creditAccountId: fxBridgeId('EUR'),
        amountMinor: row.amount_minor,
        currency: 'EUR',
        code: 'fx_conversion',
        flags: {},
        userData: fx,
      },
    ];
    if (conversion.creditMinor > 0n)
      transfers.push({
        id: `card:${row.funding_id}:wallet`,
        debitAccountId: bridgeXaf,
        creditAccountId: customerWalletId(row.recipient_user_id, 'XAF'),
        amountMinor: conversion.creditMinor,
        currency: 'XAF',
        code: 'topup',
        flags: {},
        userData: fx,
      });
    if (conversion.spreadMinor > 0n)
      transfers.push({
        id: `card:${row.funding_id}:spread`,
        debitAccountId: bridgeXaf,
        creditAccountId: fxSpreadRevenueId('XAF'),
        amountMinor: conversion.spreadMinor,
        currency: 'XAF',
        code: 'fx_conversion',
        flags: {},
        userData: fx,
      });
    if (conversion.roundingMinor > 0n)
      transfers.push({
        id: `card:${row.funding_id}:rounding`,
        debitAccountId: bridgeXaf,
        creditAccountId: fxRoundingId('XAF'),
        amountMinor: conversion.roundingMinor,
        currency: 'XAF',
        code: 'fx_conversion',
        flags: {},
        userData: fx,
      });
    if (feeMinor > 0n)
      transfers.push({
        id: `card:${row.funding_id}:fee`,
        debitAccountId: providerFeesExpenseId('EUR'),
        creditAccountId: clearing,
        amountMinor: feeMinor,
        currency: 'EUR',
        code: 'provider_fee',
        flags: {},
        userData,
      });
    return linked(transfers);
  }
  const transfers: Transfer[] = [
    {
      id: `card:${row.funding_id}:credit`,
      debitAccountId: clearing,
      creditAccountId: customerWalletId(row.recipient_user_id, row.currency),
      amountMinor: row.amount_minor,
      currency: row.currency,
      code: 'topup',
      flags: {},
      userData,
    },
  ];
  if (feeMinor > 0n)
    transfers.push({
      id: `card:${row.funding_id}:fee`,
      debitAccountId: providerFeesExpenseId(row.currency),
      creditAccountId: clearing,
      amountMinor: feeMinor,
      currency: row.currency,
      code: 'provider_fee',
      flags: {},
      userData,
    });
  return linked(transfers);
}

/** Why a verified transaction may not be credited as it stands, or null when it may. */
export function mismatchOf(row: CardFundingRow, transaction: VerifiedTransaction): string | null {
  if (transaction.txRef !== row.tx_ref) return 'REFERENCE_MISMATCH';
  if (transaction.currency !== row.currency) return 'CURRENCY_MISMATCH';
  if (transaction.amountMinor !== row.amount_minor) return 'AMOUNT_MISMATCH';
  if (transaction.feeMinor >= transaction.amountMinor) return 'FEE_MISMATCH';
  return null;
}

function providerFailure(error: unknown): never {
  if (error instanceof CardProviderUnavailable)
    throw paymentsErrors.of(
      'unavailable',
      'card_provider_unavailable',
      'The card provider cannot be reached; try again.',
      {
        retryAfterSeconds: 30,
        cause: error,
      },
    );
  if (error instanceof CardProviderBadResponse)
    throw paymentsErrors.of(
      'bad_gateway',
      'card_provider_bad_response',
      'The card provider answered something unusable.',
      {
        cause: error,
      },
    );
  throw error;
}

/** The first instant of the Douala day of `at` (UTC+1 all year). */
function doualaDayStart(at: Date): Date {
  return new Date(`${doualaPeriods(at).day.slice(1)}T00:00:00+01:00`);
}

export function createCardFunding(options: CardFundingOptions) {
  const { repository, ledger, logger } = options;
  const now = options.now ?? (() => new Date());

  function providerOrThrow(): CardProvider {
    if (options.provider === undefined)
      throw paymentsErrors.of(
        'unavailable',
        'card_funding_unavailable',
        'Card funding is not available here.',
        {
          retryAfterSeconds: 3600,
        },
      );
    return options.provider;
  }

  async function recipientOf(input: CreateCardFunding): Promise<string> {
    if (input.recipientPhone === undefined) return input.funderUserId;
    const recipient = await options.findRecipientByPhone(input.recipientPhone);
    if (recipient === undefined)
      throw paymentsErrors.of(
        'unprocessable',
        'funding_recipient_unknown',
        'No customer with a verified phone can receive card funding at this number.',
      );
    if (recipient.userId === input.funderUserId) return recipient.userId;
    const consent = await repository.consent(recipient.userId, input.funderUserId);
    if (consent?.status === 'granted') return recipient.userId;
    if (consent?.status === 'refused')
      throw paymentsErrors.of(
        'forbidden',
        'funding_refused_by_recipient',
        'This customer does not accept funding from you.',
      );
    await repository.requestConsent(recipient.userId, input.funderUserId);
    await options.audit({
      action: 'wallet.card_funding_consent_requested',
      actor: { kind: 'user', userId: input.funderUserId },
      subjectUserId: recipient.userId,
      resource: `card-funding-consent:${recipient.userId}:${input.funderUserId}`,
    });
    throw paymentsErrors.of(
      'conflict',
      'recipient_consent_required',
      'The recipient must first accept funding from you (they were asked in their wallet); try again once they have.',
      { details: { consent: 'requested' } },
    );
  }

  /**
   * A EUR funding's terms, fixed now: the rate source's EUR→XAF rate (the peg, 655.957), the
   * configured spread, the exact split in francs (`conversionTerms`), and its USD equivalent for
   * the limits (EUR→XAF ÷ USD→XAF, rounded up so a limit is never passed by a fraction of a cent).
   */
  async function eurTerms(
    amountMinor: bigint,
  ): Promise<{ conversion: FundingConversion; limitUsdMinor: bigint }> {
    const rates = options.rates;
    if (rates === undefined)
      throw paymentsErrors.of('unavailable', 'fx_unavailable', 'Currency conversion is not available here.', {
        retryAfterSeconds: 3600,
      });
    const [eur, usd] = await Promise.all([rates.rate('EUR', 'XAF'), rates.rate('USD', 'XAF')]).catch(
      (error: unknown) => {
        if (error instanceof FxRateUnavailable) {
          logger.warn({ err: error }, 'card funding: no exchange rate for a EUR funding');
          throw paymentsErrors.of(
            'unavailable',
            'fx_unavailable',
            'No exchange rate can be had now; retry.',
            {
              retryAfterSeconds: 30,
              cause: error,
            },
          );
        }
        throw error;
      },
    );
    const spreadBps = options.spreadBps ?? 0;
    const terms = conversionTerms(amountMinor, 'EUR', 'XAF', eur.rate, spreadBps);
    if (terms.toMinor < 1n)
      throw paymentsErrors.of(
        'unprocessable',
        'fx_amount_too_small',
        'This amount converts to less than one franc.',
      );
    const limitUsdMinor = BigInt(
      new Decimal(amountMinor.toString()).mul(eur.rate).div(usd.rate).ceil().toFixed(0),
    );
    return {
      conversion: {
        rate: eur.rate.toString(),
        rateAt: eur.at,
        rateSource: eur.source,
        spreadBps,
        creditMinor: terms.toMinor,
        spreadMinor: terms.spreadMinor,
        roundingMinor: terms.roundingMinor,
        bridgeMinor: terms.bridgeMinor,
      },
      limitUsdMinor: limitUsdMinor > 0n ? limitUsdMinor : 1n,
    };
  }

  /** Limits, then the row, in one transaction serialised per funder and recipient. */
  async function record(fundingId: string, input: CreateCardFunding, recipientUserId: string): Promise<void> {
    const { perFundingMinor, dailyMinor } = options.limits;
    const eur = input.currency === 'EUR' ? await eurTerms(input.amountMinor) : undefined;
    const countedMinor = eur?.limitUsdMinor ?? input.amountMinor;
    if (countedMinor > perFundingMinor)
      throw paymentsErrors.of(
        'unprocessable',
        'card_funding_limit_exceeded',
        'This is more than one card funding may bring.',
        {
          details: { limit: 'per_funding', maxMinor: Number(perFundingMinor) },
        },
      );
    await repository.transaction(async (trx) => {
      await repository.lockParties(trx, input.funderUserId, recipientUserId);
      const totals = await repository.dailyTotals(
        trx,
        input.funderUserId,
        recipientUserId,
        doualaDayStart(now()),
      );
      const over =
        totals.funderMinor + countedMinor > dailyMinor
          ? 'funder_daily'
          : totals.recipientMinor + countedMinor > dailyMinor
            ? 'recipient_daily'
            : null;
      if (over !== null)
        throw paymentsErrors.of(
          'unprocessable',
          'card_funding_limit_exceeded',
          'This would pass the daily card funding limit.',
          {
            details: { limit: over, maxMinor: Number(dailyMinor) },
          },
        );
      await repository.insert(trx, {
        fundingId,
        txRef: `cf-${fundingId}`,
        funderUserId: input.funderUserId,
        recipientUserId,
        amountMinor: input.amountMinor,
        currency: input.currency,
        ...(eur === undefined ? {} : { limitUsdMinor: eur.limitUsdMinor, conversion: eur.conversion }),
      });
    });
  }

  async function create(input: CreateCardFunding): Promise<CardFundingView> {
    const provider = providerOrThrow();
    const fundingId = uuidFromName('card-funding', `${input.funderUserId}\u0000${input.idempotencyKey}`);
    let row = await repository.find(fundingId);
    if (row === undefined) {
      const recipientUserId = await recipientOf(input);
      if (await repository.walletFrozen(recipientUserId, walletCurrencyOf(input.currency)))
        throw paymentsErrors.of(
          'unprocessable',
          'wallet_frozen',
          'This wallet is frozen: it cannot be funded now.',
        );
      await record(fundingId, input, recipientUserId);
      row = (await repository.find(fundingId))!;
      await verifyLater(fundingId, 1, VERIFY_FIRST_DELAY_MS);
    }
    if (row.checkout_url === null && row.status === 'PENDING') {
      const base = options.publicBaseUrl.replace(/\/+$/, '');
      const { link } = await provider
        .createCheckout({
          txRef: row.tx_ref,
          amountMinor: row.amount_minor,
          currency: row.currency,
          redirectUrl: `${base}/v1/card-fundings/return`,
          customerEmail: `funding-${row.funding_id}@${new URL(base).hostname}`,
          title: 'Wallet funding',
        })
        .catch(providerFailure);
      await repository.setCheckout(fundingId, link);
      row = { ...row, checkout_url: link };
    }
    return viewOf(row, input.funderUserId);
  }

  async function verifyLater(fundingId: string, attempt: number, delayMs: number): Promise<void> {
    await options.queue.enqueue(
      CARD_VERIFY_QUEUE,
      { fundingId, attempt },
      { jobId: `cf-${fundingId}-${attempt}`, delayMs },
    );
  }

  /** Applies what the provider's verify endpoint said; true when it changed the funding. */
  async function apply(row: CardFundingRow, transaction: VerifiedTransaction | null): Promise<boolean> {
    if (row.status !== 'PENDING' || transaction === null || transaction.status === 'pending') return false;
    const at = now();
    if (transaction.status === 'failed')
      return repository.finish(row.funding_id, {
        status: 'FAILED',
        providerTransactionId: transaction.id,
        failureReason: transaction.processorResponse ?? 'DECLINED',
        at,
      });
    const mismatch = mismatchOf(row, transaction);
    if (mismatch !== null) {
      logger.error(
        {
          fundingId: row.funding_id,
          mismatch,
          requested: `${row.amount_minor} ${row.currency}`,
          reported: `${transaction.amountMinor} ${transaction.currency}`,
        },
        'card funding: the provider reports another payment than requested; nothing credited, held for review',
      );
      const changed = await repository.finish(row.funding_id, {
        status: 'REVIEW',
        providerTransactionId: transaction.id,
        failureReason: mismatch,
        at,
      });
      if (changed)
        await options.audit({
          action: 'wallet.card_funding_review',
          actor: { kind: 'system' },
          subjectUserId: row.recipient_user_id,
          resource: `card-funding:${row.funding_id}`,
          newValue: {
            mismatch,
            reportedMinor: String(transaction.amountMinor),
            reportedCurrency: transaction.currency,
          },
        });
      return changed;
    }
    const refused = await submitAll(ledger, creditTransfers(row, transaction.feeMinor));
    if (refused !== null) throw new LedgerRefusal(refused);
    return repository.finish(row.funding_id, {
      status: 'CREDITED',
      providerTransactionId: transaction.id,
      feeMinor: transaction.feeMinor,
      at,
    });
  }

  /** Reads the funding back from the provider by our tx_ref and applies it. */
  async function refresh(fundingId: string): Promise<CardFundingRow | undefined> {
    const row = await repository.find(fundingId);
    if (row === undefined || row.status !== 'PENDING' || options.provider === undefined) return row;
    const transaction = await options.provider.verifyByReference(row.tx_ref).catch(providerFailure);
    if (await apply(row, transaction)) return repository.find(fundingId);
    return row;
  }

  async function get(fundingId: string, callerId: string, admin: boolean): Promise<CardFundingView> {
    const found = await repository.find(fundingId);
    if (
      found === undefined ||
      (!admin && found.funder_user_id !== callerId && found.recipient_user_id !== callerId)
    )
      throw paymentsErrors.of('not_found', 'card_funding_not_found', 'There is no such card funding.');
    const row = found.status === 'PENDING' ? ((await refresh(fundingId).catch(() => found)) ?? found) : found;
    return viewOf(row, callerId);
  }

  /**
   * A webhook: authentic (`verif-hash`), for one of our tx_refs, then verified by id (the id's
   * transaction must carry the same tx_ref) or else by our reference. Duplicates and stale
   * events change nothing: only a PENDING funding moves, and the ledger ids are fixed.
   */
  async function webhook(
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
  ): Promise<{ applied: boolean }> {
    const provider = options.provider;
    if (provider === undefined)
      throw paymentsErrors.of('not_found', 'card_funding_unavailable', 'Card funding is not available here.');
    if (!provider.webhookAuthentic(headers))
      throw paymentsErrors.of(
        'unauthorized',
        'webhook_signature_invalid',
        'The webhook is not signed by the provider.',
      );
    const data = (body as { data?: { id?: unknown; tx_ref?: unknown } } | null | undefined)?.data;
    const txRef = typeof data?.tx_ref === 'string' ? data.tx_ref : undefined;
    if (txRef === undefined || !txRef.startsWith('cf-')) return { applied: false };
    const row = await repository.findByTxRef(txRef);
    if (row === undefined) return { applied: false };
    if (row.status !== 'PENDING') {
      if (row.status !== 'CREDITED' || options.onSettledFundingHint === undefined) return { applied: false };
      return { applied: (await options.onSettledFundingHint(row)) > 0 };
    }
    const id = typeof data?.id === 'number' || typeof data?.id === 'string' ? String(data.id) : undefined;
    let transaction = id === undefined ? null : await provider.verify(id).catch(providerFailure);
    if (transaction === null || transaction.txRef !== row.tx_ref)
      transaction = await provider.verifyByReference(row.tx_ref).catch(providerFailure);
    const applied = await apply(row, transaction);
    if (!applied) await verifyLater(row.funding_id, 100, 5_000); // verify may lag the webhook: read again soon
    return { applied };
  }

  /** The payer's browser comes back from the hosted page: read the funding back (never trust the query). */
  async function returned(txRef: string): Promise<{ status: CardFundingRow['status'] }> {
    const row = await repository.findByTxRef(txRef);
    if (row === undefined)
      throw paymentsErrors.of('not_found', 'card_funding_not_found', 'There is no such card funding.');
    const after = await refresh(row.funding_id).catch(() => row);
    return { status: (after ?? row).status };
  }

  function defineJobs(): void {
    options.queue.define<{ fundingId: string; attempt: number }>({
      queue: CARD_VERIFY_QUEUE,
      concurrency: 4,
      attempts: 5,
      backoffMs: 10_000,
      handler: async ({ fundingId, attempt }) => {
        const row = await refresh(fundingId);
        if (row?.status !== 'PENDING' || attempt >= VERIFY_MAX_ATTEMPTS || attempt >= 100) return;
        const delayMs = Math.min(VERIFY_FIRST_DELAY_MS * 2 ** attempt, VERIFY_MAX_DELAY_MS);
        await verifyLater(fundingId, attempt + 1, delayMs);
      },
    });
  }

  /**
   * Every 10 minutes: PENDING fundings past their first job's reach are read back, so a payment
   * made long after the checkout opened (or whose job chain ran out in an outage) is credited
   * without anyone asking. Refusals of one funding do not stop the others.
   */
  async function sweep(at = now()): Promise<{ read: number; settled: number }> {
    if (options.provider === undefined) return { read: 0, settled: 0 };
    const rows = await repository.pendingBefore(
      new Date(at.getTime() - SWEEP_AFTER_MS),
      new Date(at.getTime() - SWEEP_WITHIN_MS),
      SWEEP_BATCH,
    );
    let settled = 0;
    for (const { funding_id: fundingId } of rows) {
      try {
        const after = await refresh(fundingId);
        if (after !== undefined && after.status !== 'PENDING') settled += 1;
      } catch (error) {
        logger.warn({ fundingId, err: error }, 'card funding sweep: could not read this funding now');
      }
    }
    return { read: rows.length, settled };
  }

  async function list(userId: string): Promise<CardFundingView[]> {
    return (await repository.listForUser(userId, LIST_LIMIT)).map((row) => viewOf(row, userId));
  }

  async function funders(recipientUserId: string) {
    const rows = await repository.consentsOf(recipientUserId, LIST_LIMIT);
    return Promise.all(
      rows.map(async (row) => ({
        funderUserId: row.funder_user_id,
        funderPhone: await options.maskedPhoneOf(row.funder_user_id),
        status: row.status,
        requestedAt: row.requested_at,
        decidedAt: row.decided_at,
      })),
    );
  }

  async function decide(recipientUserId: string, funderUserId: string, allow: boolean) {
    const status: 'granted' | 'refused' = allow ? 'granted' : 'refused';
    const before = await repository.decideConsent(recipientUserId, funderUserId, status, now());
    if (before === undefined)
      throw paymentsErrors.of(
        'not_found',
        'funding_consent_not_found',
        'This person never asked to fund your wallet.',
      );
    await options.audit({
      action: 'wallet.card_funding_consent',
      actor: { kind: 'user', userId: recipientUserId },
      subjectUserId: recipientUserId,
      resource: `card-funding-consent:${recipientUserId}:${funderUserId}`,
      oldValue: { status: before },
      newValue: { status },
    });
    return { funderUserId, status };
  }

  /** Whether `recipientUserId` accepted funding from `funderUserId` (the right to set their wallet's controls). */
  async function fundingGranted(recipientUserId: string, funderUserId: string): Promise<boolean> {
    if (recipientUserId === funderUserId) return false;
    return (await repository.consent(recipientUserId, funderUserId))?.status === 'granted';
  }

  return {
    create,
    get,
    list,
    refresh,
    sweep,
    webhook,
    returned,
    defineJobs,
    funders,
    decide,
    fundingGranted,
  };
}

export type CardFunding = ReturnType<typeof createCardFunding>;
