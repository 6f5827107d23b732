/**
 * The SQL of reconciliation: our side of a period (attempts and payouts with a provider
 * reference, and what the ledger booked on the provider's clearing account), the runs and their
 * items, and an item's resolution.
 */
import { sql, type Insertable } from 'kysely';
import { providerClearingId } from '../../../ledger/rules/index.js';
import type { ProviderName } from './providers/index.js';
import type { PaymentTables, PaymentsDb } from './tables.js';

/** The Mobile Money providers, and Flutterwave for card fundings (issue #28). */
export type ReconciledProvider = ProviderName | 'flutterwave';

export type ReconciliationItemRow = Insertable<PaymentTables['reconciliation_items']>;

export type ReconciliationRepository = ReturnType<typeof createReconciliationRepository>;

export function createReconciliationRepository(db: PaymentsDb) {
  return {
    /** Collections with a provider reference created in [from, to). */
    collectionsIn(provider: ProviderName, from: Date, to: Date, limit: number) {
      return db
        .selectFrom('payment_attempts')
        .select(['payment_id', 'provider_reference', 'status', 'fee_minor', 'amount_minor'])
        .where('provider', '=', provider)
        .where('provider_reference', 'is not', null)
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .limit(limit)
        .execute();
    },

    /** Card fundings opened in [from, to) (issue #28). */
    cardFundingsIn(from: Date, to: Date, limit: number) {
      return db
        .selectFrom('card_fundings')
        .select(['funding_id', 'tx_ref', 'status', 'fee_minor', 'amount_minor', 'currency'])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .limit(limit)
        .execute();
    },

    /**
     * The currency of a card run's item (its corrections are booked in it): the funding with this
     * tx_ref, or the reversal with this internal id (a refund or chargeback line).
     */
    async cardItemCurrency(
      reference: string | null,
      internalId: string | null,
    ): Promise<'USD' | 'EUR' | undefined> {
      if (reference !== null) {
        const funding = await db
          .selectFrom('card_fundings')
          .select('currency')
          .where('tx_ref', '=', reference)
          .executeTakeFirst();
        if (funding !== undefined) return funding.currency;
      }
      if (internalId === null) return undefined;
      const reversal = await db
        .selectFrom('card_funding_reversals')
        .select('currency')
        .where('reversal_id', '=', internalId)
        .executeTakeFirst();
      return reversal?.currency;
    },

    /** Card refunds and chargebacks recorded in [from, to) (issue #28). */
    cardReversalsIn(from: Date, to: Date, limit: number) {
      return db
        .selectFrom('card_funding_reversals')
        .select(['reversal_id', 'kind', 'status', 'amount_minor', 'currency', 'provider_reference'])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .limit(limit)
        .execute();
    },

    /** Which of these Flutterwave transaction ids are card fundings of ours. */
    async cardTransactionsOfOurs(transactionIds: string[]): Promise<Set<string>> {
      if (transactionIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('card_fundings')
        .select('provider_transaction_id')
        .where('provider_transaction_id', 'in', transactionIds)
        .execute();
      return new Set(rows.map((row) => row.provider_transaction_id!));
    },

    /** Payouts with a provider reference created in [from, to). */
    payoutsIn(provider: ProviderName, from: Date, to: Date, limit: number) {
      return db
        .selectFrom('payouts')
        .select(['payout_id', 'provider_reference', 'status', 'fee_minor'])
        .where('provider', '=', provider)
        .where('provider_reference', 'is not', null)
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .limit(limit)
        .execute();
    },

    /**
     * What the ledger booked on the provider's clearing account for these transfers (posted or
     * posting), by transfer id. It reads the ledger's read model (ledger_entries, not a payments
     * table), after the run waited for it to catch up.
     */
    async clearingBookings(
      provider: ReconciledProvider,
      transferIds: string[],
      currency: 'XAF' | 'USD' | 'EUR' = 'XAF',
    ): Promise<Map<string, bigint>> {
      if (transferIds.length === 0) return new Map();
      const rows = await sql<{ transfer_id: string; amount_minor: bigint }>`
        SELECT transfer_id, amount_minor FROM ledger_entries
        WHERE account_id = ${providerClearingId(provider, currency)} AND transfer_id = ANY(${transferIds}::text[])
          AND phase IN ('posted', 'post_pending')`.execute(db);
      return new Map(rows.rows.map((row) => [row.transfer_id, BigInt(row.amount_minor)]));
    },

    /** Which of these ids are attempts of ours. */
    async knownAttempts(paymentIds: string[]): Promise<Set<string>> {
      const rows = await db
        .selectFrom('payment_attempts')
        .select('payment_id')
        .where('payment_id', 'in', paymentIds)
        .execute();
      return new Set(rows.map((row) => row.payment_id));
    },

    async startRun(run: {
      runId: string;
      provider: ReconciledProvider;
      from: Date;
      to: Date;
      requestedBy: string;
    }): Promise<void> {
      await db
        .insertInto('reconciliation_runs')
        .values({
          run_id: run.runId,
          provider: run.provider,
          period_from: run.from,
          period_to: run.to,
          status: 'running',
          counts: '{}',
          requested_by: run.requestedBy,
          error: null,
          completed_at: null,
        })
        .execute();
    },

    /** Stores a run's items (in pages) and completes it, in one transaction. */
    async completeRun(
      runId: string,
      items: ReconciliationItemRow[],
      counts: Record<string, number>,
      at: Date,
      page: number,
    ): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (let start = 0; start < items.length; start += page) {
          await trx
            .insertInto('reconciliation_items')
            .values(items.slice(start, start + page))
            .execute();
        }
        await trx
          .updateTable('reconciliation_runs')
          .set({ status: 'completed', counts: JSON.stringify(counts), completed_at: at })
          .where('run_id', '=', runId)
          .execute();
      });
    },

    async failRun(runId: string, error: string, at: Date): Promise<void> {
      await db
        .updateTable('reconciliation_runs')
        .set({ status: 'failed', error, completed_at: at })
        .where('run_id', '=', runId)
        .execute();
    },

    /** Runs newest first (one provider's when given), after a (created_at, run_id) cursor. */
    runs(limit: number, provider: string | undefined, after?: { t: string; i: string }) {
      let query = db.selectFrom('reconciliation_runs').selectAll();
      if (provider !== undefined) query = query.where('provider', '=', provider);
      if (after !== undefined)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', new Date(after.t)),
            eb.and([eb('created_at', '=', new Date(after.t)), eb('run_id', '<', after.i)]),
          ]),
        );
      return query.orderBy('created_at', 'desc').orderBy('run_id', 'desc').limit(limit).execute();
    },

    findRun(runId: string) {
      return db.selectFrom('reconciliation_runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
    },

    /** A page of a run's items after `afterItem`, in order; only these statuses when given. */
    items(runId: string, page: { afterItem: number; limit: number; statuses?: readonly string[] }) {
      let query = db
        .selectFrom('reconciliation_items')
        .selectAll()
        .where('run_id', '=', runId)
        .where('item_no', '>', page.afterItem);
      if (page.statuses !== undefined) query = query.where('status', 'in', [...page.statuses]);
      return query.orderBy('item_no').limit(page.limit).execute();
    },

    findItem(runId: string, itemNo: number) {
      return db
        .selectFrom('reconciliation_items')
        .selectAll()
        .where('run_id', '=', runId)
        .where('item_no', '=', itemNo)
        .executeTakeFirst();
    },

    /** Marks an unresolved item resolved; undefined when it already was. */
    markResolved(
      runId: string,
      itemNo: number,
      resolution: { at: Date; by: string; reason: string; transferId: string | null },
    ) {
      return db
        .updateTable('reconciliation_items')
        .set({
          resolved_at: resolution.at,
          resolved_by: resolution.by,
          resolution_reason: resolution.reason,
          resolution_transfer_id: resolution.transferId,
        })
        .where('run_id', '=', runId)
        .where('item_no', '=', itemNo)
        .where('resolved_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
    },
  };
}
