/**
 * Payouts to restaurants, drivers and customers (withdrawals):
 *
 *   1. request   the amount is held at once: ledger pending transfer payable → provider clearing
 *                (`payout:<id>:hold`, never expiring), so a request beyond the available balance
 *                is refused (422 insufficient_funds) and parallel requests cannot spend it twice;
 *   2. approve   by an admin with a TOTP step-up (or automatic: daily settlement, withdrawals);
 *                a rejection voids the hold;
 *   3. disburse  by a job, with our payout id as the provider's external reference, sent at most
 *                once without proof (payout-rules.ts): a retry whose answer was lost asks the
 *                provider what it holds under our reference first, and stops in NEEDS_REVIEW for
 *                finance when the provider cannot say or paid more than once;
 *   4. post      the hold on SUCCESSFUL (+ the provider fee), or void it on FAILED.
 *
 * A worker killed anywhere in between is retried by the queue and resumes from what the ledger
 * and the provider already know. Payouts never fail over to another provider: the hold names the
 * provider's clearing account and only the same provider can answer for our reference.
 */
import { randomUUID } from 'node:crypto';
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
import type { PaymentsDb } from './tables.js';
import { paymentsErrors } from './errors.js';
import type { JobQueue } from '../../jobs/index.js';
import type { AuditFunction } from '../identity/index.js';
import { isUuid } from './ids.js';
import { accepted, LedgerRefusal, submitAll, type LedgerPort } from './ledger-port.js';
import { afterLookup, nextSendStep } from './payout-rules.js';
import {
  detectOperator,
  isProviderError,
  ProviderRejected,
  toE164,
  type PaymentRouter,
  type ProviderName,
  type ProviderStatus,
  type TransactionStatus,
} from './providers/index.js';
import type { TransferOutcome } from '../../../ledger/writer/index.js';
import { createPayoutsRepository, type PayoutRow } from './payouts-repository.js';

export const PAYOUT_QUEUE = 'payouts-process';
const STATUS_POLLS = 10;
const STATUS_POLL_DELAY_MS = 300;
const AUTO_BATCH = 500;
export const MIN_PAYOUT_MINOR = 500n;

export type { PayoutRow } from './payouts-repository.js';

/** Customers take wallet money back to Mobile Money (a refund they asked to receive there). */
export type PayeeKind = 'restaurant' | 'driver' | 'customer';

export interface PayoutsOptions {
  db: PaymentsDb;
  ledger: LedgerPort;
  router: PaymentRouter;
  queue: JobQueue;
  logger: Logger;
  audit: AuditFunction;
  /** The payee's phone if verified (E.164), else undefined. */
  verifiedPhone: (userId: string) => Promise<string | undefined>;
  restaurantOwner: (restaurantId: string) => Promise<string | undefined>;
  now?: () => Date;
}

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

export function createPayouts(options: PayoutsOptions) {
  const { ledger, router, queue, logger } = options;
  const payouts = createPayoutsRepository(options.db);
  const now = options.now ?? (() => new Date());

  async function get(payoutId: string): Promise<PayoutRow | undefined> {
    return payouts.get(payoutId);
  }

  /** Available to request: the payable's available balance (open payouts are held in it already). */
  async function requestable(kind: PayeeKind, payeeId: string): Promise<bigint> {
    const account = await ledger.account(payableOf(kind, payeeId));
    return account?.availableMinor ?? 0n;
  }

  async function payeeFor(
    requesterId: string,
    kind: PayeeKind,
    restaurantId: string | undefined,
    isAdmin: boolean,
  ): Promise<{ payeeId: string; phoneOwnerId: string }> {
    if (kind === 'driver' || kind === 'customer') return { payeeId: requesterId, phoneOwnerId: requesterId };
    if (restaurantId === undefined)
      throw paymentsErrors.of(
        'validation',
        'validation_failed',
        'A restaurant payout names its restaurantId.',
      );
    const owner = await options.restaurantOwner(restaurantId);
    if (owner === undefined || (owner !== requesterId && !isAdmin))
      throw paymentsErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant of yours.');
    return { payeeId: restaurantId, phoneOwnerId: owner };
  }

  async function request(input: {
    requesterId: string;
    kind: PayeeKind;
    restaurantId?: string;
    amountMinor: bigint;
    isAdmin: boolean;
    automatic?: boolean;
    /** Named by the request's Idempotency-Key: a retry after a crash or a 5xx finds its payout. */
    payoutId?: string;
  }): Promise<PayoutRow> {
    const { payeeId, phoneOwnerId } = await payeeFor(
      input.requesterId,
      input.kind,
      input.restaurantId,
      input.isAdmin,
    );
    const earlier = input.payoutId === undefined ? undefined : await get(input.payoutId);
    if (earlier !== undefined && earlier.payee_id === payeeId && earlier.requested_by === input.requesterId)
      return resumeRequest(earlier);
    if (input.amountMinor < MIN_PAYOUT_MINOR)
      throw paymentsErrors.of(
        'unprocessable',
        'payout_too_small',
        `A payout is at least ${MIN_PAYOUT_MINOR} XAF.`,
      );
    const phone = await options.verifiedPhone(phoneOwnerId);
    if (phone === undefined || detectOperator(phone) === undefined)
      throw paymentsErrors.of(
        'unprocessable',
        'payout_phone_unverified',
        'Payouts go to a verified MTN or Orange Mobile Money number; verify yours first.',
      );
    const provider = options.router.routeFor(phone)?.primary;
    if (provider === undefined)
      throw paymentsErrors.of('unprocessable', 'payout_phone_unverified', 'No provider serves this number.');
    const row = await payouts.insert({
      payout_id: input.payoutId ?? randomUUID(),
      payee_kind: input.kind,
      payee_id: payeeId,
      requested_by: input.requesterId,
      amount_minor: input.amountMinor,
      currency: 'XAF',
      phone,
      status: input.automatic === true ? 'APPROVED' : 'REQUESTED',
      automatic: input.automatic === true,
      provider,
      provider_reference: null,
      fee_minor: null,
      failure_reason: null,
      review_reason: null,
      sent_at: null,
      approved_by: input.automatic === true ? 'system' : null,
      approved_at: input.automatic === true ? now() : null,
    });
    // The row first, then the hold: a crash in between leaves a row without a hold, which the
    // job holds (or fails) before sending; the other order could hold money with no payout.
    const refusal = await submitAll(ledger, [holdTransfer(row, provider)]);
    if (refusal !== null) {
      await payouts.remove(row.payout_id);
      throw await holdRefused(refusal, input.kind, payeeId);
    }
    if (input.automatic === true) await enqueue(row.payout_id);
    return row;
  }

  /**
   * The request again after its answer was lost (the process died, or it failed with a 5xx after
   * the row was written): the same payout, its hold submitted again (`exists` once it is there),
   * an automatic one enqueued again (the job id dedupes). A random id here used to make a second
   * payout — a withdrawal sent twice, or 422 once the first held the whole balance (found by the
   * fault suite: PostgreSQL connections cut during payout requests).
   */
  async function resumeRequest(row: PayoutRow): Promise<PayoutRow> {
    const refusal = await submitAll(ledger, [holdTransfer(row, row.provider as ProviderName)]);
    if (refusal !== null) {
      if (row.sent_at === null && (row.status === 'REQUESTED' || row.status === 'APPROVED'))
        await payouts.remove(row.payout_id);
      throw await holdRefused(refusal, row.payee_kind, row.payee_id);
    }
    if (row.automatic) await enqueue(row.payout_id);
    return row;
  }

  /** Why a hold at request time was refused, as the requester's error (nothing stays held). */
  async function holdRefused(refusal: TransferOutcome, kind: PayeeKind, payeeId: string): Promise<Error> {
    if (refusal.result === 'exceeds_credits') {
      const available = await requestable(kind, payeeId);
      const shown = available > 0n ? available : 0n;
      return paymentsErrors.of(
        'unprocessable',
        'insufficient_funds',
        `At most ${shown} XAF can be paid out now.`,
        {
          details: { availableMinor: Number(shown) },
        },
      );
    }
    if (refusal.result === 'exceeds_debits') {
      // Our books say the provider holds too little of our money for this payout: finance must
      // move funds to it first. Not the payee's fault, and nothing was held.
      logger.error({ transferId: refusal.id }, 'payout refused: the provider clearing account is short');
      return paymentsErrors.of(
        'unavailable',
        'payouts_unavailable',
        'Payouts are paused for this provider; try again later.',
        { retryAfterSeconds: 3_600 },
      );
    }
    return new LedgerRefusal(refusal);
  }

  async function enqueue(payoutId: string, suffix = ''): Promise<void> {
    await queue.enqueue(PAYOUT_QUEUE, { payoutId }, { jobId: `payout-${payoutId}${suffix}` });
  }

  async function approve(payoutId: string, adminId: string): Promise<PayoutRow> {
    const updated = await payouts.approve(payoutId, adminId, now());
    if (updated === undefined) {
      const row = await get(payoutId);
      if (row === undefined)
        throw paymentsErrors.of('not_found', 'payout_not_found', 'There is no such payout.');
      throw paymentsErrors.of('conflict', 'payout_not_requested', `The payout is already ${row.status}.`, {
        details: { currentStatus: row.status },
      });
    }
    await options.audit({
      action: 'payout.approved',
      actor: { kind: 'user', userId: adminId },
      resource: `payout:${payoutId}`,
      newValue: {
        amountMinor: Number(updated.amount_minor),
        payeeKind: updated.payee_kind,
        payeeId: updated.payee_id,
      },
    });
    await enqueue(payoutId);
    return updated;
  }

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

  /** An admin refuses a payout not yet being sent: the held money is available again. */
  async function reject(payoutId: string, adminId: string, reason: string): Promise<PayoutRow> {
    const updated = await payouts.reject(payoutId, reason.slice(0, 500), now());
    if (updated === undefined) throw await notIn(payoutId, 'payout_not_rejectable');
    await voidHold(payoutId);
    await options.audit({
      action: 'payout.rejected',
      actor: { kind: 'user', userId: adminId },
      resource: `payout:${payoutId}`,
      newValue: { amountMinor: Number(updated.amount_minor), reason },
    });
    return updated;
  }

  /**
   * Finance's answer to a payout in NEEDS_REVIEW, after checking with the provider and the payee:
   * `sent` posts the hold (the payee has the money), `not_sent` releases it (the payee may ask
   * again). Audited; the job never sends a payout in review.
   */
  async function resolveReview(input: {
    payoutId: string;
    adminId: string;
    outcome: 'sent' | 'not_sent';
    reason: string;
    providerReference?: string;
  }): Promise<PayoutRow> {
    const row = await get(input.payoutId);
    if (row === undefined || row.status !== 'NEEDS_REVIEW')
      throw await notIn(input.payoutId, 'payout_not_in_review');
    const provider = row.provider as ProviderName;
    await payouts.reopenReview(row.payout_id, now(), input.providerReference);
    await settleWithLedger(
      row,
      provider,
      input.outcome === 'sent' ? 'SUCCESSFUL' : 'FAILED',
      `NOT_SENT (finance): ${input.reason}`,
    );
    await options.audit({
      action: 'payout.review_resolved',
      actor: { kind: 'user', userId: input.adminId },
      resource: `payout:${row.payout_id}`,
      oldValue: { status: 'NEEDS_REVIEW', reviewReason: row.review_reason },
      newValue: {
        outcome: input.outcome,
        reason: input.reason,
        providerReference: input.providerReference ?? null,
      },
    });
    return (await get(row.payout_id))!;
  }

  async function notIn(payoutId: string, code: string): Promise<Error> {
    const row = await get(payoutId);
    if (row === undefined)
      return paymentsErrors.of('not_found', 'payout_not_found', 'There is no such payout.');
    return paymentsErrors.of('conflict', code, `The payout is ${row.status}.`, {
      details: { currentStatus: row.status },
    });
  }

  /**
   * A webhook for a disbursement we made: re-run the job (it re-reads the status). Found by the
   * provider's reference, or by our own (the payout id) when a crash lost the provider's.
   */
  async function onProviderReference(
    provider: ProviderName,
    providerReference: string,
    externalReference?: string,
  ): Promise<boolean> {
    const byOurs = externalReference !== undefined && isUuid(externalReference);
    const row = await payouts.findByReference(
      provider,
      providerReference,
      byOurs ? externalReference : undefined,
    );
    if (row === undefined) return false;
    if (row.status === 'PROCESSING') await enqueue(row.payout_id, `-wh-${Math.floor(Date.now() / 1_000)}`);
    return true;
  }

  async function updateSettings(input: {
    kind: Exclude<PayeeKind, 'customer'>;
    payeeId: string;
    autoEnabled: boolean;
    minimumMinor: bigint;
    by: string;
  }): Promise<void> {
    await payouts.saveSettings(input, now());
  }

  /** Scheduled daily: pays out every opted-in payee whose available balance reached its minimum. */
  async function automaticSettlement(): Promise<{ created: number }> {
    const settings = await payouts.automaticPayees(AUTO_BATCH);
    let created = 0;
    for (const setting of settings) {
      const available = await requestable(setting.payee_kind, setting.payee_id);
      if (available < setting.minimum_minor || available < MIN_PAYOUT_MINOR) continue;
      try {
        const requester =
          setting.payee_kind === 'driver'
            ? setting.payee_id
            : ((await options.restaurantOwner(setting.payee_id)) ?? setting.updated_by);
        await request({
          requesterId: requester,
          kind: setting.payee_kind,
          ...(setting.payee_kind === 'restaurant' ? { restaurantId: setting.payee_id } : {}),
          amountMinor: available,
          isAdmin: true,
          automatic: true,
        });
        created += 1;
      } catch (error) {
        logger.warn({ err: error, payeeKind: setting.payee_kind }, 'automatic settlement skipped a payee');
      }
    }
    return { created };
  }

  function defineJobs(): void {
    queue.define<{ payoutId: string }>({
      queue: PAYOUT_QUEUE,
      concurrency: 4,
      attempts: 12,
      backoffMs: 2_000,
      handler: async (data) => void (await process(data.payoutId)),
    });
  }

  async function list(kind: PayeeKind, payeeId: string, limit = 50): Promise<PayoutRow[]> {
    return payouts.list(kind, payeeId, Math.min(limit, 100));
  }

  return {
    request,
    approve,
    reject,
    resolveReview,
    process,
    get,
    list,
    requestable,
    onProviderReference,
    updateSettings,
    automaticSettlement,
    defineJobs,
  };
}

export type Payouts = ReturnType<typeof createPayouts>;

export function normalisePayoutPhone(phone: string | null | undefined): string | undefined {
  return phone === null || phone === undefined ? undefined : toE164(phone);
}

export { isProviderError };
