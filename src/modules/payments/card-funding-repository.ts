import { sql, type Selectable, type Transaction } from 'kysely';
import type { CardFundingConsentsTable, CardFundingsTable, PaymentTables, PaymentsDb } from './tables.js';

/** The SQL of card funding (issue #28): funding rows, consents between funders and recipients. */

export type CardFundingRow = Selectable<CardFundingsTable>;
type Executor = PaymentsDb | Transaction<PaymentTables>;

export interface NewCardFunding {
  fundingId: string;
  txRef: string;
  funderUserId: string;
  recipientUserId: string;
  amountMinor: bigint;
  currency: 'USD' | 'EUR';
  /** What it counts against the limits in US cents, when not its own amount (EUR). */
  limitUsdMinor?: bigint;
  /** A EUR funding's conversion to XAF, fixed now. */
  conversion?: FundingConversion;
}

/** The terms a EUR funding is converted to XAF with, fixed when it is created. */
export interface FundingConversion {
  rate: string;
  rateAt: Date;
  rateSource: string;
  spreadBps: number;
  creditMinor: bigint;
  spreadMinor: bigint;
  roundingMinor: bigint;
  bridgeMinor: bigint;
}

/** What a day's card fundings add up to, for the limits (failed ones do not count). */
export interface DailyTotals {
  funderMinor: bigint;
  recipientMinor: bigint;
}

export function createCardFundingRepository(db: PaymentsDb) {
  return {
    transaction: <T>(work: (trx: Transaction<PaymentTables>) => Promise<T>) => db.transaction().execute(work),

    /** Serialises the limit check of one funder and of one recipient (both, in a fixed order). */
    async lockParties(trx: Executor, funderUserId: string, recipientUserId: string): Promise<void> {
      const keys = [...new Set([funderUserId, recipientUserId])].sort();
      for (const key of keys)
        await sql`SELECT pg_advisory_xact_lock(hashtext(${`card-funding:${key}`}))`.execute(trx);
    },

    async dailyTotals(
      trx: Executor,
      funderUserId: string,
      recipientUserId: string,
      since: Date,
    ): Promise<DailyTotals> {
      const row = await trx
        .selectFrom('card_fundings')
        .select([
          sql<string>`coalesce(sum(coalesce(limit_usd_minor, amount_minor)) FILTER (WHERE funder_user_id = ${funderUserId}), 0)`.as(
            'funder',
          ),
          sql<string>`coalesce(sum(coalesce(limit_usd_minor, amount_minor)) FILTER (WHERE recipient_user_id = ${recipientUserId}), 0)`.as(
            'recipient',
          ),
        ])
        .where('created_at', '>=', since)
        .where('status', '!=', 'FAILED')
        .where((eb) =>
          eb.or([eb('funder_user_id', '=', funderUserId), eb('recipient_user_id', '=', recipientUserId)]),
        )
        .executeTakeFirstOrThrow();
      return { funderMinor: BigInt(row.funder), recipientMinor: BigInt(row.recipient) };
    },

    /** Inserts the funding once; a retry (same id) finds the first row. */
    async insert(trx: Executor, funding: NewCardFunding): Promise<void> {
      await trx
        .insertInto('card_fundings')
        .values({
          funding_id: funding.fundingId,
          tx_ref: funding.txRef,
          funder_user_id: funding.funderUserId,
          recipient_user_id: funding.recipientUserId,
          amount_minor: funding.amountMinor,
          currency: funding.currency,
          limit_usd_minor: funding.limitUsdMinor ?? null,
          ...(funding.conversion === undefined
            ? {}
            : {
                fx_rate: funding.conversion.rate,
                fx_rate_at: funding.conversion.rateAt,
                fx_rate_source: funding.conversion.rateSource,
                fx_spread_bps: funding.conversion.spreadBps,
                credit_minor: funding.conversion.creditMinor,
                spread_minor: funding.conversion.spreadMinor,
                rounding_minor: funding.conversion.roundingMinor,
                bridge_minor: funding.conversion.bridgeMinor,
              }),
        })
        .onConflict((conflict) => conflict.column('funding_id').doNothing())
        .execute();
    },

    find: (fundingId: string, trx: Executor = db) =>
      trx
        .selectFrom('card_fundings')
        .selectAll()
        .where('funding_id', '=', fundingId)
        .executeTakeFirst() as Promise<CardFundingRow | undefined>,

    findByTxRef: (txRef: string) =>
      db.selectFrom('card_fundings').selectAll().where('tx_ref', '=', txRef).executeTakeFirst() as Promise<
        CardFundingRow | undefined
      >,

    async setCheckout(fundingId: string, link: string): Promise<void> {
      await db
        .updateTable('card_fundings')
        .set({ checkout_url: link, updated_at: new Date() })
        .where('funding_id', '=', fundingId)
        .execute();
    },

    /** Moves a PENDING funding to its end; false when it had already ended (a duplicate). */
    async finish(
      fundingId: string,
      change: {
        status: 'CREDITED' | 'FAILED' | 'REVIEW';
        providerTransactionId: string;
        feeMinor?: bigint;
        failureReason?: string;
        at: Date;
      },
    ): Promise<boolean> {
      const result = await db
        .updateTable('card_fundings')
        .set({
          status: change.status,
          provider_transaction_id: change.providerTransactionId,
          fee_minor: change.feeMinor ?? null,
          failure_reason: change.failureReason ?? null,
          credited_at: change.status === 'CREDITED' ? change.at : null,
          updated_at: change.at,
        })
        .where('funding_id', '=', fundingId)
        .where('status', '=', 'PENDING')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** PENDING fundings created before `before`, oldest first (the sweep re-reads them). */
    pendingBefore: (before: Date, after: Date, limit: number) =>
      db
        .selectFrom('card_fundings')
        .select('funding_id')
        .where('status', '=', 'PENDING')
        .where('created_at', '<', before)
        .where('created_at', '>', after)
        .orderBy('created_at')
        .limit(limit)
        .execute(),

    listForUser: (userId: string, limit: number) =>
      db
        .selectFrom('card_fundings')
        .selectAll()
        .where((eb) => eb.or([eb('funder_user_id', '=', userId), eb('recipient_user_id', '=', userId)]))
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute() as Promise<CardFundingRow[]>,

    consent: (recipientUserId: string, funderUserId: string, trx: Executor = db) =>
      trx
        .selectFrom('card_funding_consents')
        .selectAll()
        .where('recipient_user_id', '=', recipientUserId)
        .where('funder_user_id', '=', funderUserId)
        .executeTakeFirst(),

    async requestConsent(recipientUserId: string, funderUserId: string): Promise<void> {
      await db
        .insertInto('card_funding_consents')
        .values({ recipient_user_id: recipientUserId, funder_user_id: funderUserId, status: 'requested' })
        .onConflict((conflict) => conflict.columns(['recipient_user_id', 'funder_user_id']).doNothing())
        .execute();
    },

    async decideConsent(
      recipientUserId: string,
      funderUserId: string,
      status: 'granted' | 'refused',
      at: Date,
    ): Promise<CardFundingConsentsTable['status'] | undefined> {
      return db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('card_funding_consents')
          .select('status')
          .where('recipient_user_id', '=', recipientUserId)
          .where('funder_user_id', '=', funderUserId)
          .forUpdate()
          .executeTakeFirst();
        if (before === undefined) return undefined;
        await trx
          .updateTable('card_funding_consents')
          .set({ status, decided_at: at })
          .where('recipient_user_id', '=', recipientUserId)
          .where('funder_user_id', '=', funderUserId)
          .execute();
        return before.status;
      });
    },

    consentsOf: (recipientUserId: string, limit: number) =>
      db
        .selectFrom('card_funding_consents')
        .selectAll()
        .where('recipient_user_id', '=', recipientUserId)
        .orderBy('requested_at', 'desc')
        .limit(limit)
        .execute(),

    /** Whether the recipient's wallet in this currency is frozen by an admin (no top-up lands then). */
    async walletFrozen(userId: string, currency: 'USD' | 'XAF'): Promise<boolean> {
      const row = await db
        .selectFrom('wallets')
        .select('status')
        .where('user_id', '=', userId)
        .where('currency', '=', currency)
        .executeTakeFirst();
      return row?.status === 'frozen';
    },
  };
}

export type CardFundingRepository = ReturnType<typeof createCardFundingRepository>;
