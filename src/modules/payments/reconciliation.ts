/**
 * Reconciliation runs: pull the provider's statement for a period, gather our payment attempts
 * and payouts for the same provider and period with what the ledger booked on the provider's
 * clearing account, match them (reconcile-rules.ts) and store every item. An exception is
 * resolved by booking a corrective ledger transfer with a reason (never by editing anything).
 */
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../shared/time-id-cursor.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { providerClearingId, worldId, type Transfer } from '../../../ledger/rules/index.js';
import type { CardProvider, CardProviderBadResponse } from './cards/flutterwave.js';
import { createReconciliationRepository, type ReconciledProvider } from './reconciliation-repository.js';
import { createReconciliationSources } from './reconciliation-sources.js';
import type { PaymentsDb } from './tables.js';
import { paymentsErrors } from './errors.js';
import type { JobQueue } from '../../jobs/index.js';
import type { AuditFunction } from '../identity/index.js';
import { LedgerRefusal, submitAll, type LedgerPort } from './ledger-port.js';
import {
  isProviderError,
  providerErrorToDomainError,
  type PaymentRouter,
  type ProviderName,
} from './providers/index.js';
import {
  EXCEPTION_STATUSES,
  reconcile,
  type ReconciliationStatus,
  REQUESTED_AMOUNT_DIFFERS,
} from './reconcile-rules.js';

export const RECONCILIATION_QUEUE = 'reconciliation';
/** A provider fee within this of our estimate is MATCHED_WITHIN_TOLERANCE (rounding, fee grid). */
export const FEE_TOLERANCE_MINOR = 5n;
const MAX_PERIOD_MS = 31 * 86_400_000;
const ITEM_PAGE = 500;

export interface ReconciliationOptions {
  db: PaymentsDb;
  ledger: LedgerPort;
  router: PaymentRouter;
  queue: JobQueue;
  logger: Logger;
  audit: AuditFunction;
  /** Waits until the ledger read model has caught up (the run reads what it booked). */
  ledgerCaughtUp: () => Promise<void>;
  /**
   * Books a collection of ours that we never recorded (its attempt lost the provider's
   * reference) through the payments flow, to the payer's wallet or order; undefined when the
   * attempt does not own that collection.
   */
  recoverCollection: (
    paymentId: string,
    provider: ProviderName,
    providerReference: string,
  ) => Promise<{ transferId: string } | undefined>;
  /** Flutterwave, for card fundings (issue #28); undefined: card fundings are not reconciled. */
  cards?: CardProvider;
  now?: () => Date;
}

export function createReconciliation(options: ReconciliationOptions) {
  const { router, logger } = options;
  const repository = createReconciliationRepository(options.db);
  const now = options.now ?? (() => new Date());
  const { internalLines, providerLines, ownUnrecorded, cardInternalLines, cardProviderLines } =
    createReconciliationSources(repository, router);

  /** Our lines and the provider's for a period: Mobile Money through the router, cards through Flutterwave. */
  async function linesOf(provider: ReconciledProvider, from: Date, to: Date) {
    if (provider === 'flutterwave') {
      if (options.cards === undefined)
        throw paymentsErrors.of(
          'unavailable',
          'card_funding_unavailable',
          'Card funding is not configured here.',
          {
            retryAfterSeconds: 3600,
          },
        );
      const ours = await cardInternalLines(from, to);
      return { ours, theirs: await cardProviderLines(options.cards, from, to) };
    }
    const ours = await internalLines(provider, from, to);
    return { ours, theirs: await providerLines(provider, from, to, ours) };
  }

  async function run(input: {
    provider: ReconciledProvider;
    from: Date;
    to: Date;
    requestedBy: string;
  }): Promise<string> {
    if (!(input.to > input.from) || input.to.getTime() - input.from.getTime() > MAX_PERIOD_MS)
      throw paymentsErrors.of(
        'unprocessable',
        'invalid_period',
        'A run covers a period of at most 31 days, from before to.',
      );
    const runId = randomUUID();
    // The run and its audit line commit together: a start is never recorded without who asked.
    await options.db.transaction().execute(async (trx) => {
      await createReconciliationRepository(trx).startRun({ runId, ...input });
      await options.audit(
        {
          action: 'reconciliation.run_started',
          actor:
            input.requestedBy === 'system' ? { kind: 'system' } : { kind: 'user', userId: input.requestedBy },
          resource: `reconciliation:${runId}`,
          // Not `from`/`to`: the audit log masks keys by those names as phone numbers.
          newValue: {
            runId,
            provider: input.provider,
            periodFrom: input.from.toISOString(),
            periodTo: input.to.toISOString(),
          },
        },
        trx,
      );
    });
    try {
      await options.ledgerCaughtUp();
      const { ours, theirs } = await linesOf(input.provider, input.from, input.to);
      const items = await ownUnrecorded(
        reconcile(theirs, ours, { toleranceMinor: FEE_TOLERANCE_MINOR }),
        theirs,
      );
      const counts: Record<string, number> = {};
      for (const item of items) counts[item.status] = (counts[item.status] ?? 0) + 1;
      await repository.completeRun(
        runId,
        items.map((item, index) => ({
          run_id: runId,
          item_no: index + 1,
          status: item.status,
          kind: item.kind,
          provider_reference: item.reference,
          internal_id: item.internalId,
          provider_amount_minor: item.providerAmountMinor,
          ledger_amount_minor: item.ledgerAmountMinor,
          provider_fee_minor: item.providerFeeMinor,
          provider_status: item.providerStatus,
          internal_status: item.internalStatus,
          detail: item.detail,
          resolved_at: null,
          resolved_by: null,
          resolution_reason: null,
          resolution_transfer_id: null,
        })),
        counts,
        now(),
        ITEM_PAGE,
      );
    } catch (error) {
      await repository.failRun(runId, (error as Error).message.slice(0, 500), now());
      if (isProviderError(error)) throw providerErrorToDomainError(error);
      if (
        error instanceof Error &&
        (error.name === 'CardProviderUnavailable' || error.name === 'CardProviderBadResponse')
      )
        throw paymentsErrors.of(
          error.name === 'CardProviderUnavailable' ? 'unavailable' : 'bad_gateway',
          error.name === 'CardProviderUnavailable'
            ? 'card_provider_unavailable'
            : 'card_provider_bad_response',
          'The card provider could not give its transactions; the run failed, try again.',
          { retryAfterSeconds: 60, cause: error as CardProviderBadResponse },
        );
      throw error;
    }
    return runId;
  }

  async function get(
    runId: string,
    query: { onlyExceptions?: boolean; limit?: number; afterItem?: number } = {},
  ) {
    const runRow = await repository.findRun(runId);
    if (runRow === undefined)
      throw paymentsErrors.of(
        'not_found',
        'reconciliation_run_not_found',
        'There is no such reconciliation run.',
      );
    const limit = Math.min(Math.max(query.limit ?? 100, 1), ITEM_PAGE);
    const rows = await repository.items(runId, {
      afterItem: query.afterItem ?? 0,
      limit: limit + 1,
      ...(query.onlyExceptions === true ? { statuses: [...EXCEPTION_STATUSES] } : {}),
    });
    return { run: runRow, items: rows.slice(0, limit), more: rows.length > limit };
  }

  /** An unrecorded collection of one of our attempts: booked to its payer through the payments flow. */
  async function recoverOwn(
    provider: ProviderName,
    item: { status: string; kind: string; internal_id: string | null; provider_reference: string | null },
  ): Promise<{ transferId: string } | undefined> {
    if (item.status !== 'MISSING_IN_LEDGER' || item.kind !== 'collection') return undefined;
    if (item.internal_id === null || item.provider_reference === null) return undefined;
    return options.recoverCollection(item.internal_id, provider, item.provider_reference);
  }

  /** The corrective transfer for an exception: moves the clearing account to what the provider says. */
  function correction(item: {
    status: string;
    detail: string | null;
    kind: string;
    provider_amount_minor: bigint | null;
    ledger_amount_minor: bigint | null;
    provider_fee_minor: bigint | null;
  }): bigint {
    const provider = item.provider_amount_minor ?? 0n;
    const booked = item.ledger_amount_minor ?? 0n;
    const sign = item.kind === 'collection' ? 1n : -1n; // collections raise the clearing balance, payouts lower it
    switch (item.status as ReconciliationStatus) {
      case 'MISSING_IN_LEDGER':
      case 'DUPLICATE':
        return sign * provider;
      case 'MISSING_AT_PROVIDER':
        return -sign * booked;
      case 'AMOUNT_MISMATCH':
        // Booked what the provider proved it collected, less than requested: the clearing account
        // agrees with the statement; resolving records that finance saw it (and settled with the payer).
        if (provider === booked && item.detail?.startsWith(REQUESTED_AMOUNT_DIFFERS) === true) return 0n;
        return sign * (provider - booked) !== 0n
          ? sign * (provider - booked)
          : -(item.provider_fee_minor ?? 0n);
      case 'STATUS_MISMATCH':
        return booked > 0n ? -sign * booked : sign * provider;
      default:
        throw paymentsErrors.of(
          'conflict',
          'nothing_to_resolve',
          `A ${item.status} item needs no correction.`,
        );
    }
  }

  async function resolve(input: { runId: string; itemNo: number; reason: string; adminId: string }) {
    const run = await repository.findRun(input.runId);
    const item = await repository.findItem(input.runId, input.itemNo);
    if (run === undefined || item === undefined)
      throw paymentsErrors.of('not_found', 'reconciliation_item_not_found', 'There is no such item.');
    if (item.resolved_at !== null)
      throw paymentsErrors.of('conflict', 'already_resolved', 'This item was already resolved.');
    const cardRun = run.provider === 'flutterwave';
    // A card funding's internal id is the funding, not a payment attempt: nothing to recover through payments.
    const recovered = cardRun ? undefined : await recoverOwn(run.provider as ProviderName, item);
    const delta = recovered === undefined ? correction(item) : 0n;
    // A card item is corrected in its funding's currency (USD or EUR); an unknown reference in USD.
    const currency = cardRun
      ? ((await repository.cardItemCurrency(item.provider_reference, item.internal_id)) ?? 'USD')
      : 'XAF';
    const clearing = providerClearingId(run.provider as ReconciledProvider, currency);
    const transferId = recovered?.transferId ?? `recon:${input.runId}:${input.itemNo}`;
    if (delta !== 0n) {
      const transfer: Transfer = {
        id: transferId,
        debitAccountId: delta > 0n ? clearing : worldId(currency),
        creditAccountId: delta > 0n ? worldId(currency) : clearing,
        amountMinor: delta > 0n ? delta : -delta,
        currency,
        code: 'adjustment',
        flags: {},
        userData: { runId: input.runId, item: String(input.itemNo), reason: input.reason.slice(0, 128) },
      };
      const refusal = await submitAll(options.ledger, [transfer]);
      if (refusal !== null) throw new LedgerRefusal(refusal);
    }
    const updated = await repository.markResolved(input.runId, input.itemNo, {
      at: now(),
      by: input.adminId,
      reason: input.reason,
      transferId: delta === 0n && recovered === undefined ? null : transferId,
    });
    if (updated === undefined)
      throw paymentsErrors.of('conflict', 'already_resolved', 'This item was already resolved.');
    await options.audit({
      action: 'reconciliation.resolved',
      actor: { kind: 'user', userId: input.adminId },
      resource: `reconciliation:${input.runId}:${input.itemNo}`,
      newValue: {
        status: item.status,
        correctionMinor: Number(delta),
        reason: input.reason,
        ...(recovered === undefined ? {} : { creditedBy: recovered.transferId }),
      },
    });
    return updated;
  }

  /** Every item of a run as CSV; `;` for spreadsheets in a French locale (where `,` is the decimal mark). */
  async function csv(runId: string, delimiter: CsvDelimiter = ','): Promise<string> {
    const header =
      'item_no,status,kind,provider_reference,internal_id,provider_amount_minor,ledger_amount_minor,provider_fee_minor,provider_status,internal_status,detail,resolved_at,resolution_reason,resolution_transfer_id';
    const lines = [header.replaceAll(',', delimiter)];
    for (let after = 0; ;) {
      const page = await get(runId, { afterItem: after, limit: ITEM_PAGE });
      for (const item of page.items) {
        lines.push(
          [
            item.item_no,
            item.status,
            item.kind,
            item.provider_reference,
            item.internal_id,
            item.provider_amount_minor,
            item.ledger_amount_minor,
            item.provider_fee_minor,
            item.provider_status,
            item.internal_status,
            item.detail,
            item.resolved_at?.toISOString(),
            item.resolution_reason,
            item.resolution_transfer_id,
          ]
            .map((value) => csvCell(value, delimiter))
            .join(delimiter),
        );
      }
      if (!page.more) break;
      after = page.items.at(-1)!.item_no;
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  function defineJobs(): void {
    options.queue.define<{ provider: ReconciledProvider; from: string; to: string }>({
      queue: RECONCILIATION_QUEUE,
      concurrency: 1,
      attempts: 3,
      backoffMs: 60_000,
      handler: async (data) =>
        void (await run({
          provider: data.provider,
          from: new Date(data.from),
          to: new Date(data.to),
          requestedBy: 'system',
        })),
    });
  }

  /** Nightly: yesterday (Douala day) for every configured provider. */
  async function enqueueNightly(at: Date, providers: ReconciledProvider[]): Promise<void> {
    const dayStart = new Date(Math.floor((at.getTime() + 3_600_000) / 86_400_000) * 86_400_000 - 3_600_000);
    const from = new Date(dayStart.getTime() - 86_400_000);
    for (const provider of providers) {
      await options.queue.enqueue(
        RECONCILIATION_QUEUE,
        { provider, from: from.toISOString(), to: dayStart.toISOString() },
        { jobId: `recon-${provider}-${from.toISOString().slice(0, 10)}` },
      );
    }
    logger.info({ providers, from: from.toISOString() }, 'nightly reconciliation queued');
  }

  /** A page of runs, newest first. */
  async function runs(query: { limit: number; provider?: string | undefined; cursor?: string | undefined }) {
    const after = query.cursor === undefined ? undefined : decodeTimeIdCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined)
      throw paymentsErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
    const rows = await repository.runs(query.limit + 1, query.provider, after);
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > query.limit && last !== undefined
          ? encodeTimeIdCursor(last.created_at, last.run_id)
          : null,
    };
  }

  return { run, get, runs, resolve, csv, defineJobs, enqueueNightly };
}

/** A payout's status as reconciliation sees it: in review is still in flight for the statement. */

export type CsvDelimiter = ',' | ';';

export function csvCell(value: unknown, delimiter: CsvDelimiter = ','): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'bigint' ? value.toString() : String(value);
  // Quote, and defuse spreadsheet formulas in text cells.
  const safe = /^[=+\-@]/.test(text) && !/^-?\d+$/.test(text) ? `'${text}` : text;
  return /["\r\n]/.test(safe) || safe.includes(delimiter) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export type Reconciliation = ReturnType<typeof createReconciliation>;
