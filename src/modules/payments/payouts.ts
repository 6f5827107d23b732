/**
 * Payouts to restaurants and drivers: requested (at most the payable's available balance, to the
 * payee's verified Mobile Money number), approved by an admin with a TOTP step-up (or opted into
 * the daily automatic settlement), then processed by a job that is idempotent end to end:
 *
 *   1. hold      ledger pending transfer payable → provider clearing (`payout:<id>:hold`)
 *   2. disburse  on the provider with our payout id as its external reference (CamPay answers a
 *                reused reference with the earlier transaction: a retry never pays twice)
 *   3. post      the hold on SUCCESSFUL (+ the provider fee), or void it on FAILED.
 *
 * A worker killed anywhere in between is retried by the queue and resumes from what the ledger
 * and the provider already know. Payouts never fail over to another provider: the hold names the
 * provider's clearing account and only the same provider can recognise a retried reference.
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
import type { Db } from '../../db/database.js';
import { paymentsErrors } from './errors.js';
import type { JobQueue } from '../../jobs/index.js';
import type { AuditFunction } from '../identity/index.js';
import { accepted, LedgerRefusal, submitAll, type LedgerPort } from './ledger-port.js';
import {
  detectOperator,
  isProviderError,
  ProviderRejected,
  toE164,
  type PaymentRouter,
  type ProviderName,
  type ProviderStatus,
} from './providers/index.js';
import type { PayoutsTable } from './tables.js';
import type { Selectable } from 'kysely';

export const PAYOUT_QUEUE = 'payouts-process';
const STATUS_POLLS = 10;
const STATUS_POLL_DELAY_MS = 300;
const AUTO_BATCH = 500;
export const MIN_PAYOUT_MINOR = 500n;

export type PayoutRow = Selectable<PayoutsTable>;
/** Customers take wallet money back to Mobile Money (a refund they asked to receive there). */
export type PayeeKind = 'restaurant' | 'driver' | 'customer';

export interface PayoutsOptions {
  db: Db;
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

class StillPending extends Error {
  constructor(payoutId: string) {
    super(`payout ${payoutId} is still pending at the provider`);
    this.name = 'StillPending';
  }
}

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
  const { db, ledger, router, queue, logger } = options;
  const now = options.now ?? (() => new Date());

  async function get(payoutId: string): Promise<PayoutRow | undefined> {
    return db.selectFrom('payouts').selectAll().where('payout_id', '=', payoutId).executeTakeFirst();
  }

  /** Available to request: the payable's available balance less payouts requested or approved but not yet held. */
  async function requestable(kind: PayeeKind, payeeId: string): Promise<bigint> {
    const account = await ledger.account(payableOf(kind, payeeId));
    const open = await db
      .selectFrom('payouts')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<bigint>('amount_minor'), eb.val(0n)).as('total'))
      .where('payee_kind', '=', kind)
      .where('payee_id', '=', payeeId)
      .where('status', 'in', ['REQUESTED', 'APPROVED'])
      .executeTakeFirstOrThrow();
    return (account?.availableMinor ?? 0n) - BigInt(open.total);
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
  }): Promise<PayoutRow> {
    const { payeeId, phoneOwnerId } = await payeeFor(
      input.requesterId,
      input.kind,
      input.restaurantId,
      input.isAdmin,
    );
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
    const available = await requestable(input.kind, payeeId);
    if (input.amountMinor > available)
      throw paymentsErrors.of(
        'unprocessable',
        'insufficient_balance',
        `At most ${available > 0n ? available : 0n} XAF can be paid out now.`,
        { details: { availableMinor: Number(available > 0n ? available : 0n) } },
      );
    const row = await db
      .insertInto('payouts')
      .values({
        payout_id: randomUUID(),
        payee_kind: input.kind,
        payee_id: payeeId,
        requested_by: input.requesterId,
        amount_minor: input.amountMinor,
        currency: 'XAF',
        phone,
        status: input.automatic === true ? 'APPROVED' : 'REQUESTED',
        automatic: input.automatic === true,
        provider: null,
        provider_reference: null,
        fee_minor: null,
        failure_reason: null,
        approved_by: input.automatic === true ? 'system' : null,
        approved_at: input.automatic === true ? now() : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.automatic === true) await enqueue(row.payout_id);
    return row;
  }

  async function enqueue(payoutId: string, suffix = ''): Promise<void> {
    await queue.enqueue(PAYOUT_QUEUE, { payoutId }, { jobId: `payout-${payoutId}${suffix}` });
  }

  async function approve(payoutId: string, adminId: string): Promise<PayoutRow> {
    const updated = await db
      .updateTable('payouts')
      .set({ status: 'APPROVED', approved_by: adminId, approved_at: now(), updated_at: now() })
      .where('payout_id', '=', payoutId)
      .where('status', '=', 'REQUESTED')
      .returningAll()
      .executeTakeFirst();
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
    await db
      .updateTable('payouts')
      .set({ status: 'FAILED', failure_reason: reason, updated_at: now() })
      .where('payout_id', '=', row.payout_id)
      .execute();
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

  /** The provider's current answer for this payout: disburse once, or re-read what it already did. */
  async function disburseOrRead(
    row: PayoutRow,
    provider: ProviderName,
  ): Promise<{ reference: string; status: ProviderStatus; reason?: string }> {
    if (row.provider_reference !== null) {
      const status = await router.status(provider, row.provider_reference, 'disbursement');
      return {
        reference: row.provider_reference,
        status: status.status,
        ...(status.reason === undefined ? {} : { reason: status.reason }),
      };
    }
    const result = await router.provider(provider).disburse({
      amountMinor: row.amount_minor,
      currency: 'XAF',
      phoneE164: row.phone,
      description: 'Versement',
      externalReference: row.payout_id,
    });
    await db
      .updateTable('payouts')
      .set({ provider_reference: result.providerReference, updated_at: now() })
      .where('payout_id', '=', row.payout_id)
      .execute();
    return { reference: result.providerReference, status: result.status };
  }

  async function settleWithLedger(
    row: PayoutRow,
    provider: ProviderName,
    status: 'SUCCESSFUL' | 'FAILED',
    reason?: string,
  ): Promise<void> {
    const holdId = `payout:${row.payout_id}:hold`;
    if (status === 'FAILED') {
      const refusal = await submitAll(ledger, [
        {
          id: `payout:${row.payout_id}:void`,
          debitAccountId: '',
          creditAccountId: '',
          amountMinor: 0n,
          currency: 'XAF',
          code: 'payout',
          flags: { voidPending: true },
          pendingId: holdId,
          userData: { payoutId: row.payout_id },
        },
      ]);
      if (refusal !== null) throw new LedgerRefusal(refusal);
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
    await db
      .updateTable('payouts')
      .set({ status: 'SUCCEEDED', fee_minor: fee, updated_at: now() })
      .where('payout_id', '=', row.payout_id)
      .execute();
  }

  /** The job: hold, disburse, post or void. Safe to run again at any point. */
  async function process(payoutId: string): Promise<PayoutRow | undefined> {
    let row = await get(payoutId);
    if (
      row === undefined ||
      row.status === 'SUCCEEDED' ||
      row.status === 'FAILED' ||
      row.status === 'REQUESTED'
    )
      return row;
    const provider = (row.provider as ProviderName | null) ?? router.routeFor(row.phone)?.primary;
    if (provider === undefined) {
      await fail(row, 'UNSUPPORTED_OPERATOR');
      return get(payoutId);
    }
    row = await db
      .updateTable('payouts')
      .set((eb) => ({ status: 'PROCESSING', provider, attempts: eb('attempts', '+', 1), updated_at: now() }))
      .where('payout_id', '=', payoutId)
      .returningAll()
      .executeTakeFirstOrThrow();
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
      answer = await disburseOrRead(row, provider);
    } catch (error) {
      if (error instanceof ProviderRejected && error.httpStatus !== undefined) {
        await settleWithLedger(row, provider, 'FAILED', error.code);
        return get(payoutId);
      }
      throw error; // unavailable: the queue retries with backoff
    }
    let status = answer.status;
    for (let poll = 0; status === 'PENDING' && poll < STATUS_POLLS; poll += 1) {
      await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_DELAY_MS));
      status = (await router.status(provider, answer.reference, 'disbursement')).status;
    }
    if (status === 'PENDING') throw new StillPending(payoutId);
    await settleWithLedger(row, provider, status, answer.reason);
    return get(payoutId);
  }

  /** A webhook for a disbursement we made: re-run the job (it re-reads the status). */
  async function onProviderReference(provider: ProviderName, providerReference: string): Promise<boolean> {
    const row = await db
      .selectFrom('payouts')
      .select(['payout_id', 'status'])
      .where('provider', '=', provider)
      .where('provider_reference', '=', providerReference)
      .executeTakeFirst();
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
    await db
      .insertInto('payout_settings')
      .values({
        payee_kind: input.kind,
        payee_id: input.payeeId,
        auto_enabled: input.autoEnabled,
        minimum_minor: input.minimumMinor,
        updated_by: input.by,
      })
      .onConflict((conflict) =>
        conflict.columns(['payee_kind', 'payee_id']).doUpdateSet({
          auto_enabled: input.autoEnabled,
          minimum_minor: input.minimumMinor,
          updated_by: input.by,
          updated_at: now(),
        }),
      )
      .execute();
  }

  /** Scheduled daily: pays out every opted-in payee whose available balance reached its minimum. */
  async function automaticSettlement(): Promise<{ created: number }> {
    const settings = await db
      .selectFrom('payout_settings')
      .selectAll()
      .where('auto_enabled', '=', true)
      .limit(AUTO_BATCH)
      .execute();
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
    return db
      .selectFrom('payouts')
      .selectAll()
      .where('payee_kind', '=', kind)
      .where('payee_id', '=', payeeId)
      .orderBy('created_at', 'desc')
      .limit(Math.min(limit, 100))
      .execute();
  }

  return {
    request,
    approve,
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
