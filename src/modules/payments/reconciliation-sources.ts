/**
 * What a reconciliation run compares: our side (collections and payouts recorded for a provider
 * and period, with what the ledger booked) and the provider's side (its statement, or for a
 * provider without one each of our transactions re-read by id), and which unrecorded collections
 * on the statement are still ours.
 */
import type { CardProvider } from './cards/flutterwave.js';
import { ProviderRejected, type PaymentRouter, type ProviderName } from './providers/index.js';
import { isUuid } from './ids.js';
import type { ReconciliationRepository } from './reconciliation-repository.js';
import type { InternalLine, ProviderLine, ReconciliationItem } from './reconcile-rules.js';
import type { PayoutStatus } from './tables.js';

export const MAX_LINES = 100_000;
/** Transactions re-read one by one for a provider without a statement API, and how many at once. */
const MAX_REREADS = 2_000;
const REREAD_CONCURRENCY = 8;

const isUuidText = (value: string | undefined): value is string => value !== undefined && isUuid(value);

export function createReconciliationSources(repository: ReconciliationRepository, router: PaymentRouter) {
  async function internalLines(provider: ProviderName, from: Date, to: Date): Promise<InternalLine[]> {
    const payments = await repository.collectionsIn(provider, from, to, MAX_LINES);
    const payouts = await repository.payoutsIn(provider, from, to, MAX_LINES);
    const ids = [
      ...payments.flatMap((row) => [`pay:${row.payment_id}:credit`, `pay:${row.payment_id}:capture`]),
      ...payouts.map((row) => `payout:${row.payout_id}:post`),
    ];
    const booked = await repository.clearingBookings(provider, ids);
    return [
      ...payments.map((row): InternalLine => ({
        reference: row.provider_reference!,
        internalId: row.payment_id,
        kind: 'collection',
        requestedMinor: row.amount_minor,
        ledgerMinor:
          booked.get(`pay:${row.payment_id}:credit`) ?? booked.get(`pay:${row.payment_id}:capture`) ?? null,
        feeMinor: row.fee_minor,
        // A late success is SUCCEEDED (after_expiry): it was booked like any other.
        status: row.status,
      })),
      ...payouts.map((row): InternalLine => ({
        reference: row.provider_reference!,
        internalId: row.payout_id,
        kind: 'disbursement',
        ledgerMinor: booked.get(`payout:${row.payout_id}:post`) ?? null,
        feeMinor: row.fee_minor,
        status: internalPayoutStatus(row.status),
      })),
    ];
  }

  /**
   * MTN MoMo has no statement API: each of our own transactions is re-read by id instead. That
   * finds wrong amounts and statuses, not money the provider moved without telling us (no
   * MISSING_IN_LEDGER is possible this way), and the provider reports no fee (ours is taken).
   */
  async function rereadLines(provider: ProviderName, ours: InternalLine[]): Promise<ProviderLine[]> {
    const lines: ProviderLine[] = [];
    const queue = ours.slice(0, MAX_REREADS);
    await Promise.all(
      Array.from({ length: REREAD_CONCURRENCY }, async () => {
        for (let line = queue.shift(); line !== undefined; line = queue.shift()) {
          try {
            const status = await router.status(provider, line.reference, line.kind);
            lines.push({
              reference: line.reference,
              kind: line.kind,
              amountMinor: status.amountMinor,
              feeMinor: line.feeMinor ?? 0n,
              status: status.status,
            });
          } catch (error) {
            if (!(error instanceof ProviderRejected)) throw error; // unknown at the provider: MISSING_AT_PROVIDER
          }
        }
      }),
    );
    return lines;
  }

  async function providerLines(
    provider: ProviderName,
    from: Date,
    to: Date,
    ours: InternalLine[],
  ): Promise<ProviderLine[]> {
    if (router.provider(provider).history === undefined) return rereadLines(provider, ours);
    // Statements are by day: ask for whole days, keep the lines inside the period.
    const history = await router.history(provider, { from, to });
    return history
      .filter((row) => row.at >= from && row.at < to)
      .slice(0, MAX_LINES)
      .map((row) => ({
        reference: row.providerReference,
        kind: row.kind,
        amountMinor: row.amountMinor,
        feeMinor: row.feeMinor,
        status: row.status,
        ...(row.externalReference === undefined ? {} : { externalReference: row.externalReference }),
      }));
  }

  /**
   * A collection on the statement that no attempt recorded may still be ours: its external
   * reference names an attempt that lost the provider's answer. Such items name that attempt, so
   * that resolving one credits the payer, not the world.
   */
  async function ownUnrecorded(
    items: ReconciliationItem[],
    theirs: ProviderLine[],
  ): Promise<ReconciliationItem[]> {
    const externalOf = new Map(theirs.map((line) => [line.reference, line.externalReference]));
    const candidates = items.filter(
      (item) => item.status === 'MISSING_IN_LEDGER' && item.kind === 'collection' && item.internalId === null,
    );
    const ids = [...new Set(candidates.map((item) => externalOf.get(item.reference)).filter(isUuidText))];
    if (ids.length === 0) return items;
    const known = await repository.knownAttempts(ids.slice(0, MAX_LINES));
    return items.map((item) => {
      const paymentId = candidates.includes(item) ? externalOf.get(item.reference) : undefined;
      if (paymentId === undefined || !known.has(paymentId)) return item;
      return {
        ...item,
        internalId: paymentId,
        detail: `collected for attempt ${paymentId}, which never recorded this reference; resolving credits its payer`,
      };
    });
  }

  /**
   * Card fundings (issue #28): ours are the fundings opened in the period with what the ledger
   * booked on Flutterwave's clearing account of their currency (`card:<id>:credit`, USD or EUR:
   * a EUR funding's EUR leaves that account for the FX bridge under the same id); a funding held for review
   * (the provider reported another amount or currency) was not credited, so it counts as failed on
   * our side and shows up against the provider's success. The reference on both sides is our tx_ref.
   */
  async function cardInternalLines(from: Date, to: Date): Promise<InternalLine[]> {
    const rows = await repository.cardFundingsIn(from, to, MAX_LINES);
    const bookedIn = (currency: 'USD' | 'EUR') =>
      repository.clearingBookings(
        'flutterwave',
        rows.filter((row) => row.currency === currency).map((row) => `card:${row.funding_id}:credit`),
        currency,
      );
    const booked = new Map([...(await bookedIn('USD')), ...(await bookedIn('EUR'))]);
    const fundingLines = rows.map((row): InternalLine => ({
      reference: row.tx_ref,
      internalId: row.funding_id,
      kind: 'collection',
      requestedMinor: row.amount_minor,
      ledgerMinor: booked.get(`card:${row.funding_id}:credit`) ?? null,
      feeMinor: row.fee_minor,
      status: row.status === 'CREDITED' ? 'SUCCEEDED' : row.status === 'PENDING' ? 'PENDING' : 'FAILED',
    }));
    return [...fundingLines, ...(await cardReversalLines(from, to))];
  }

  /**
   * Refunds and chargebacks of card fundings recorded in the period (money back to the card, so
   * `disbursement` lines): a chargeback by `chargeback:<Flutterwave's id>` (its reversal id), a
   * refund by `refund:<Flutterwave's refund id>` (a refund whose answer was lost has no id: its own
   * reversal id, which no provider line carries). What the ledger booked is what the reversal
   * credited back to the clearing account of its currency: `cardrev:<id>:wallet` and
   * `:receivable` (USD), `:back` (EUR, from the FX bridge).
   */
  async function cardReversalLines(from: Date, to: Date): Promise<InternalLine[]> {
    const rows = await repository.cardReversalsIn(from, to, MAX_LINES);
    const legs = (row: { reversal_id: string; currency: string }) =>
      row.currency === 'EUR'
        ? [`cardrev:${row.reversal_id}:back`]
        : [`cardrev:${row.reversal_id}:wallet`, `cardrev:${row.reversal_id}:receivable`];
    const bookedIn = (currency: 'USD' | 'EUR') =>
      repository.clearingBookings(
        'flutterwave',
        rows.filter((row) => row.currency === currency).flatMap(legs),
        currency,
      );
    const booked = new Map([...(await bookedIn('USD')), ...(await bookedIn('EUR'))]);
    return rows.map((row): InternalLine => {
      const found = legs(row).filter((id) => booked.has(id));
      const answered = row.provider_reference !== null && /^\d{1,20}$/.test(row.provider_reference);
      return {
        reference:
          row.kind === 'chargeback'
            ? row.reversal_id
            : answered
              ? `refund:${row.provider_reference}`
              : row.reversal_id,
        internalId: row.reversal_id,
        kind: 'disbursement',
        ledgerMinor: found.length === 0 ? null : found.reduce((sum, id) => sum + booked.get(id)!, 0n),
        feeMinor: null,
        status: row.status === 'BOOKED' ? 'SUCCEEDED' : row.status === 'FAILED' ? 'FAILED' : 'PENDING',
      };
    });
  }

  /**
   * Flutterwave's chargebacks and refunds of the period on payments of ours (a chargeback naming
   * one of our `cf-` references, a refund of one of our fundings' transactions): a chargeback
   * `accepted` or `lost` took the money, `pending` has not yet, `won` and `declined` took nothing;
   * a refund `completed` or `pending` has left us.
   */
  async function cardReversalProviderLines(
    cards: CardProvider,
    from: Date,
    to: Date,
  ): Promise<ProviderLine[]> {
    const listed = (await cards.listReversals({ from, to })).filter(
      (item) => item.createdAt >= from && item.createdAt < to,
    );
    const ours = await repository.cardTransactionsOfOurs([
      ...new Set(listed.flatMap((item) => (item.transactionId === null ? [] : [item.transactionId]))),
    ]);
    return listed
      .filter((item) =>
        item.kind === 'chargeback'
          ? (item.txRef?.startsWith('cf-') ?? false)
          : item.transactionId !== null && ours.has(item.transactionId),
      )
      .slice(0, MAX_LINES)
      .map((item): ProviderLine => {
        const status =
          item.kind === 'chargeback'
            ? item.status === 'accepted' || item.status === 'lost'
              ? 'SUCCESSFUL'
              : item.status === 'pending'
                ? 'PENDING'
                : 'FAILED'
            : item.status === 'completed' || item.status === 'pending'
              ? 'SUCCESSFUL'
              : 'FAILED';
        return {
          reference: `${item.kind}:${item.id}`,
          kind: 'disbursement',
          amountMinor: item.amountMinor,
          feeMinor: 0n,
          status,
        };
      });
  }

  /** Flutterwave's transactions of the period that carry one of our card funding references. */
  async function cardProviderLines(cards: CardProvider, from: Date, to: Date): Promise<ProviderLine[]> {
    const listed = await cards.listTransactions({ from, to });
    const fundings = listed
      .filter((tx) => tx.createdAt >= from && tx.createdAt < to && tx.txRef.startsWith('cf-'))
      .slice(0, MAX_LINES)
      .map((tx): ProviderLine => ({
        reference: tx.txRef,
        kind: 'collection',
        amountMinor: tx.amountMinor,
        feeMinor: tx.feeMinor,
        status: tx.status === 'successful' ? 'SUCCESSFUL' : tx.status === 'failed' ? 'FAILED' : 'PENDING',
      }));
    return [...fundings, ...(await cardReversalProviderLines(cards, from, to))];
  }

  return { internalLines, providerLines, ownUnrecorded, cardInternalLines, cardProviderLines };
}

function internalPayoutStatus(status: PayoutStatus): InternalLine['status'] {
  switch (status) {
    case 'REQUESTED':
    case 'APPROVED':
      return 'PENDING';
    case 'NEEDS_REVIEW':
      return 'PROCESSING';
    case 'REJECTED':
      return 'FAILED';
    default:
      return status;
  }
}
