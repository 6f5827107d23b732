/**
 * Card refunds and chargebacks (issue #28): money Flutterwave gave back to the payer's card, taken
 * back from the funded wallet once per provider reversal.
 *
 *   chargeback  the issuing bank took the payment back (Flutterwave lists it `accepted` or `lost`);
 *               found by reading Flutterwave's chargebacks of the transaction, on any webhook about
 *               a credited funding (a hint only) or a finance admin's request. Reversal id
 *               `chargeback:<Flutterwave's id>`, so repeated webhooks book it once.
 *   refund      a finance admin refunds (part of) a funding to the card; recorded, then asked of
 *               Flutterwave once (`ASKED` before the call: an answer lost in a crash is never asked
 *               again, so the card is never refunded twice), then booked like a chargeback.
 *
 * Booking: the wallet gives back what it still holds (`wallet → clearing`); what the customer
 * already spent becomes their receivable (`receivable → clearing`) and their wallets go under
 * review (frozen, audited); and because Flutterwave keeps its fee, the clearing account may hold
 * less than it gives back: the gap is first owed to Flutterwave (`clearing ← provider payable`), so
 * the clearing account never goes negative. The split is fixed on the row before the ledger is
 * asked, so every retry submits the same transfers under the same ids.
 *
 * A EUR funding (converted into the XAF wallet on arrival) is reversed through the FX bridges: the
 * EUR goes back from the EUR bridge to the card clearing, and the XAF wallet (then the customer's
 * XAF receivable) gives back to the XAF bridge the francs this part of the funding credited, at the
 * funding's own terms: ⌊credited francs × reversed EUR / funded EUR⌋ (the whole credit for a whole
 * reversal; the spread and rounding the platform earned stay earned).
 */
import type { Logger } from 'pino';
import {
  customerReceivableId,
  customerWalletId,
  fxBridgeId,
  providerClearingId,
  providerPayableId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { AuditFunction } from '../identity/index.js';
import type { CardFundingRepository, CardFundingRow } from './card-funding-repository.js';
import { walletCurrencyOf } from './card-funding.js';
import type { CardReversalRow, CardReversalsRepository, ReversalSplit } from './card-reversals-repository.js';
import {
  CardProviderBadResponse,
  CardProviderRefused,
  CardProviderUnavailable,
  type CardProvider,
} from './cards/flutterwave.js';
import { paymentsErrors } from './errors.js';
import { uuidFromName } from './ids.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';

/** A split refused because a balance moved between reading it and booking is computed again, this many times. */
const BOOK_TRIES = 4;
const LIST_LIMIT = 50;
/** Chargebacks in these states took the money back for good; `pending` is a lien, `won`/`declined` return nothing. */
const TAKEN: ReadonlySet<string> = new Set(['accepted', 'lost']);

export interface CardReversalsOptions {
  fundings: CardFundingRepository;
  repository: CardReversalsRepository;
  ledger: LedgerPort;
  provider: CardProvider | undefined;
  logger: Logger;
  audit: AuditFunction;
  /** Freezes the customer's wallets (all currencies) for finance's review; idempotent. */
  putUnderReview: (userId: string, reason: string) => Promise<void>;
  now?: () => Date;
}

export interface CardReversalView {
  reversalId: string;
  fundingId: string;
  kind: 'chargeback' | 'refund';
  status: CardReversalRow['status'];
  amountMinor: bigint;
  currency: 'USD' | 'EUR';
  /** The wallet it is taken from: USD, or XAF for a EUR funding. */
  walletCurrency: 'USD' | 'XAF';
  /** Its value in the wallet's currency (the amount itself for USD). */
  walletAmountMinor: bigint;
  walletMinor: bigint | null;
  receivableMinor: bigint | null;
  providerGapMinor: bigint | null;
  providerReference: string | null;
  failureReason: string | null;
  createdAt: Date;
  bookedAt: Date | null;
}

export function reversalView(row: CardReversalRow): CardReversalView {
  return {
    reversalId: row.reversal_id,
    fundingId: row.funding_id,
    kind: row.kind,
    status: row.status,
    amountMinor: row.amount_minor,
    currency: row.currency,
    walletCurrency: walletCurrencyOf(row.currency),
    walletAmountMinor: row.wallet_amount_minor ?? row.amount_minor,
    walletMinor: row.wallet_minor,
    receivableMinor: row.receivable_minor,
    providerGapMinor: row.provider_gap_minor,
    providerReference: row.provider_reference,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    bookedAt: row.booked_at,
  };
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const atLeastZero = (value: bigint): bigint => (value > 0n ? value : 0n);

/**
 * Who bears a reversal of `amountMinor`: the wallet up to what it may spend, the customer's
 * receivable for the rest; and what the clearing account cannot give back is owed to the provider.
 */
export function reversalSplit(
  amountMinor: bigint,
  walletAvailableMinor: bigint,
  clearingAvailableMinor: bigint,
): ReversalSplit {
  if (amountMinor <= 0n) throw new RangeError('a reversal moves a positive amount');
  const walletMinor = min(amountMinor, atLeastZero(walletAvailableMinor));
  return {
    walletMinor,
    receivableMinor: amountMinor - walletMinor,
    providerGapMinor: atLeastZero(amountMinor - atLeastZero(clearingAvailableMinor)),
  };
}

/**
 * What a reversal of `amountMinor` of this funding takes from the wallet, in the wallet's currency:
 * the amount itself for USD; for EUR, the francs that part credited at the funding's fixed terms:
 * the francs of everything reversed up to and with it, rounded down, less those of what other
 * reversals took before it (`reversedBeforeMinor`). The roundings telescope, so reversals of one
 * funding never take back more francs than it credited, and together, when they take back the
 * whole funding, exactly what it credited (each part rounded down alone left a franc behind).
 */
export function walletValueOf(
  funding: CardFundingRow,
  amountMinor: bigint,
  reversedBeforeMinor = 0n,
): bigint {
  if (funding.currency !== 'EUR') return amountMinor;
  if (funding.credit_minor === null)
    throw new Error(`card funding ${funding.funding_id}: EUR without its terms`);
  const francs = (reversed: bigint) => (funding.credit_minor! * reversed) / funding.amount_minor;
  return francs(reversedBeforeMinor + amountMinor) - francs(reversedBeforeMinor);
}

/**
 * The split of a reversal row: the wallet up to what it may spend of the reversal's value in the
 * wallet's currency, the receivable for the rest; the provider's gap in the card's currency.
 */
export function rowSplit(
  row: CardReversalRow,
  walletAvailableMinor: bigint,
  clearingAvailableMinor: bigint,
): ReversalSplit {
  const providerGapMinor = atLeastZero(row.amount_minor - atLeastZero(clearingAvailableMinor));
  const walletAmount = row.wallet_amount_minor ?? row.amount_minor;
  if (walletAmount <= 0n) return { walletMinor: 0n, receivableMinor: 0n, providerGapMinor };
  const split = reversalSplit(walletAmount, walletAvailableMinor, clearingAvailableMinor);
  return { walletMinor: split.walletMinor, receivableMinor: split.receivableMinor, providerGapMinor };
}

/** The linked chain of one reversal: the provider's gap first, so the clearing account never dips below zero. */
export function reversalTransfers(
  funding: CardFundingRow,
  reversal: CardReversalRow,
  split: ReversalSplit,
): Transfer[] {
  const currency = funding.currency;
  const clearing = providerClearingId('flutterwave', currency);
  const userData = {
    fundingId: funding.funding_id,
    reversalId: reversal.reversal_id,
    kind: reversal.kind,
    userId: funding.recipient_user_id,
  };
  const base = { currency, code: 'reversal' as const, flags: {}, userData };
  const transfers: Transfer[] = [];
  if (currency === 'EUR') {
    const xaf = { ...base, currency: 'XAF' as const };
    if (split.providerGapMinor > 0n)
      transfers.push({
        ...base,
        id: `cardrev:${reversal.reversal_id}:gap`,
        debitAccountId: clearing,
        creditAccountId: providerPayableId('flutterwave', currency),
        amountMinor: split.providerGapMinor,
      });
    transfers.push({
      ...base,
      id: `cardrev:${reversal.reversal_id}:back`,
      debitAccountId: fxBridgeId('EUR'),
      creditAccountId: clearing,
      amountMinor: reversal.amount_minor,
    });
    if (split.walletMinor > 0n)
      transfers.push({
        ...xaf,
        id: `cardrev:${reversal.reversal_id}:wallet`,
        debitAccountId: customerWalletId(funding.recipient_user_id, 'XAF'),
        creditAccountId: fxBridgeId('XAF'),
        amountMinor: split.walletMinor,
      });
    if (split.receivableMinor > 0n)
      transfers.push({
        ...xaf,
        id: `cardrev:${reversal.reversal_id}:receivable`,
        debitAccountId: customerReceivableId(funding.recipient_user_id, 'XAF'),
        creditAccountId: fxBridgeId('XAF'),
        amountMinor: split.receivableMinor,
      });
    return linked(transfers);
  }
  if (split.providerGapMinor > 0n)
    transfers.push({
      ...base,
      id: `cardrev:${reversal.reversal_id}:gap`,
      debitAccountId: clearing,
      creditAccountId: providerPayableId('flutterwave', currency),
      amountMinor: split.providerGapMinor,
    });
  if (split.walletMinor > 0n)
    transfers.push({
      ...base,
      id: `cardrev:${reversal.reversal_id}:wallet`,
      debitAccountId: customerWalletId(funding.recipient_user_id, currency),
      creditAccountId: clearing,
      amountMinor: split.walletMinor,
    });
  if (split.receivableMinor > 0n)
    transfers.push({
      ...base,
      id: `cardrev:${reversal.reversal_id}:receivable`,
      debitAccountId: customerReceivableId(funding.recipient_user_id, currency),
      creditAccountId: clearing,
      amountMinor: split.receivableMinor,
    });
  return linked(transfers);
}

function splitOf(row: CardReversalRow): ReversalSplit | null {
  if (row.wallet_minor === null || row.receivable_minor === null || row.provider_gap_minor === null)
    return null;
  return {
    walletMinor: row.wallet_minor,
    receivableMinor: row.receivable_minor,
    providerGapMinor: row.provider_gap_minor,
  };
}

/** How far back the chargeback sweep reads (a chargeback's status may move on for weeks). */
export const CHARGEBACK_SWEEP_DAYS = 45;
/** Fundings re-read per sweep at most. */
const SWEEP_FUNDINGS = 500;

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

export function createCardReversals(options: CardReversalsOptions) {
  const { repository, fundings, ledger, logger } = options;
  const now = options.now ?? (() => new Date());

  async function balances(funding: CardFundingRow): Promise<{ wallet: bigint; clearing: bigint }> {
    const [wallet, clearing] = await Promise.all([
      ledger.account(customerWalletId(funding.recipient_user_id, walletCurrencyOf(funding.currency))),
      ledger.account(providerClearingId('flutterwave', funding.currency)),
    ]);
    return {
      wallet: wallet?.availableMinor ?? 0n,
      // A debit-normal account may be credited up to what its debits exceed its credits, pending credits counted.
      clearing:
        clearing === null ? 0n : clearing.debitsPosted - clearing.creditsPosted - clearing.creditsPending,
    };
  }

  async function afterBooked(
    funding: CardFundingRow,
    row: CardReversalRow,
    split: ReversalSplit,
  ): Promise<void> {
    logger.info(
      {
        fundingId: funding.funding_id,
        reversalId: row.reversal_id,
        kind: row.kind,
        amountMinor: String(row.amount_minor),
      },
      'card reversal booked',
    );
    await options.audit({
      action: `wallet.card_${row.kind}`,
      actor: row.requested_by === null ? { kind: 'system' } : { kind: 'user', userId: row.requested_by },
      subjectUserId: funding.recipient_user_id,
      resource: `card-funding:${funding.funding_id}`,
      newValue: {
        reversalId: row.reversal_id,
        amountMinor: String(row.amount_minor),
        walletMinor: String(split.walletMinor),
        receivableMinor: String(split.receivableMinor),
        providerGapMinor: String(split.providerGapMinor),
      },
    });
    if (split.receivableMinor === 0n) return;
    logger.warn(
      {
        fundingId: funding.funding_id,
        reversalId: row.reversal_id,
        receivableMinor: String(split.receivableMinor),
      },
      'card reversal: the wallet had spent part of it; the customer owes the rest and their wallets are under review',
    );
    await options.putUnderReview(funding.recipient_user_id, `card_${row.kind}_review`);
  }

  /**
   * Books a recorded reversal once, whatever ran before (a crash, a concurrent webhook): under the
   * reversal's lock, the split is fixed on the row, then submitted; the ledger answers `ok` or
   * `exists` for the same chain. A chain refused because a balance moved since it was read (the
   * wallet spent meanwhile) landed nothing, so the split is computed again from fresh balances.
   */
  async function book(funding: CardFundingRow, reversalId: string): Promise<CardReversalRow> {
    return repository.locked(reversalId, async () => {
      for (let attempt = 1; ; attempt += 1) {
        let row = await repository.find(reversalId);
        if (row === undefined) throw new Error(`card reversal ${reversalId} vanished`);
        if (row.status === 'BOOKED' || row.status === 'FAILED') return row;
        let split = splitOf(row);
        if (split === null) {
          const { wallet, clearing } = await balances(funding);
          await repository.fixSplit(reversalId, rowSplit(row, wallet, clearing));
          row = (await repository.find(reversalId))!;
          split = splitOf(row)!;
        }
        const refused = await submitAll(ledger, reversalTransfers(funding, row, split));
        if (refused === null) {
          if (await repository.markBooked(reversalId, now())) await afterBooked(funding, row, split);
          return (await repository.find(reversalId))!;
        }
        const moved = refused.result === 'exceeds_credits' || refused.result === 'exceeds_debits';
        if (!moved || attempt >= BOOK_TRIES) throw new LedgerRefusal(refused);
        await repository.clearSplit(reversalId);
      }
    });
  }

  /** What is left to reverse of a funding besides this reversal. */
  async function leftOf(funding: CardFundingRow, reversalId: string): Promise<bigint> {
    return funding.amount_minor - (await repository.reversedMinor(funding.funding_id, reversalId));
  }

  /**
   * Reads Flutterwave's chargebacks of a credited funding and books each that took the money back.
   * Returns how many were booked by this call.
   */
  async function syncChargebacks(funding: CardFundingRow): Promise<number> {
    const provider = options.provider;
    if (provider === undefined || funding.status !== 'CREDITED' || funding.provider_transaction_id === null)
      return 0;
    let booked = 0;
    // A refund the provider took whose booking a crash interrupted is finished here too.
    for (const row of await repository.listForFunding(funding.funding_id, LIST_LIMIT))
      if (row.kind === 'refund' && row.status === 'ASKED' && row.provider_reference !== null)
        if ((await book(funding, row.reversal_id)).status === 'BOOKED') booked += 1;
    const transaction = await provider.verify(funding.provider_transaction_id).catch(providerFailure);
    if (transaction?.flwRef == null || transaction.txRef !== funding.tx_ref) return booked;
    const chargebacks = await provider
      .chargebacks(transaction.flwRef, funding.currency)
      .catch(providerFailure);
    for (const chargeback of chargebacks) {
      if (!TAKEN.has(chargeback.status)) continue;
      const reversalId = `chargeback:${chargeback.id}`;
      const decided = await repository.fundingLocked(funding.funding_id, async () => {
        if ((await repository.find(reversalId)) !== undefined) return true;
        const left = await leftOf(funding, reversalId);
        const amountMinor = min(chargeback.amountMinor, left);
        if (amountMinor !== chargeback.amountMinor)
          logger.error(
            {
              fundingId: funding.funding_id,
              reversalId,
              reportedMinor: String(chargeback.amountMinor),
              leftMinor: String(left),
            },
            'card chargeback: more than is left of the funding; only what is left is taken back, finance to review',
          );
        if (amountMinor <= 0n) return false;
        await repository.insert({
          reversalId,
          fundingId: funding.funding_id,
          kind: 'chargeback',
          amountMinor,
          currency: funding.currency,
          providerReference: chargeback.id,
          reason: null,
          requestedBy: null,
          ...(funding.currency === 'EUR'
            ? { walletAmountMinor: walletValueOf(funding, amountMinor, funding.amount_minor - left) }
            : {}),
        });
        return true;
      });
      if (!decided) continue;
      const before = await repository.find(reversalId);
      if (before?.status === 'BOOKED') continue;
      const after = await book(funding, reversalId);
      if (after.status === 'BOOKED') booked += 1;
    }
    return booked;
  }

  /**
   * Catches chargebacks whose webhook never came: Flutterwave's list of the chargebacks raised in
   * the last CHARGEBACK_SWEEP_DAYS days (whole days, every page), and for each of our fundings it
   * names (`cf-` references, credited), the same re-read as a webhook makes (`syncChargebacks`:
   * booked once by the chargeback's id). A provider outage fails the run (the next one reads the
   * same days again); one funding failing does not stop the others.
   */
  async function sweepChargebacks(
    at: Date = now(),
  ): Promise<{ fundings: number; booked: number; errors: number }> {
    const provider = options.provider;
    const outcome = { fundings: 0, booked: 0, errors: 0 };
    if (provider === undefined) return outcome;
    const references = await provider.chargebackReferences({
      from: new Date(at.getTime() - CHARGEBACK_SWEEP_DAYS * 86_400_000),
      to: at,
    });
    for (const txRef of references
      .filter((reference) => reference.startsWith('cf-'))
      .slice(0, SWEEP_FUNDINGS)) {
      const funding = await fundings.findByTxRef(txRef);
      if (funding === undefined || funding.status !== 'CREDITED') continue;
      outcome.fundings += 1;
      try {
        outcome.booked += await syncChargebacks(funding);
      } catch (error) {
        outcome.errors += 1;
        logger.error(
          { err: error, fundingId: funding.funding_id },
          'card chargeback sweep: this funding failed',
        );
      }
    }
    if (outcome.booked > 0)
      logger.warn({ ...outcome }, 'card chargeback sweep: chargebacks no webhook had announced were booked');
    return outcome;
  }

  async function fundingOrThrow(fundingId: string): Promise<CardFundingRow> {
    const funding = await fundings.find(fundingId);
    if (funding === undefined)
      throw paymentsErrors.of('not_found', 'card_funding_not_found', 'There is no such card funding.');
    return funding;
  }

  async function checkRefund(
    funding: CardFundingRow,
    reversalId: string,
    amountMinor: bigint,
  ): Promise<bigint> {
    if (funding.status !== 'CREDITED' || funding.provider_transaction_id === null)
      throw paymentsErrors.of(
        'conflict',
        'card_funding_not_refundable',
        'Only a credited card funding can be refunded.',
      );
    const left = await leftOf(funding, reversalId);
    if (amountMinor > left)
      throw paymentsErrors.of(
        'unprocessable',
        'card_refund_exceeds_funding',
        'This is more than is left of the funding to refund.',
        {
          details: { leftMinor: Number(left) },
        },
      );
    const { wallet } = await balances(funding);
    const reversedBefore = funding.amount_minor - left;
    if (walletValueOf(funding, amountMinor, reversedBefore) > wallet)
      throw paymentsErrors.of(
        'unprocessable',
        'card_refund_exceeds_wallet',
        'The wallet no longer holds this much: refund at most what it holds (a chargeback takes back the rest).',
        { details: { walletAvailableMinor: Number(wallet) } },
      );
    return reversedBefore;
  }

  /** Asks Flutterwave for the refund, once: a lost answer is never asked again (the card could be refunded twice). */
  async function ask(funding: CardFundingRow, row: CardReversalRow): Promise<void> {
    const provider = options.provider;
    if (provider === undefined)
      throw paymentsErrors.of(
        'unavailable',
        'card_funding_unavailable',
        'Card funding is not available here.',
        {
          retryAfterSeconds: 3600,
        },
      );
    if (!(await repository.markAsked(row.reversal_id))) return;
    try {
      const refund = await provider.refund(
        funding.provider_transaction_id!,
        row.amount_minor,
        funding.currency,
      );
      await repository.setProviderReference(row.reversal_id, refund.id);
    } catch (error) {
      if (error instanceof CardProviderRefused) {
        await repository.markFailed(row.reversal_id, `PROVIDER_REFUSED_${error.status}`);
        throw paymentsErrors.of(
          'unprocessable',
          'card_refund_refused',
          'The card provider refused this refund; nothing moved.',
        );
      }
      logger.error(
        { fundingId: funding.funding_id, reversalId: row.reversal_id, err: error },
        'card refund: no answer from the provider; not asked again, finance to check the provider',
      );
      throw error;
    }
  }

  /** A finance admin refunds `amountMinor` of a credited funding to the card (Idempotency-Key: one refund per key). */
  async function refund(input: {
    fundingId: string;
    adminId: string;
    amountMinor: bigint;
    reason: string;
    idempotencyKey: string;
  }): Promise<CardReversalView> {
    const funding = await fundingOrThrow(input.fundingId);
    const reversalId = `refund:${uuidFromName('card-refund', `${funding.funding_id}\u0000${input.idempotencyKey}`)}`;
    await repository.fundingLocked(funding.funding_id, async () => {
      if ((await repository.find(reversalId)) !== undefined) return;
      const reversedBefore = await checkRefund(funding, reversalId, input.amountMinor);
      await repository.insert({
        reversalId,
        fundingId: funding.funding_id,
        kind: 'refund',
        amountMinor: input.amountMinor,
        currency: funding.currency,
        providerReference: null,
        reason: input.reason,
        requestedBy: input.adminId,
        ...(funding.currency === 'EUR'
          ? { walletAmountMinor: walletValueOf(funding, input.amountMinor, reversedBefore) }
          : {}),
      });
    });
    let row = (await repository.find(reversalId))!;
    if (row.status === 'REQUESTED') {
      await ask(funding, row).catch(providerFailure);
      row = (await repository.find(reversalId))!;
    }
    if (row.status === 'ASKED' && row.provider_reference === null)
      throw paymentsErrors.of(
        'conflict',
        'card_refund_outcome_unknown',
        'This refund was asked of the card provider and its answer was lost; finance checks the provider before anything else moves.',
        { details: { reversalId } },
      );
    if (row.status === 'ASKED') row = await book(funding, reversalId);
    return reversalView(row);
  }

  /**
   * Finance closes a refund whose answer was lost (`ASKED` without a reference) once it has checked
   * Flutterwave: `refunded` books it as the provider's answer would have, `not_refunded` fails it
   * (nothing moved). Audited; any other state is 409 card_refund_not_in_review.
   */
  async function resolveRefund(input: {
    fundingId: string;
    reversalId: string;
    adminId: string;
    outcome: 'refunded' | 'not_refunded';
    providerReference?: string;
    reason: string;
  }): Promise<CardReversalView> {
    const funding = await fundingOrThrow(input.fundingId);
    const row = await repository.find(input.reversalId);
    if (
      row === undefined ||
      row.funding_id !== funding.funding_id ||
      row.kind !== 'refund' ||
      row.status !== 'ASKED' ||
      row.provider_reference !== null
    )
      throw paymentsErrors.of(
        'conflict',
        'card_refund_not_in_review',
        'Only a refund whose answer from the card provider was lost can be resolved.',
      );
    if (input.outcome === 'not_refunded')
      await repository.markFailed(row.reversal_id, 'NOT_REFUNDED_CONFIRMED_BY_FINANCE');
    else
      await repository.setProviderReference(
        row.reversal_id,
        input.providerReference ?? 'confirmed-by-finance',
      );
    await options.audit({
      action: 'wallet.card_refund_resolved',
      actor: { kind: 'user', userId: input.adminId },
      subjectUserId: funding.recipient_user_id,
      resource: `card-funding:${funding.funding_id}`,
      newValue: { reversalId: row.reversal_id, outcome: input.outcome, reason: input.reason },
    });
    const after =
      input.outcome === 'refunded'
        ? await book(funding, row.reversal_id)
        : await repository.find(row.reversal_id);
    return reversalView(after!);
  }

  /** A finance admin asks Flutterwave about a funding's chargebacks now (without waiting for a webhook). */
  async function sync(fundingId: string): Promise<CardReversalView[]> {
    const funding = await fundingOrThrow(fundingId);
    await syncChargebacks(funding);
    return list(fundingId);
  }

  async function list(fundingId: string): Promise<CardReversalView[]> {
    return (await repository.listForFunding(fundingId, LIST_LIMIT)).map(reversalView);
  }

  return { syncChargebacks, sweepChargebacks, refund, resolveRefund, sync, list, book };
}

export type CardReversals = ReturnType<typeof createCardReversals>;
