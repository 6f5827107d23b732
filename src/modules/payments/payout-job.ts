/**
 * The payout job's steps (steps 3 and 4 of payouts.ts): hold if the request's hold is missing,
 * disburse at most once without proof (payout-rules.ts), learn the provider's answer, then post
 * the hold (+ the provider fee) or void it, or stop in NEEDS_REVIEW for finance. Safe to run
 * again at any point: a worker killed anywhere resumes from what the ledger and the provider know.
 */
import type { Logger } from 'pino';
import {
  customerWalletId,
  driverPayableId,
  providerClearingId,
  providerFeeMinor,
  providerFeesExpenseId,
  restaurantPayableId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { AuditFunction } from '../identity/index.js';
import { accepted, LedgerRefusal, submitAll, type LedgerPort } from './ledger-port.js';
import { afterLookup, nextSendStep } from './payout-rules.js';
import { PAYOUT_HELD_BACK, type PayoutRow, type PayoutsRepository } from './payouts-repository.js';
import {
  detectOperator,
  ProviderRejected,
  type PaymentRouter,
  type ProviderName,
  type ProviderStatus,
  type TransactionStatus,
} from './providers/index.js';

const STATUS_POLLS = 10;
const STATUS_POLL_DELAY_MS = 300;

/** Customers take wallet money back to Mobile Money (a refund they asked to receive there). */
export type PayeeKind = 'restaurant' | 'driver' | 'customer';

/** Thrown to the queue: try again later (its backoff paces the retries). */
class TryLater extends Error {
  constructor(payoutId: string, why: string) {
    super(`payout ${payoutId}: ${why}`);
    this.name = 'TryLater';
  }
}

/** What the provider said about the payout's disbursement, or that the job stopped for finance. */
type ProviderAnswer = { reference: string; status: ProviderStatus; reason?: string } | 'review';

export function payableOf(kind: PayeeKind, payeeId: string): string {
  switch (kind) {
    case 'restaurant':
      return restaurantPayableId(payeeId, 'XAF');
    case 'driver':
      return driverPayableId(payeeId, 'XAF');
    case 'customer':
      return customerWalletId(payeeId, 'XAF');
    default: {
      const unknown: never = kind;
      throw new RangeError(`unknown payee kind ${String(unknown)}`);
    }
  }
}

export interface PayoutJobOptions {
  payouts: PayoutsRepository;
  ledger: LedgerPort;
  router: PaymentRouter;
  logger: Logger;
  audit: AuditFunction;
  now: () => Date;
  /** Whether a hold (an admin's or a fraud case's) stops this payout now; absent: never. */
  held?: (row: PayoutRow) => Promise<boolean>;
}

export type PayoutJob = ReturnType<typeof createPayoutJob>;

export function createPayoutJob(options: PayoutJobOptions) {
  const { payouts, ledger, router, logger, now } = options;
  const get = (payoutId: string) => payouts.get(payoutId);

  async function fail(row: PayoutRow, reason: string): Promise<void> {
    await payouts.markFailed(row.payout_id, reason, now());
    logger.warn({ payoutId: row.payout_id, reason }, 'payout failed');
  }

  function holdTransfer(row: PayoutRow, provider: ProviderName): Transfer {
    return {
      id: `payout:${row.payout_id}:hold`,
      debitAccountId: payableOf(row.payee_kind, row.payee_id),
      creditAccountId: providerClearingId(provider, 'XAF'),
      amountMinor: row.amount_minor,
      currency: 'XAF',
      code: 'payout',
      flags: { pending: true },
      userData: {
        payoutId: row.payout_id,
        [row.payee_kind === 'restaurant'
          ? 'restaurantId'
          : row.payee_kind === 'driver'
            ? 'driverId'
            : 'userId']: row.payee_id,
        ...(row.payee_kind === 'customer' ? { category: 'refunds' } : {}),
      },
    };
  }

  /** Records that a disbursement request is about to leave; false if another worker moved first. */
  async function markSent(row: PayoutRow): Promise<boolean> {
    return payouts.markSent(row.payout_id, row.sends, now());
  }

  async function recordReference(row: PayoutRow, reference: string): Promise<void> {
    await payouts.recordReference(row.payout_id, reference, now());
  }

  async function send(row: PayoutRow, provider: ProviderName): Promise<ProviderAnswer> {
    if (!(await markSent(row))) throw new TryLater(row.payout_id, 'another worker is sending it');
    const result = await router.provider(provider).disburse({
      amountMinor: row.amount_minor,
      currency: 'XAF',
      phoneE164: row.phone,
      description: 'Versement',
      externalReference: row.payout_id,
    });
    await recordReference(row, result.providerReference);
    return { reference: result.providerReference, status: result.status };
  }

  function answerOf(status: TransactionStatus): ProviderAnswer {
    return {
      reference: status.providerReference,
      status: status.status,
      ...(status.reason === undefined ? {} : { reason: status.reason }),
    };
  }

  /** The provider's answer for this payout: send it once, re-read it, or find what a lost request did. */
  async function obtainAnswer(row: PayoutRow, provider: ProviderName): Promise<ProviderAnswer> {
    const step = nextSendStep({
      providerReference: row.provider_reference,
      sentAt: row.sent_at,
      sends: row.sends,
    });
    if (step.action === 'read')
      return answerOf(await router.status(provider, step.reference, 'disbursement'));
    if (step.action === 'send') return send(row, provider);
    const lookup = await router.findByExternalReference(provider, {
      externalReference: row.payout_id,
      kind: 'disbursement',
      since: row.sent_at!,
    });
    const decision = afterLookup(
      lookup,
      { providerReference: null, sentAt: row.sent_at, sends: row.sends },
      now(),
    );
    switch (decision.action) {
      case 'adopt':
        await recordReference(row, decision.transaction.providerReference);
        return answerOf(decision.transaction);
      case 'resend':
        logger.warn(
          { payoutId: row.payout_id, sends: row.sends },
          'payout resent: the provider holds nothing under its reference',
        );
        return send(row, provider);
      case 'wait':
        throw new TryLater(row.payout_id, 'the lost request may still reach the provider');
      case 'review':
        await markForReview(row, decision.reason);
        return 'review';
      default: {
        const unknown: never = decision;
        throw new Error(`unknown decision ${JSON.stringify(unknown)}`);
      }
    }
  }

  async function markForReview(row: PayoutRow, reason: string): Promise<void> {
    await payouts.markForReview(row.payout_id, reason.slice(0, 500), now());
    logger.error(
      { payoutId: row.payout_id, reason },
      'payout needs review by finance: nothing will be sent again',
    );
    await options.audit({
      action: 'payout.needs_review',
      actor: { kind: 'system' },
      resource: `payout:${row.payout_id}`,
      newValue: { reason },
    });
  }

  async function settleWithLedger(
    row: PayoutRow,
    provider: ProviderName,
    status: 'SUCCESSFUL' | 'FAILED',
    reason?: string,
  ): Promise<void> {
    const holdId = `payout:${row.payout_id}:hold`;
    if (status === 'FAILED') {
      await voidHold(row.payout_id);
      await fail(row, reason ?? 'FAILED');
      return;
    }
    const operator = detectOperator(row.phone) ?? 'MTN';
    const fee = providerFeeMinor(row.amount_minor, operator);
    const transfers: Transfer[] = [
      {
        id: `payout:${row.payout_id}:post`,
        debitAccountId: '',
        creditAccountId: '',
        amountMinor: 0n,
        currency: 'XAF',
        code: 'payout',
        flags: { postPending: true },
        pendingId: holdId,
        userData: { payoutId: row.payout_id },
      },
    ];
    if (fee > 0n)
      transfers.push({
        id: `payout:${row.payout_id}:fee`,
        debitAccountId: providerFeesExpenseId('XAF'),
        creditAccountId: providerClearingId(provider, 'XAF'),
        amountMinor: fee,
        currency: 'XAF',
        code: 'provider_fee',
        flags: {},
        userData: { payoutId: row.payout_id },
      });
    const outcomes = await ledger.submit(transfers);
    const refused = outcomes.find((outcome) => !accepted(outcome));
    // The fee can be refused only if the clearing account ran dry; the payout itself is done.
    if (refused !== undefined && refused.id.endsWith(':post')) throw new LedgerRefusal(refused);
    if (refused !== undefined)
      logger.error({ payoutId: row.payout_id, result: refused.result }, 'payout fee could not be booked');
    await payouts.markSucceeded(row.payout_id, fee, now());
  }

  /** Moves an approved payout to PROCESSING (only from APPROVED or PROCESSING: a rejection wins). */
  async function startProcessing(payoutId: string, provider: ProviderName): Promise<PayoutRow | undefined> {
    return payouts.startProcessing(payoutId, provider, now());
  }

  /** The job: hold (if the request's hold is missing), disburse, post or void. Safe to run again at any point. */
  async function process(payoutId: string): Promise<PayoutRow | undefined> {
    const current = await get(payoutId);
    // Held back by a run that died before voiding its ledger hold: finish it (a void is idempotent).
    if (current?.status === 'FAILED' && current.failure_reason === PAYOUT_HELD_BACK) {
      await voidHold(payoutId);
      return current;
    }
    if (current === undefined || (current.status !== 'APPROVED' && current.status !== 'PROCESSING'))
      return current;
    const provider = (current.provider as ProviderName | null) ?? router.routeFor(current.phone)?.primary;
    if (provider === undefined) {
      await voidHold(current.payout_id);
      await fail(current, 'UNSUPPORTED_OPERATOR');
      return get(payoutId);
    }
    const row = await startProcessing(payoutId, provider);
    if (row === undefined) return get(payoutId);
    if (await heldBack(row)) return get(payoutId);
    // Held at request time; submitted again for a request that crashed before its hold (`exists` otherwise).
    const refusal = await submitAll(ledger, [holdTransfer(row, provider)]);
    if (refusal !== null) {
      await fail(
        row,
        refusal.result === 'exceeds_credits'
          ? 'INSUFFICIENT_PAYABLE'
          : refusal.result === 'exceeds_debits'
            ? 'PROVIDER_FLOAT_SHORT'
            : refusal.result,
      );
      return get(payoutId);
    }
    let answer;
    try {
      answer = await obtainAnswer(row, provider);
    } catch (error) {
      if (error instanceof ProviderRejected && error.httpStatus !== undefined) {
        await settleWithLedger(row, provider, 'FAILED', error.code);
        return get(payoutId);
      }
      throw error; // unavailable, or a lost request still settling: the queue retries with backoff
    }
    if (answer === 'review') return get(payoutId);
    let status = answer.status;
    for (let poll = 0; status === 'PENDING' && poll < STATUS_POLLS; poll += 1) {
      await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_DELAY_MS));
      status = (await router.status(provider, answer.reference, 'disbursement')).status;
    }
    if (status === 'PENDING') throw new TryLater(payoutId, 'still pending at the provider');
    await settleWithLedger(row, provider, status, answer.reason);
    return get(payoutId);
  }

  /**
   * A payout approved before a hold on its payee, not sent yet: stopped, and its ledger hold voided
   * so the money stays in the payee's balance. Marked first, voided second: a run that dies in
   * between is finished by the next (above); the other order could let a retry send a payout
   * whose ledger hold was already voided once the hold is released.
   */
  async function heldBack(row: PayoutRow): Promise<boolean> {
    if (options.held === undefined || row.sent_at !== null || row.provider_reference !== null) return false;
    if (!(await options.held(row))) return false;
    if (!(await payouts.holdBack(row.payout_id, now()))) return false;
    logger.warn({ payoutId: row.payout_id }, 'payout held back: its payee is on hold');
    await options.audit({
      action: 'payout.held_back',
      actor: { kind: 'system' },
      resource: `payout:${row.payout_id}`,
      newValue: { amountMinor: Number(row.amount_minor), payeeKind: row.payee_kind, payeeId: row.payee_id },
    });
    await voidHold(row.payout_id);
    return true;
  }

  /** Releases a hold (a rejected request, a payout finance confirmed was never sent). */
  async function voidHold(payoutId: string): Promise<void> {
    const refusal = await submitAll(ledger, [
      {
        id: `payout:${payoutId}:void`,
        debitAccountId: '',
        creditAccountId: '',
        amountMinor: 0n,
        currency: 'XAF',
        code: 'payout',
        flags: { voidPending: true },
        pendingId: `payout:${payoutId}:hold`,
        userData: { payoutId },
      },
    ]);
    // A request that crashed before its hold has nothing to release.
    if (refusal !== null && refusal.result !== 'pending_transfer_not_found') throw new LedgerRefusal(refusal);
  }

  return { process, holdTransfer, settleWithLedger, voidHold };
}
