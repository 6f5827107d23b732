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
import type { FieldCipher } from '../../platform/field-crypto.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PaymentsDb, PayoutStatus } from './tables.js';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../shared/time-id-cursor.js';
import { paymentsErrors } from './errors.js';
import type { JobQueue } from '../../jobs/index.js';
import type { AuditFunction } from '../identity/index.js';
import { isUuid } from './ids.js';
import { LedgerRefusal, submitAll, type LedgerPort } from './ledger-port.js';
import {
  detectOperator,
  isProviderError,
  toE164,
  type PaymentRouter,
  type ProviderName,
} from './providers/index.js';
import type { TransferOutcome } from '../../../ledger/writer/index.js';
import { createPayoutJob, payableOf, type PayeeKind } from './payout-job.js';
import { createPayoutsRepository, type PayoutRow } from './payouts-repository.js';

export const PAYOUT_QUEUE = 'payouts-process';
const AUTO_BATCH = 500;
export const MIN_PAYOUT_MINOR = 500n;

export type { PayoutRow } from './payouts-repository.js';

export interface PayoutsOptions {
  db: PaymentsDb;
  ledger: LedgerPort;
  router: PaymentRouter;
  queue: JobQueue;
  logger: Logger;
  audit: AuditFunction;
  /** Encrypts the payout phone at rest. */
  fields: FieldCipher;
  /** The payee's phone if verified (E.164), else undefined. */
  verifiedPhone: (userId: string) => Promise<string | undefined>;
  restaurantOwner: (restaurantId: string) => Promise<string | undefined>;
  /**
   * Whether an admin's hold or a fraud case holds this payee's payouts and withdrawals (the admin
   * context's holds; issue #23). `personId` is the person paid (a restaurant's owner).
   */
  payoutHeld?: (payee: HeldPayee) => Promise<boolean>;
  now?: () => Date;
}

export { payableOf, type PayeeKind } from './payout-job.js';

/** A payee as the admin context's holds name it. */
export interface HeldPayee {
  kind: PayeeKind;
  payeeId: string;
  personId: string;
}

export { PAYOUT_PHONE, REDACTED_PHONE, payoutPhone } from './payouts-repository.js';

export function createPayouts(options: PayoutsOptions) {
  const { ledger, router, queue, logger } = options;
  const payouts = createPayoutsRepository(options.db, options.fields);
  const now = options.now ?? (() => new Date());
  const { process, holdTransfer, settleWithLedger, voidHold } = createPayoutJob({
    payouts,
    ledger,
    router,
    logger,
    audit: options.audit,
    now,
    ...(options.payoutHeld === undefined ? {} : { held: heldRow }),
  });

  /** Whether a hold stops this payout now (asked by the job before its first send). */
  async function heldRow(row: PayoutRow): Promise<boolean> {
    const personId =
      row.payee_kind === 'restaurant' ? await options.restaurantOwner(row.payee_id) : row.payee_id;
    return options.payoutHeld!({
      kind: row.payee_kind,
      payeeId: row.payee_id,
      personId: personId ?? row.payee_id,
    });
  }

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
    await refuseIfHeld({ kind: input.kind, payeeId, personId: phoneOwnerId });
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

  /** A hold on the payee (an admin's, or a fraud case's on its person) stops a request or an approval. */
  async function refuseIfHeld(payee: HeldPayee): Promise<void> {
    if (options.payoutHeld === undefined) return;
    if (await options.payoutHeld(payee)) throw heldError();
  }

  function heldError(): Error {
    return paymentsErrors.of(
      'conflict',
      'payout_held',
      'Payouts to this payee are on hold (an admin or a fraud review); an admin releases the hold.',
    );
  }

  async function approve(payoutId: string, adminId: string): Promise<PayoutRow> {
    const pending = await get(payoutId);
    if (pending?.status === 'REQUESTED' && options.payoutHeld !== undefined && (await heldRow(pending)))
      throw heldError();
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

  /** A page of the payouts in one status (admins' queue), oldest change first. */
  async function byStatus(status: PayoutStatus, limit: number, cursor?: string) {
    const after = cursor === undefined ? undefined : decodeTimeIdCursor(cursor);
    if (cursor !== undefined && after === undefined)
      throw paymentsErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
    const rows = await payouts.byStatus(status, limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeTimeIdCursor(last.updated_at, last.payout_id)
          : null,
    };
  }

  return {
    request,
    approve,
    byStatus,
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
